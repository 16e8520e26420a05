"""Check and fix one file: the library's entry points, with no terminal in them.

The fix loop works like ruff's: check, apply the compatible applicable fixes, check the result again,
until nothing applicable is left; it gives up loudly after ``MAX_PASSES``. Every pass streams the
new version to a private temporary file and indexes that, so memory stays flat for any size of file.
Each line of the result remembers which original line it came from, which gives an exact diff.
"""

from __future__ import annotations

import bisect
import os
import shutil
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.facts import LineKind
from rollout_doctor.fixes import Applicability, Fix, applicable, plan, select_compatible
from rollout_doctor.lines import split_terminator
from rollout_doctor.model import Rollout, read_rollout, thread_id_from_name
from rollout_doctor.rules import RULES, Context, Diagnostic, Options, active_rules

if TYPE_CHECKING:
    from rollout_doctor.codex_state import ProjectionReset

# What only fix_file needs (the writer, SQLite, the diff's summaries) is imported there: check FILE runs
# before every resume, and these imports would be a quarter of its time (bench/benchmark.py, single).

MAX_PASSES = 32
PHASES = {rule.name: rule.phase for rule in RULES}


def forget_projection(*args: object, **kwargs: object) -> ProjectionReset | None:
    """rollout_doctor.codex_state.forget_projection, imported when a fix is written (SQLite)."""
    from rollout_doctor.codex_state import forget_projection as forget

    return forget(*args, **kwargs)  # type: ignore[arg-type]


class FixLoopError(RuntimeError):
    pass


@dataclass
class Change:
    """One line of the diff between the original and the fixed file."""

    kind: str  # "insert", "remove", "move", "modify"
    old_line: int | None  # 1-based, in the original
    new_line: int | None  # 1-based, in the result
    summary: str
    note: str = ""


@dataclass
class FileReport:
    path: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)  # what check found (before any fix)
    remaining: list[Diagnostic] | None = None  # after fixing; None for a plain check
    applied: list[Fix] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    generation: str | None = None
    cli_version: str | None = None
    error: str | None = None
    refused: str | None = None
    warnings: list[str] = field(default_factory=list)  # e.g. what --force risked
    written: bool = False
    backup: Path | None = None
    codex_history: ProjectionReset | None = None  # Codex's SQLite projection of the thread, reset after a write
    passes: int = 0

    @property
    def problems(self) -> list[Diagnostic]:
        return self.diagnostics if self.remaining is None else self.remaining

    def held_back(self, unsafe: bool) -> list[Diagnostic]:
        return [d for d in self.problems if d.fix is not None and not applicable(d.fix, unsafe)
                and d.fix.applicability is Applicability.UNSAFE]


def check_model(model: Rollout, options: Options) -> list[Diagnostic]:
    ctx = Context(model, options)
    found: list[Diagnostic] = []
    for rule in active_rules(options):
        found.extend(rule.check(ctx))
    found.sort(key=lambda d: (d.line, d.code, d.call_id or ""))
    return found


def check_file(path: Path, options: Options, read: Callable[[Path], Rollout] = read_rollout) -> FileReport:
    """Check one file. ``read`` builds its model (rollout_doctor.parallel passes one that puts together
    ranges indexed by several workers)."""
    report = FileReport(path)
    try:
        with read(path) as model:
            report.generation = model.generation
            report.cli_version = model.cli_version
            report.diagnostics = check_model(model, options)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop a scan of many
        report.error = error_message(path, exc)
    return report


def is_expected(exc: BaseException) -> bool:
    """Failures that are the file's or the system's, not a bug: I/O, a corrupt .zst, an unsafe backup
    location. Anything else escaping the rules is a bug in rollout-doctor: hostile input must come out
    as diagnostics, so tests (tests/test_fuzz.py) treat any ``error`` on readable input as a failure."""
    from rollout_doctor.writer import WriteError

    if isinstance(exc, (OSError, WriteError, FixLoopError)):
        return True
    return type(exc).__module__.startswith("zstandard") or type(exc).__name__ == "ZstdError"


def error_message(path: Path, exc: BaseException) -> str:
    """A one-line error; a bug says so, and ROLLOUT_DOCTOR_DEBUG=1 re-raises it for the traceback."""
    if is_expected(exc):
        return describe_error(path, exc)
    if os.environ.get("ROLLOUT_DOCTOR_DEBUG"):
        raise exc
    return (f"{path}: internal error, please report it (rerun with ROLLOUT_DOCTOR_DEBUG=1 for the traceback): "
            f"{type(exc).__name__}: {exc}")


def describe_error(path: Path, exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{path}: {text}"


def fix_file(path: Path, options: Options, dry_run: bool = False, want_diff: bool = True,
             force: bool = False) -> FileReport:
    """Fix one file. ``force`` rewrites it even when a running process may still write to it."""
    from rollout_doctor.synth import renumber
    from rollout_doctor.tempfiles import scratch_dir
    from rollout_doctor.writer import FileState, RefusedToWrite, commit, write_pieces

    report = FileReport(path)
    workdir = scratch_dir("fix")
    models: list[Rollout] = []
    try:
        before = None if dry_run else FileState.of(path)
        original = read_rollout(path)
        models.append(original)
        report.generation, report.cli_version = original.generation, original.cli_version
        meta_id = original.meta.id if original.meta is not None else None
        current = original
        written = False  # a pass was written: `current` is a new version, not the original
        provenance = array("q", range(len(original)))  # result line -> original line, -1 for new lines
        notes: dict[int, str] = {}  # result line -> note of an inserted or changed line
        diagnostics = check_model(original, options)
        report.diagnostics = diagnostics
        for n in range(MAX_PASSES):
            fixes = select_compatible(_next_phase(diagnostics, options.unsafe_fixes))
            if not fixes:
                break
            the_plan = plan(len(current), [e for f in fixes for e in f.edits])
            if current.generation == "paginated":
                starts = [s for s in (the_plan.first_change, the_plan.renumber_from) if s is not None]
                if starts:
                    renumber(current, the_plan.pieces, min(starts))
            if not the_plan.changed:
                break
            report.applied.extend(fixes)
            out_path = workdir / f"pass{n}.jsonl"
            with open(out_path, "wb") as out:
                write_pieces(current, the_plan.pieces, out)
            new_provenance = array("q")
            new_notes: dict[int, str] = {}
            for piece in the_plan.pieces:
                at = len(new_provenance)  # the result line this piece starts
                if piece.origin is None:
                    new_provenance.append(-1)
                    new_notes[at] = piece.note
                else:
                    new_provenance.append(provenance[piece.origin])
                    note = piece.note or notes.get(piece.origin, "")
                    if piece.ordinal is not None and not note:
                        note = "ordinal renumbered"
                    if piece.content is not None and not note:
                        note = "changed"  # every changed line carries a note: diff() relies on it
                    if note:
                        new_notes[at] = note
                # New content may hold several records (a damaged line split into the records glued in
                # it): each is a line of the result, and the ones after the first are new.
                for _extra in range(piece.content.count(b"\n") if piece.content is not None else 0):
                    new_notes[len(new_provenance)] = piece.note or "split from a damaged line"
                    new_provenance.append(-1)
            provenance, notes = new_provenance, new_notes
            # Memory stays flat: only the original (for the diff) and the newest pass are kept; on a
            # 1 GB rollout a model is 60 MB and a plan 400 000 pieces.
            del the_plan, fixes
            if current is not original or not want_diff:
                current.close()
                models.remove(current)
                if current is not original:
                    current.path.unlink(missing_ok=True)
                else:
                    original = None  # type: ignore[assignment]
            current = read_rollout(out_path)
            current.named = path
            models.append(current)
            written = True
            report.passes = n + 1
            diagnostics = check_model(current, options)
        else:
            raise FixLoopError(f"{path}: fixes did not settle after {MAX_PASSES} passes; nothing written")
        report.remaining = diagnostics
        if not written:
            return report
        if want_diff:
            report.changes = diff(original, current, provenance, notes)
        if not dry_run:
            assert before is not None
            committed = commit(path, current.path, before, force=force)
            report.backup = committed.backup
            report.warnings.extend(committed.warnings)
            report.written = True
            # Codex 0.169.0's thread history points at byte offsets and ordinals the fix just moved; once
            # forgotten it is rebuilt cleanly at the next resume (codex_state.py: how this was found).
            thread = meta_id if isinstance(meta_id, str) else thread_id_from_name(path)
            if thread is not None:
                report.codex_history = forget_projection(path, thread, committed.backup)
            if report.codex_history is not None and report.codex_history.error:
                report.warnings.append(f"{path} was fixed, but Codex's thread history of it could not be reset "
                                       f"({report.codex_history.error}); Codex will log projection warnings")
    except RefusedToWrite as exc:
        report.refused = str(exc)
        report.remaining = report.diagnostics  # nothing was written: every problem is still in the file
    except FixLoopError as exc:
        report.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop a run over many
        report.error = error_message(path, exc)
    finally:
        for model in models:
            model.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return report


def _next_phase(diagnostics: list[Diagnostic], unsafe: bool) -> list[Fix]:
    """The applicable fixes of the lowest phase that has any."""
    candidates = [(PHASES[d.rule], d.fix) for d in diagnostics if d.fix is not None and applicable(d.fix, unsafe)]
    if not candidates:
        return []
    lowest = min(phase for phase, _fix in candidates)
    return [fix for phase, fix in candidates if phase == lowest]


def _stable_lines(origins: list[int]) -> set[int]:
    """Original lines that keep their relative order: a longest increasing subsequence."""
    tails: list[int] = []
    tail_index: list[int] = []
    parent = [-1] * len(origins)
    for i, value in enumerate(origins):
        pos = bisect.bisect_left(tails, value)
        if pos == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[pos] = value
            tail_index[pos] = i
        parent[i] = tail_index[pos - 1] if pos else -1
    keep: set[int] = set()
    i = tail_index[-1] if tail_index else -1
    while i >= 0:
        keep.add(origins[i])
        i = parent[i]
    return keep


def diff(original: Rollout, result: Rollout, provenance: array, notes: dict[int, str]) -> list[Change]:
    from rollout_doctor.summary import summarize_line

    present = [o for o in provenance if o >= 0]
    stable = _stable_lines(present)
    changes: list[Change] = []
    kept = set(present)
    for old in range(len(original)):
        if old not in kept:
            changes.append(Change("remove", old + 1, None, summarize_line(original, old)))
    for new, old in enumerate(provenance):
        note = notes.get(new, "")
        if old < 0:
            changes.append(Change("insert", None, new + 1, summarize_line(result, new), note))
            continue
        if old not in stable:
            changes.append(Change("move", old + 1, new + 1, summarize_line(result, new), note))
        # Only a line a fix marked can differ (fix_file notes every changed line), so unmarked lines
        # are not read again: on a big file that would be the whole file, twice.
        elif note and split_terminator(original.raw(old))[0] != split_terminator(result.raw(new))[0]:
            changes.append(Change("modify", old + 1, new + 1, summarize_line(result, new), note))
    # Show a removed line where it stood: just after the result line of the last original line before it.
    new_of = {old: new + 1 for new, old in enumerate(provenance) if old >= 0}
    placed = sorted(new_of.items())

    def position(change: Change) -> float:
        if change.new_line is not None:
            return change.new_line
        at = bisect.bisect_left(placed, (change.old_line - 1, -1))  # type: ignore[operator]
        return (placed[at - 1][1] if at else 0) + 0.5

    changes.sort(key=position)
    return changes


__all__ = ["Change", "FileReport", "FixLoopError", "LineKind", "check_file", "check_model", "fix_file"]
