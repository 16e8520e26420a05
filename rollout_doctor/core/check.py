"""Check one file: read it (with the history it inherits, for a fork) and run the rules; no terminal.

``check_file`` judges a file as Codex would resume it: a fork or revert branch (lineage.py) is read
after its parents' parts, so a defect it inherits is found, and reported with the parent file and
line it lives in. ``fix_file`` and ``fix_files`` (fixer.py) repair, a thread at a time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.formats.codex import home as codex_home
from rollout_doctor.formats.codex.facts import LineKind
from rollout_doctor.core.fixes import TOP, Applicability, Edit, Fix, Op, applicable
from rollout_doctor.formats.codex.lineage import Ancestry, Lineages
from rollout_doctor.core.model import Inherited, Rollout, read_rollout
from rollout_doctor.formats.codex.rules import Context, Diagnostic, Options, active_rules

if TYPE_CHECKING:
    from rollout_doctor.formats.codex.projection import ProjectionReset

# What only fixing needs (the store, SQLite, the diff's summaries) is imported there: check FILE runs
# before every resume, and these imports would be a quarter of its time (bench/benchmark.py, single).


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


@dataclass(frozen=True)
class ThreadInfo:
    """Which thread a file belongs to and the files whose history it continues (root first)."""

    thread_id: str | None
    rollout_id: str | None
    parents: tuple[tuple[Path, str | None, int, int], ...] = ()  # (path, rollout id, end byte, end ordinal)
    problem: str | None = None


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
    backup: Path | None = None  # the transaction's folder in the backup store
    codex_history: ProjectionReset | None = None  # Codex's SQLite projection of the thread, reset after a write
    passes: int = 0
    thread: ThreadInfo | None = None
    target: str | None = None  # the wire it was judged for
    role: str = "requested"  # "child": not asked about, rewritten because a parent it continues was
    in_progress: str | None = None  # a running Codex holds it: who (its in-flight turn is not judged)
    held: str | None = None  # why safe fixes were not written (they would remove the meta or most of the file)
    interrupted: bool = False  # a signal arrived while it was being written; the run stopped after it

    @property
    def problems(self) -> list[Diagnostic]:
        return self.diagnostics if self.remaining is None else self.remaining

    def held_back(self, unsafe: bool) -> list[Diagnostic]:
        return [d for d in self.problems if d.fix is not None and not applicable(d.fix, unsafe)
                and d.fix.applicability is Applicability.UNSAFE]


# --- reading a file as Codex would resume it ----------------------------------------------------------


def open_thread(path: Path, lineages: Lineages | None = None,
                overrides: dict[Path, tuple[Path, dict[Path, Inherited]]] | None = None) -> Rollout:
    """The model of ``path`` after the parts of its parents (lineage.py). ``overrides`` replaces a
    parent's bytes and cut by a planned version (fixer.py, while a thread is being fixed)."""
    lineages = lineages or Lineages()
    ancestry = lineages.ancestry(path)
    return read_rollout(path, inherited_of(ancestry, overrides or {}), ancestry.problem)


def inherited_of(ancestry: Ancestry, overrides: dict[Path, tuple[Path, dict[Path, Inherited]]]) -> list[Inherited]:
    out = []
    segments = ancestry.segments
    for n, segment in enumerate(segments[:-1]):
        assert segment.cut is not None
        part = Inherited(segment.path, segment.cut)
        planned = overrides.get(Path(os.path.realpath(segment.path)))
        if planned is not None:
            child = Path(os.path.realpath(segments[n + 1].path))
            part = planned[1].get(child, Inherited(segment.path, segment.cut, planned[0]))
        out.append(part)
    return out


def thread_info(model: Rollout, ancestry: Ancestry | None) -> ThreadInfo:
    name = codex_home.parse_name(model.name_path)
    meta_id = model.meta.id if model.meta is not None and isinstance(model.meta.id, str) else None
    parents: list[tuple[Path, str | None, int, int]] = []
    if ancestry is not None:
        parents = [(s.path, s.rollout_id, s.cut.end_byte_offset, s.cut.end_ordinal_exclusive)
                   for s in ancestry.parents if s.cut is not None]
    return ThreadInfo(meta_id or (name.thread_id if name else None), name.rollout_id if name else meta_id,
                      tuple(parents), ancestry.problem if ancestry is not None else None)


def options_for(options: Options, model: Rollout) -> Options:
    """``options`` with the wire decided: given, or from the user's config for this session."""
    if options.target is not None:
        return options
    from rollout_doctor.formats.codex.config import session_wire

    provider = model.meta.model_provider if model.meta is not None else None
    return replace(options, target=session_wire(provider, codex_home.home_of(model.name_path)))


# --- judging -------------------------------------------------------------------------------------------


def check_model(model: Rollout, options: Options) -> list[Diagnostic]:
    """Every rule's findings, in line order. For a fork, each is located in the file its line is in, and
    a fix that would have to edit a parent is dropped (the parent's own fix reaches this file)."""
    ctx = Context(model, options)
    found: list[Diagnostic] = []
    for rule in active_rules(options):
        found.extend(rule.check(ctx))
    found.sort(key=lambda d: (d.line, d.code, d.call_id or ""))
    if model.own_start == 0:
        return found
    return [located(model, d) for d in found]


_LINE = re.compile(r"\bline (\d+)\b")


def located(model: Rollout, d: Diagnostic) -> Diagnostic:
    """``d`` as the reader of the fork's own file sees it: lines numbered in the file they are in (rules
    number them as the model does, parents' lines first), and fixes confined to this file."""
    where, line = model.locate(d.line)
    fix, alternative = own_fix(model, d.fix), own_fix(model, d.alternative)

    parent = model.spans[-2].path if len(model.spans) > 1 else None

    def relabel(match: re.Match[str]) -> str:
        path, local = model.locate(int(match[1]) - 1)
        if path is None:
            return f"line {local + 1}"
        return f"line {local + 1} of the parent" if path == parent else f"line {local + 1} of {path.name}"

    message = _LINE.sub(relabel, d.message)
    if fix is not None:
        fix = Fix(_LINE.sub(relabel, fix.title), fix.applicability, fix.edits)
    if alternative is not None:
        alternative = Fix(_LINE.sub(relabel, alternative.title), alternative.applicability, alternative.edits)
    if where is not None:
        message = f"inherited: {message}"
        if d.fix is not None and fix is None:
            message += " (fixing the parent fixes it here too)"
    return replace(d, line=line, path=where, message=message, fix=fix, alternative=alternative)


def own_fix(model: Rollout, fix: Fix | None) -> Fix | None:
    """``fix`` if it only edits the file's own lines; an insertion or move anchored in the inherited part
    lands just after the file's first line (its session_meta) when no item stands between the anchor and
    the end of that part, which leaves the order of what the model is sent unchanged. Else None."""
    if fix is None or model.own_start == 0:
        return fix
    start = model.own_start
    edits = []
    for edit in fix.edits:
        if edit.line < start and edit.op is not Op.INSERT:
            return None
        anchor = edit.anchor
        if anchor is not None and anchor < start:
            if anchor == TOP:
                anchor = start - 1  # the top of this file: just before its first line
            elif _no_item_after(model, anchor):
                anchor = start
            else:
                return None
            line = anchor if edit.op is Op.INSERT else edit.line
            edit = Edit(edit.op, line, anchor, edit.content, edit.note)
        edits.append(edit)
    return Fix(fix.title, fix.applicability, tuple(edits))


def _no_item_after(model: Rollout, anchor: int) -> bool:
    return not any(model.kinds[line] in (LineKind.RESPONSE_ITEM, LineKind.COMPACTED)
                   for line in range(anchor + 1, model.own_start))


def check_file(path: Path, options: Options, read: Callable[[Path], Rollout] | None = None,
               lineages: Lineages | None = None, live: str | None = None) -> FileReport:
    """Check one file. ``read`` builds its model (rollout_doctor.core.parallel passes one that puts together
    ranges indexed by several workers); by default the file is read with the history it inherits.
    ``live`` names the running Codex holding it: the turn it is writing is not judged."""
    report = FileReport(path, in_progress=live)
    try:
        lineages = lineages or Lineages()
        ancestry = None
        if read is None:
            ancestry = lineages.ancestry(path)
            model = read_rollout(path, inherited_of(ancestry, {}), ancestry.problem)
        else:
            model = read(path)
        with model:
            report.generation = model.generation
            report.cli_version = model.cli_version
            report.thread = thread_info(model, ancestry)
            effective = options_for(options, model)
            report.target = effective.target
            report.diagnostics = check_model(model, effective)
            if live is not None:
                report.diagnostics = settled(model, report.diagnostics)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop a scan of many
        report.error = error_message(path, exc)
    return report


IN_FLIGHT_RULES = frozenset({"orphan-call", "interleaved-message", "chat-adjacency"})


def settled(model: Rollout, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The problems of a session a running Codex is writing, less what its current turn has in flight: a
    call still waiting for its output, a message typed while it waits, a last line still being written."""
    turn = current_turn_start(model)
    last = len(model) - 1 - model.own_start
    out = []
    for d in diagnostics:
        own = d.path is None
        if own and d.rule in IN_FLIGHT_RULES and d.line + model.own_start >= turn:
            continue
        if own and d.rule == "invalid-line" and d.line == last and model.terminator(len(model) - 1) == b"":
            continue
        out.append(d)
    return out


def current_turn_start(model: Rollout) -> int:
    """The first line of the turn a live session is in: its last ``task_started`` event or real user
    message (0.77.0 to 0.171.0 write both as a turn begins)."""
    from rollout_doctor.formats.codex.facts import Item, ItemKind
    from rollout_doctor.formats.codex.history import starts_user_turn

    for line in range(len(model) - 1, model.own_start - 1, -1):
        record = model.records.get(line)
        if isinstance(record, Item) and record.kind is ItemKind.MESSAGE and starts_user_turn(record):
            return line
        if model.kinds[line] == LineKind.EVENT and b'"type":"task_started"' in model.head(line, 4096):
            return line
    return model.own_start


# --- errors --------------------------------------------------------------------------------------------


def is_expected(exc: BaseException) -> bool:
    """Failures that are the file's or the system's, not a bug: I/O, a corrupt .zst, an unsafe backup
    location. Anything else escaping the rules is a bug in rollout-doctor: hostile input must come out
    as diagnostics, so tests (tests/test_fuzz.py) treat any ``error`` on readable input as a failure."""
    from rollout_doctor.store import RefusedToWrite, WriteError

    if isinstance(exc, (OSError, WriteError, RefusedToWrite, FixLoopError)):
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
    return text if text.startswith(str(path)) else f"{path}: {text}"


def fix_file(path: Path, options: Options, dry_run: bool = False, want_diff: bool = True,
             force: bool = False) -> FileReport:
    """Fix one file (and, in the same transaction, the forks whose history its fix changes)."""
    from rollout_doctor.core.fixer import fix_files

    return next(iter(fix_files([path], options, dry_run=dry_run, want_diff=want_diff, force=force)))


__all__ = ["Change", "FileReport", "FixLoopError", "LineKind", "check_file", "check_model", "fix_file"]
