"""Where a child's cut lies after its parent changed.

A fork continues its parent up to a byte offset and an ordinal (thread.Cut). When a fix rewrites the
parent, the child must point at the same record in the new version; the fix loop's provenance (each
result line's original line) says where that record went. A fix that carries a line across the cut
would change one history or the other, so no cut keeps both: that is reported, and nothing written.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rollout_doctor.core.model import Model
from rollout_doctor.core.thread import Cut

if TYPE_CHECKING:
    from rollout_doctor.core.fix_loop import Loop


def cut_line(model: Model, offset: int) -> int | None:
    """The first model line after a cut at byte ``offset`` of the file's own bytes (the client keeps the
    whole lines before it, dropping one the offset falls inside), or None when it lies past the end."""
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
