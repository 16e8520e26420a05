"""Fix files a thread at a time: the fix loop, the cuts of forks, and one transaction per thread.

The fix loop works like ruff's: check, apply the compatible applicable fixes, check the result again,
until nothing applicable is left; it gives up loudly after ``MAX_PASSES``. Every pass streams the new
version to a private temporary file and indexes that, so memory stays flat for any size of file. Each
line of the result remembers which original line it came from, which gives an exact diff, and tells
where a fork's cut moved to.

A thread spans files (lineage.py). A file is fixed with the history it inherits, and only its own lines
are edited. When a fix changes a file before the point where a fork or a revert branch continues it
(its cut), that child is rewritten in the same transaction (store/): its ``history_base`` follows the
record it pointed at (rule ``history-base`` does it, given the new cut) and its ordinals continue from
there (rule ``ordinal-order``). A fix that would carry a line across a child's cut is held back, since
no rewrite then keeps both histories; a transaction that would give a child it was not asked to fix a
problem the child does not have now is refused (exit 3), and nothing is written.

Padding edits to the same length, so that no child's byte offsets move (the approach of another repair
tool), was weighed: it cannot express the repairs that matter most (an inserted output, a moved
message) and it keeps ordinals wrong, so children are rewritten instead.
"""

from __future__ import annotations

import bisect
import os
import shutil
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rollout_doctor.core.check import (
    Change,
    FileReport,
    FixLoopError,
    check_model,
    error_message,
    inherited_of,
    options_for,
    thread_info,
)
from rollout_doctor.formats.codex.facts import LineKind
from rollout_doctor.core.fixes import TOP, Fix, Op, applicable, plan, select_compatible
from rollout_doctor.formats.codex.lineage import Cut, Lineages, read_head
from rollout_doctor.core.lines import split_terminator
from rollout_doctor.core.model import Inherited, Rollout, read_rollout
from rollout_doctor.formats.codex.rules import RULES, Diagnostic, Options

MAX_PASSES = 32
PHASES = {rule.name: rule.phase for rule in RULES}
HOLD_FRACTION = 0.5  # safe fixes that would remove more of a file's bytes than this are held back


def forget_projection(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
    """rollout_doctor.formats.codex.projection.forget_projection, imported when a fix is written (SQLite)."""
    from rollout_doctor.formats.codex.projection import forget_projection as forget

    return forget(*args, **kwargs)  # type: ignore[arg-type]


@dataclass
class Loop:
    """What the fix loop made of one file: the last version (a scratch file, or the original when
    nothing changed) and how each of its lines maps to the original's. Lines are numbered in the file
    (from 0), not in the model: a fork's inherited part may change between passes (a pass that mends
    its history_base brings its parent's lines in)."""

    original: Rollout | None  # kept for the diff, or closed
    current: Rollout
    provenance: array  # result line -> original line, -1 for new lines
    notes: dict[int, str]  # result line -> note of an inserted or changed line
    before: Shape | None = None  # what the original held, for _held (the original itself may be closed)
    applied: list[Fix] = field(default_factory=list)
    remaining: list[Diagnostic] = field(default_factory=list)
    passes: int = 0
    written: bool = False  # a pass was written: ``current`` is a new version

    def close(self) -> None:
        for model in (self.original, self.current):
            if model is not None:
                model.close()


def run_loop(original: Rollout, read: Callable[[Path], Rollout], options: Options, workdir: Path, tag: str,
             cuts: list[int], want_diff: bool) -> Loop:
    """Fix ``original`` (its own lines) until nothing applicable is left. ``read`` indexes a pass's file
    with the same inherited history; ``cuts`` are the file's lines before which a child's cut lies (a
    fix must not carry a line across one), followed from pass to pass."""
    loop = Loop(original, original, array("q", range(len(original) - original.own_start)), {}, Shape.of(original))
    diagnostics = check_model(original, options)
    for n in range(MAX_PASSES):
        protected = [loop.current.own_start + cut_in(loop.provenance, cut) for cut in cuts]
        fixes = select_compatible(_next_phase(diagnostics, options.unsafe_fixes, protected))
        if not fixes:
            break
        current = loop.current
        the_plan = plan(len(current), [e for f in fixes for e in f.edits])
        if current.generation == "paginated":
            starts = [s for s in (the_plan.first_change, the_plan.renumber_from) if s is not None]
            if starts:
                from rollout_doctor.formats.codex.items import renumber

                renumber(current, the_plan.pieces, min(starts))
        if not the_plan.changed:
            break
        loop.applied.extend(fixes)
        out_path = workdir / f"{tag}-pass{n}.jsonl"
        from rollout_doctor.core.rewrite import write_pieces

        with open(out_path, "wb") as out:
            write_pieces(current, the_plan.pieces[current.own_start:], out)
        loop.provenance, loop.notes = _follow(the_plan.pieces[current.own_start:], current.own_start,
                                              loop.provenance, loop.notes)
        # Memory stays flat: only the original (for the diff) and the newest pass are kept; on a
        # 1 GB rollout a model is 60 MB and a plan 400 000 pieces.
        del the_plan, fixes
        if current is not original or not want_diff:
            current.close()
            if current is not original:
                current.path.unlink(missing_ok=True)
            else:
                loop.original = None
        loop.current = read(out_path)
        loop.current.named = original.name_path
        loop.written = True
        loop.passes = n + 1
        diagnostics = check_model(loop.current, options)
    else:
        raise FixLoopError(f"{original.name_path}: fixes did not settle after {MAX_PASSES} passes; nothing written")
    loop.remaining = diagnostics
    return loop


def _follow(pieces: list, shift: int, provenance: array,  # type: ignore[type-arg]
            notes: dict[int, str]) -> tuple[array, dict[int, str]]:
    """Provenance and notes through one more pass (``pieces``: the file's own, ``shift``: the model line
    of the file's first line in the pass's model)."""
    new_provenance = array("q")
    new_notes: dict[int, str] = {}
    for piece in pieces:
        at = len(new_provenance)  # the result line this piece starts
        if piece.origin is None:
            new_provenance.append(-1)
            new_notes[at] = piece.note
        else:
            origin = piece.origin - shift
            new_provenance.append(provenance[origin])
            note = piece.note or notes.get(origin, "")
            if piece.ordinal is not None and not note:
                note = "ordinal renumbered"
            if piece.content is not None and not note:
                note = "changed"  # every changed line carries a note: diff() relies on it
            if note:
                new_notes[at] = note
        # New content may hold several records (a damaged line split into the records glued in it):
        # each is a line of the result, and the ones after the first are new.
        for _extra in range(piece.content.count(b"\n") if piece.content is not None else 0):
            new_notes[len(new_provenance)] = piece.note or "split from a damaged line"
            new_provenance.append(-1)
    return new_provenance, new_notes


def _next_phase(diagnostics: list[Diagnostic], unsafe: bool, protected: list[int]) -> list[Fix]:
    """The applicable fixes of the lowest phase that has any, less those crossing a child's cut."""
    candidates = [(PHASES[d.rule], d.fix) for d in diagnostics
                  if d.fix is not None and applicable(d.fix, unsafe) and not _crosses(d.fix, protected)]
    if not candidates:
        return []
    lowest = min(phase for phase, _fix in candidates)
    return [fix for phase, fix in candidates if phase == lowest]


def _crosses(fix: Fix, cuts: list[int]) -> bool:
    """Whether a move would carry a line from one side of a child's cut to the other (``cut``: the
    first line after it). A line moved just after the last line before a cut stays before it."""
    for edit in fix.edits:
        if edit.op is not Op.MOVE or edit.anchor is None:
            continue
        for cut in cuts:
            before = edit.line < cut
            lands_before = edit.anchor < cut - 1 or (edit.anchor == cut - 1 and before) or edit.anchor == TOP
            if before != lands_before:
                return True
    return False


# --- the cut a child continues from, after its parent changed ---------------------------------------


def cut_line(model: Rollout, offset: int) -> int | None:
    """The first model line after a cut at byte ``offset`` of the file's own bytes (Codex keeps the whole
    lines before it, dropping one the offset falls inside), or None when it lies past the file's end."""
    base = model.offsets[model.own_start]
    if offset < 0 or base + offset > model.size:
        return None
    return bisect.bisect_right(model.offsets, base + offset, model.own_start, len(model.offsets)) - 1


@dataclass(frozen=True)
class Moved:
    """Where a child's cut lies in its parent's new version, or why none keeps the child's history."""

    cut: Cut | None
    changed: bool  # the child's inherited bytes or ordinals differ
    problem: str | None = None


def cut_in(provenance: array, old: int) -> int:
    """Where a cut before original line ``old`` lies in a later version: just after the last line that
    comes from before it (lines inserted at the cut fall after it)."""
    for r in range(len(provenance) - 1, -1, -1):
        if 0 <= provenance[r] < old:
            return r + 1
    return 0


def moved_cut(loop: Loop, old: int, old_cut: Cut) -> Moved:
    """The child's cut (before the file's line ``old``) in the fixed version of its parent."""
    provenance, result = loop.provenance, loop.current
    new = cut_in(provenance, old)
    crossed = next((r for r in range(new) if provenance[r] >= old), None)
    if crossed is not None:
        return Moved(None, True, f"the fix moves line {provenance[crossed] + 1} across the point where a fork "
                                 "continues this session")
    if new == old and all(provenance[r] == r and r not in loop.notes for r in range(new)):
        return Moved(old_cut, False)
    start = result.own_start
    offset = result.offsets[start + new] - result.offsets[start]
    ordinal = next((result.ordinals[start + r] for r in range(new - 1, -1, -1) if result.ordinals[start + r] >= 0),
                   old_cut.end_ordinal_exclusive - 1)
    return Moved(Cut(offset, ordinal + 1), True)


# --- one thread ----------------------------------------------------------------------------------------


@dataclass
class Member:
    path: Path
    real: Path
    depth: int
    role: str  # "requested" or "child"
    report: FileReport
    loop: Loop | None = None
    before: object | None = None  # store.FileState when it will be written
    inherited: list[Inherited] = field(default_factory=list)
    child_cuts: dict[Path, Inherited] = field(default_factory=dict)  # real child path -> its new inherited part


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


class ThreadFix:
    """Fixing the requested files of one thread (a root and its forks), and the children their fixes
    reach; committed as one transaction."""

    def __init__(self, lineages: Lineages, options: Options, dry_run: bool, want_diff: bool, force: bool,
                 workdir: Path) -> None:
        self.lineages, self.options = lineages, options
        self.dry_run, self.want_diff, self.force = dry_run, want_diff, force
        self.workdir = workdir
        self.members: dict[Path, Member] = {}
        self.refused: str | None = None

    def add(self, path: Path, role: str) -> Member:
        real = _real(path)
        if real not in self.members:
            depth = len(self.lineages.ancestry(path).segments)
            self.members[real] = Member(path, real, depth, role, FileReport(path, role=role))
        return self.members[real]

    def run(self) -> list[Member]:
        done: set[Path] = set()
        while True:
            todo = [m for m in self.members.values() if m.real not in done]
            if not todo:
                break
            member = min(todo, key=lambda m: m.depth)
            done.add(member.real)
            try:
                self._plan(member)
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop a run over many
                member.report.error = error_message(member.path, exc)
                if member.role == "child" or any(c.role == "child" for c in self._children_planned(member)):
                    self.refused = self.refused or f"{member.path}: {member.report.error}"
        return list(self.members.values())

    def _children_planned(self, member: Member) -> list[Member]:
        return [m for m in self.members.values() if m.depth > member.depth]

    def _overrides(self) -> dict[Path, tuple[Path, dict[Path, Inherited]]]:
        return {m.real: (m.loop.current.path, m.child_cuts) for m in self.members.values()
                if m.loop is not None and m.loop.written}

    def _plan(self, member: Member) -> None:
        from rollout_doctor.store import FileState

        report = member.report
        ancestry = self.lineages.ancestry(member.path)
        member.inherited = inherited_of(ancestry, self._overrides())
        if not self.dry_run:
            member.before = FileState.of(member.path)
        original = read_rollout(member.path, member.inherited, ancestry.problem)
        report.generation, report.cli_version = original.generation, original.cli_version
        report.thread = thread_info(original, ancestry)
        options = options_for(self.options, original)
        report.target = options.target
        children = [(c, self.lineages.head(c)) for c in self.lineages.children(member.path)]
        cuts = {}
        for child, meta in children:
            base = meta.history_base if meta is not None else None
            if base is None or base.end_byte_offset is None or base.end_ordinal_exclusive is None:
                continue
            line = cut_line(original, base.end_byte_offset)
            if line is not None:
                cuts[_real(child)] = (line, Cut(base.end_byte_offset, base.end_ordinal_exclusive))
        tag = f"{len(self.members)}-{member.depth}-{abs(hash(member.real)) % 10**8}"

        first_base = original.meta.history_base if original.meta is not None else None

        def read(path: Path) -> Rollout:
            """A pass's file with the history it inherits: where its history_base now points, once a fix
            (rule history-base) has moved it."""
            inherited = member.inherited
            base = read_head(path)
            base = base.history_base if base is not None else None
            if inherited and base is not None and base.problem is None and base != first_base:
                last = inherited[-1]
                assert base.end_byte_offset is not None and base.end_ordinal_exclusive is not None
                inherited = [*inherited[:-1], Inherited(last.shown, Cut(base.end_byte_offset,
                                                                        base.end_ordinal_exclusive), last.read)]
            return read_rollout(path, inherited, ancestry.problem)

        try:
            report.diagnostics = check_model(original, options)
            loop = run_loop(original, read, options, self.workdir, tag,
                            sorted({c - original.own_start for c, _ in cuts.values()}), self.want_diff)
        except BaseException:
            original.close()
            raise
        member.loop = loop
        report.applied, report.remaining, report.passes = loop.applied, loop.remaining, loop.passes
        if loop.written:
            held = _held(loop, options)
            if held is not None:
                report.held = held
                report.remaining, report.applied = report.diagnostics, []
                loop.written = False
                return
            if self.want_diff and loop.original is not None:
                report.changes = diff(loop.original, loop.current, loop.provenance, loop.notes)
        if not loop.written:
            return
        for child, (line, old) in cuts.items():
            moved = moved_cut(loop, line - original.own_start, old)
            if moved.problem is not None:
                self.refused = self.refused or f"{member.path}: {moved.problem} ({child})"
                continue
            if moved.changed and moved.cut is not None:
                member.child_cuts[child] = Inherited(member.path, moved.cut, loop.current.path)
                known = self.members.get(child)
                self.add(child, "child" if known is None else known.role)

    def validate(self) -> str | None:
        """Why the transaction must not be written: a child not asked about would get a new problem."""
        if self.refused is not None:
            return self.refused
        for member in self.members.values():
            if member.role != "child" or member.loop is None:
                continue
            before = _keys(self._unchanged_check(member))
            after = _keys(member.loop.remaining)
            new = sorted(after - before)
            if new:
                rule, call = new[0]
                return (f"fixing its parent would give {member.path} (not asked about) a problem it does not have "
                        f"now: {rule}{f' for {call}' if call else ''}; fix both together (`rollout-doctor fix` on "
                        "the folder) or neither")
        return None

    def _unchanged_check(self, member: Member) -> list[Diagnostic]:
        from rollout_doctor.core.check import open_thread

        with open_thread(member.path, self.lineages) as model:
            return check_model(model, options_for(self.options, model))


def _keys(diagnostics: Iterable[Diagnostic]) -> set[tuple[str, str]]:
    return {(d.rule, d.call_id or "") for d in diagnostics if d.rule != "history-base"}


@dataclass(frozen=True)
class Shape:
    """What ``_held`` needs of the original file: whether it held a session_meta (readable, or a damaged
    line that still names one), and the size of each unreadable line."""

    had_meta: bool
    total: int
    invalid: dict[int, int]  # file line -> bytes, for the lines Codex cannot read

    @classmethod
    def of(cls, model: Rollout) -> Shape:
        start = model.own_start
        invalid = {line - start: model.offsets[line + 1] - model.offsets[line] for line in model.own_lines
                   if model.kinds[line] == LineKind.INVALID}
        had_meta = model.meta is not None or any(b'"session_meta"' in model.head(line + start, 1 << 16)
                                                 for line in invalid)
        return cls(had_meta, model.size - model.offsets[start], invalid)


def _held(loop: Loop, options: Options) -> str | None:
    """Why the result must not be written with safe fixes only: it lost the file's session_meta, or
    most of its bytes went as unreadable lines (a file that is mostly not records is no rollout to repair
    by deleting them: `fix` of a text file named like a rollout used to leave it empty)."""
    shape = loop.before
    if options.unsafe_fixes or shape is None:
        return None
    result = loop.current
    has_meta = any(result.kinds[line] in (LineKind.SESSION_META, LineKind.LEGACY_HEADER) for line in result.own_lines)
    if shape.had_meta and not has_meta:
        return "the safe fixes would remove the session_meta line; nothing written (--unsafe-fixes writes them)"
    kept = set(loop.provenance)
    total = shape.total
    lost = sum(size for line, size in shape.invalid.items() if line not in kept)
    if total and lost > HOLD_FRACTION * total:
        return (f"the safe fixes would remove {lost * 100 // total}% of the file's bytes as unreadable lines; "
                "nothing written (--unsafe-fixes writes them)")
    return None


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
    """The changed lines of the file's own part, numbered from its first line."""
    from rollout_doctor.formats.codex.summary import summarize_line

    old_start, new_start = original.own_start, result.own_start
    present = [o for o in provenance if o >= 0]
    stable = _stable_lines(present)
    changes: list[Change] = []
    kept = set(present)
    for old in range(len(original) - old_start):
        if old not in kept:
            changes.append(Change("remove", old + 1, None, summarize_line(original, old + old_start)))
    for new, old in enumerate(provenance):
        note = notes.get(new, "")
        if old < 0:
            changes.append(Change("insert", None, new + 1, summarize_line(result, new + new_start), note))
            continue
        if old not in stable:
            changes.append(Change("move", old + 1, new + 1, summarize_line(result, new + new_start), note))
        # Only a line a fix marked can differ (the loop notes every changed line), so unmarked lines
        # are not read again: on a big file that would be the whole file, twice.
        elif note and (split_terminator(original.raw(old + old_start))[0]
                       != split_terminator(result.raw(new + new_start))[0]):
            changes.append(Change("modify", old + 1, new + 1, summarize_line(result, new + new_start), note))
    # Show a removed line where it stood: just after the result line of the last original line before it.
    placed = sorted((old + 1, new + 1) for new, old in enumerate(provenance) if old >= 0)

    def position(change: Change) -> float:
        if change.new_line is not None:
            return change.new_line
        at = bisect.bisect_left(placed, (change.old_line - 1, -1))  # type: ignore[operator]
        return (placed[at - 1][1] if at else 0) + 0.5

    changes.sort(key=position)
    return changes


# --- many files ----------------------------------------------------------------------------------------


def fix_files(paths: list[Path], options: Options, dry_run: bool = False, want_diff: bool = True,
              force: bool = False) -> Iterator[FileReport]:
    """Fix each file, a thread at a time (the files that share a root, in the order first met); yields a
    report per file asked about as soon as its thread is done, and one per child its fix rewrote."""
    from rollout_doctor.store import signals

    lineages = Lineages()
    families: dict[Path, list[Path]] = {}
    seen: set[Path] = set()
    for path in paths:
        real = _real(path)
        if real in seen:
            continue
        seen.add(real)
        families.setdefault(_real(lineages.ancestry(path).segments[0].path), []).append(path)
    for family in families.values():
        yield from _fix_family(family, lineages, options, dry_run, want_diff, force)
        if signals.pending():
            return


def _fix_family(family: list[Path], lineages: Lineages, options: Options, dry_run: bool, want_diff: bool,
                force: bool) -> Iterator[FileReport]:
    from rollout_doctor.store.tempfiles import scratch_dir

    workdir = scratch_dir("fix")
    fix = ThreadFix(lineages, options, dry_run, want_diff, force, workdir)
    try:
        for path in family:
            fix.add(path, "requested")
        members = fix.run()
        written = [m for m in members if m.loop is not None and m.loop.written and m.report.error is None]
        refused = fix.validate() if written else None
        if refused is not None:
            for member in members:
                member.report.refused = refused if member.loop is not None else member.report.refused
                member.report.remaining = member.report.diagnostics
                member.report.applied = []
        elif written and not dry_run:
            _commit(written, force)
        for member in members:
            if member.role == "requested" or member.report.written or member.report.refused or member.report.changes:
                yield member.report
    finally:
        for member in fix.members.values():
            if member.loop is not None:
                member.loop.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _commit(members: list[Member], force: bool) -> None:
    from rollout_doctor.store import Change as StoreChange
    from rollout_doctor.store import RefusedToWrite, WriteError, commit

    changes = [StoreChange(m.path, m.loop.current.path, m.before, m.role)  # type: ignore[union-attr, arg-type]
               for m in members]
    try:
        written = commit(changes, force=force)
    except RefusedToWrite as exc:
        for m in members:
            m.report.refused, m.report.remaining, m.report.applied = str(exc), m.report.diagnostics, []
        return
    except (WriteError, OSError) as exc:
        for m in members:
            m.report.error = error_message(m.path, exc)
            m.report.remaining, m.report.applied = m.report.diagnostics, []
        return
    for m in members:
        report = m.report
        report.written, report.backup = True, written.journal.folder
        report.warnings.extend(w for w in written.warnings if str(_real(m.path)) in w)
        from rollout_doctor.formats.codex.projection import projection_key

        thread = projection_key(m.path)
        if thread is not None:
            # Codex's thread history points at byte offsets and ordinals the fix just moved; once
            # forgotten it is rebuilt cleanly at the next resume (codex_state.py: how this was found).
            report.codex_history = forget_projection(m.path, thread, written.journal.folder)
        if report.codex_history is not None and report.codex_history.error:
            report.warnings.append(f"{m.path} was fixed, but Codex's thread history of it could not be reset "
                                   f"({report.codex_history.error}); Codex will log projection warnings")
    unplaced = [w for w in written.warnings if not any(str(_real(m.path)) in w for m in members)]
    members[0].report.warnings.extend(unplaced)


def complete_interrupted(everything: bool = False) -> list:  # type: ignore[type-arg]
    """Finish what a killed fix or undo left half-done (store/__init__.py) and forget Codex's projection
    of every file it had written (the killed run never did); what was completed."""
    from rollout_doctor.formats.codex.projection import forget_projections
    from rollout_doctor.store import recover

    done = recover(everything=everything)
    for completed in done:
        forget_projections(completed.changed, completed.journal.folder)
    return done
