"""The fix loop of one file: check, apply the compatible fixes, check again, until nothing is left.

It works like ruff's: each pass applies the applicable fixes of the lowest phase that has any
(``select_compatible`` drops those that overlap), checks the result again, and gives up loudly after
``MAX_PASSES``. A pass over a file that stands alone is laid out and not written (planned.py): its
bytes are read from the original on demand, and only the last pass is written, once, copying what the
fixes leave alone as byte ranges (rewrite.py). Any other pass is streamed to a private temporary file.
Either way its index is taken from the one before, reading only the lines it wrote anew (derived.py),
so memory stays flat and a fix costs little more than a copy for any size of file. Each line of the result remembers which original line it
came from, which gives an exact diff, and tells where a fork's cut moved to (cuts.py).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.core import heap
from rollout_doctor.core.check import check_model
from rollout_doctor.core.errors import FixLoopError
from rollout_doctor.core.fixes import (
    TOP,
    Fix,
    Op,
    Pieces,
    applicable,
    line_numbers,
    plan,
    select_compatible,
)
from rollout_doctor.core.model import Model
from rollout_doctor.core.planned import Planned
from rollout_doctor.core.provenance import Notes, follow, follow_lines
from rollout_doctor.core.rules import Diagnostic, Options

if TYPE_CHECKING:
    from concurrent.futures import Future

    from rollout_doctor.core.format import Format

MAX_PASSES = 32
HOLD_FRACTION = 0.5  # safe fixes that would remove more of a file's bytes than this are held back


@dataclass
class Loop:
    """What the fix loop made of one file: the last version (a scratch file, or the original when
    nothing changed) and how each of its lines maps to the original's. Lines are numbered in the file
    (from 0), not in the model: a fork's inherited part may change between passes (a pass that mends
    its pointer into its parent brings the parent's lines in)."""

    original: Model | None  # kept for the diff, or closed
    current: Model
    provenance: array  # result line -> original line, -1 for new lines (empty when only ``tracked`` is followed)
    notes: Notes  # result line -> note of an inserted or changed line
    before: Shape | None = None  # what the original held, for held() (the original itself may be closed)
    applied: list[Fix] = field(default_factory=list)
    remaining: list[Diagnostic] = field(default_factory=list)
    passes: int = 0
    written: bool = False  # a pass was written: ``current`` is a new version
    digest: Future[str] | None = None  # the sha256 of ``current``'s file, when it is being taken already
    has_header: bool | None = None  # whether ``current`` holds the header, once its index may be gone
    # Result line -> original line of the original's unreadable lines only (held() asks which are kept),
    # when nothing else reads the provenance (no diff, no child's cut): None when ``provenance`` is followed.
    tracked: dict[int, int] | None = None

    def close(self) -> None:
        for model in (self.original, self.current):
            if model is not None:
                model.close()


def run_loop(fmt: Format, original: Model, read: Callable[[Path], Model], options: Options, workdir: Path,
             tag: str, cuts: list[int], want_diff: bool, checked: list[Diagnostic] | None = None) -> Loop:
    """Fix ``original`` (its own lines) until nothing applicable is left. ``read`` indexes a pass's file
    with the same inherited history; ``cuts`` are the file's lines before which a child's cut lies (a
    fix must not carry a line across one), followed from pass to pass. ``checked``: what checking
    ``original`` with ``options`` found, when the caller has it already."""
    from rollout_doctor.core.cuts import cut_in

    loop = _start(original, want_diff or bool(cuts))
    diagnostics = check_model(fmt, original, options) if checked is None else checked
    planned = Planned(original)
    for n in range(MAX_PASSES):
        heap.give_back()  # what the check left
        protected = [loop.current.own_start + cut_in(loop.provenance, cut) for cut in cuts]
        fixes = select_compatible(next_phase(fmt, diagnostics, options.unsafe_fixes, protected))
        if not fixes:
            break
        if n == 0:
            planned.compact()
        current = loop.current
        the_plan = plan(len(current), [e for f in fixes for e in f.edits])
        starts = [s for s in (the_plan.first_change, the_plan.renumber_from) if s is not None]
        if starts:
            current.renumber(the_plan.pieces, min(starts))
        if not the_plan.changed:
            break
        loop.applied.extend(fixes)
        out_path = workdir / f"{tag}-pass{n}.jsonl"
        pieces = the_plan.pieces.tail(current.own_start)
        _follow(loop, pieces, current.own_start)
        following = _next_version(fmt, planned, current, pieces, out_path)
        # Memory stays flat: only the original (for the diff, or to write the planned passes from) and
        # the newest pass are kept; on a 1 GB rollout a model is 60 MB.
        del the_plan, fixes, pieces
        if current is not original or not want_diff:
            _let_go(loop, current, planned)
        loop.current = following if following is not None else read(out_path)
        heap.give_back()  # what laying out and indexing the pass left
        loop.current.named = original.name_path
        loop.written = True
        loop.passes = n + 1
        before, diagnostics = diagnostics, check_model(fmt, loop.current, options)
        broken = made_worse(fmt, before, diagnostics)
        if broken:
            raise FixLoopError(f"{original.name_path}: a fix would have made new {broken} problems, which no fix "
                               "may make; nothing written")
    else:
        raise FixLoopError(f"{original.name_path}: fixes did not settle after {MAX_PASSES} passes; nothing written")
    loop.remaining = diagnostics
    if loop.written:
        loop.has_header = loop.current.has_header()
        if not want_diff and not cuts:
            # Nothing reads the last version's index again (no diff, no child's cut to follow): it goes
            # before that version is written, which is then no peak of a huge fix's memory.
            current = loop.current
            current.kinds, current.records, current.ordinals = bytearray(), {}, array("q")
            heap.give_back()
    loop.digest = planned.write(loop.current)
    return loop


def _start(original: Model, followed: bool) -> Loop:
    """The loop before its first pass. Each line's provenance (an array a line, made again each pass) is
    for the diff and for a child's cut (``followed``); without them only the unreadable lines' are
    followed (2 to 3 MB and 0.2 s of a 1 GB fix)."""
    lines = len(original) - original.own_start
    shape = Shape.of(original)
    return Loop(original, original, line_numbers(lines, range(lines) if followed else ()), Notes(), shape,
                tracked=None if followed else {line: line for line in shape.invalid})


def _follow(loop: Loop, pieces: Pieces, shift: int) -> None:
    if loop.tracked is None:
        loop.provenance, loop.notes = follow(pieces, shift, loop.provenance, loop.notes)
    else:
        loop.tracked = follow_lines(pieces, shift, loop.tracked)


def _next_version(fmt: Format, planned: Planned, current: Model, pieces: Pieces, out_path: Path) -> Model | None:
    """The model of the pass of ``pieces`` over ``current``, to be written at ``out_path``: laid out and
    not written when it is a pass over the original or over passes laid out before it (planned.py);
    else written, after what was laid out before it, and its index derived where the file stands
    alone (only what the pass wrote anew is read); None when it must be read whole, with the history
    it inherits."""
    from rollout_doctor.core.derived import derivable, derive
    from rollout_doctor.core.rewrite import write_pieces

    following = planned.lay_out(fmt, current, pieces, out_path)
    if following is not None:
        return following
    planned.write(current)
    with open(out_path, "w+b") as out:
        written = write_pieces(current, pieces, out)
    return derive(fmt, current, pieces, written, out_path) if derivable(current) else None


def _let_go(loop: Loop, current: Model, planned: Planned) -> None:
    """Free the version a pass was made from: its index, and its file unless it is the original (the
    caller holds that; planned passes read their bytes from it, by its offsets and ordinals)."""
    current.kinds, current.records = bytearray(), {}
    if current is planned.original and planned.active:
        return
    current.close()
    current.offsets, current.ordinals = array("q"), array("q")
    if current is not loop.original:
        current.path.unlink(missing_ok=True)
    else:
        loop.original = None


def made_worse(fmt: Format, before: list[Diagnostic], after: list[Diagnostic]) -> str | None:
    """The name of an invariant rule (``INVARIANT``) that reports more after a pass than before it."""
    for rule in fmt.rules:
        if rule.invariant and sum(d.rule == rule.name for d in after) > sum(d.rule == rule.name for d in before):
            return rule.name
    return None


def next_phase(fmt: Format, diagnostics: list[Diagnostic], unsafe: bool, protected: list[int]) -> list[Fix]:
    """The applicable fixes of the lowest phase that has any, less those crossing a child's cut."""
    candidates = [(fmt.rules.phase(d.rule), d.fix) for d in diagnostics
                  if d.fix is not None and applicable(d.fix, unsafe) and not crosses(d.fix, protected)]
    if not candidates:
        return []
    lowest = min(phase for phase, _fix in candidates)
    return [fix for phase, fix in candidates if phase == lowest]


def crosses(fix: Fix, cuts: list[int]) -> bool:
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


@dataclass(frozen=True)
class Shape:
    """What ``held`` needs of the original file: whether it held its header (readable, or a damaged
    line that still names one), and the size of each unreadable line."""

    had_header: bool
    total: int
    invalid: dict[int, int]  # file line -> bytes, for the lines the client cannot read

    @classmethod
    def of(cls, model: Model) -> Shape:
        start = model.own_start
        invalid = {line - start: model.offsets[line + 1] - model.offsets[line] for line in model.own_lines
                   if model.unreadable(line)}
        had_header = model.has_header() or any(model.mentions_header(line + start) for line in invalid)
        return cls(had_header, model.size - model.offsets[start], invalid)


def held(loop: Loop, options: Options) -> str | None:
    """Why the result must not be written with safe fixes only: it lost the file's header, or most of
    its bytes went as unreadable lines (a file that is mostly not records is no session to repair by
    deleting them: `fix` of a text file named like a rollout used to leave it empty)."""
    shape = loop.before
    if options.unsafe_fixes or shape is None:
        return None
    has_header = loop.has_header if loop.has_header is not None else loop.current.has_header()
    if shape.had_header and not has_header:
        return (f"the safe fixes would remove the {loop.current.header_name} line; nothing written "
                "(`fix --unsafe-fixes` writes them)")
    # Only the unreadable lines are looked up: a set of every line kept was 28 MB of a 1 GB fix's peak.
    kept = set(shape.invalid).intersection(loop.provenance if loop.tracked is None else loop.tracked.values())
    total = shape.total
    lost = sum(size for line, size in shape.invalid.items() if line not in kept)
    if total and lost > HOLD_FRACTION * total:
        return (f"the safe fixes would remove {lost * 100 // total}% of the file's bytes as unreadable lines; "
                "nothing written (`fix --unsafe-fixes` writes them)")
    return None
