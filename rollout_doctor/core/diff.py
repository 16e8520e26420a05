"""The diff of one fixed file: which lines were inserted, removed, moved or changed, and where."""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rollout_doctor.core.lines import split_terminator
from rollout_doctor.core.model import Model
from rollout_doctor.core.reports import Change

if TYPE_CHECKING:
    from rollout_doctor.core.provenance import Notes


def stable_lines(origins: list[int]) -> set[int]:
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


def diff(original: Model, result: Model, provenance: array, notes: Mapping[int, str] | Notes) -> list[Change]:
    """The changed lines of the file's own part, numbered from its first line."""
    old_start, new_start = original.own_start, result.own_start
    present = [o for o in provenance if o >= 0]
    stable = stable_lines(present)
    changes: list[Change] = []
    kept = set(present)
    for old in range(len(original) - old_start):
        if old not in kept:
            changes.append(Change("remove", old + 1, None, original.summarize(old + old_start)))
    for new, old in enumerate(provenance):
        note = notes.get(new, "")
        if old < 0:
            changes.append(Change("insert", None, new + 1, result.summarize(new + new_start), note))
            continue
        if old not in stable:
            changes.append(Change("move", old + 1, new + 1, result.summarize(new + new_start), note))
        # Only a line a fix marked can differ (the loop notes every changed line), so unmarked lines
        # are not read again: on a big file that would be the whole file, twice.
        elif note and (split_terminator(original.raw(old + old_start))[0]
                       != split_terminator(result.raw(new + new_start))[0]):
            changes.append(Change("modify", old + 1, new + 1, result.summarize(new + new_start), note))
    # Show a removed line where it stood: just after the result line of the last original line before it.
    placed = sorted((old + 1, new + 1) for new, old in enumerate(provenance) if old >= 0)

    def position(change: Change) -> float:
        if change.new_line is not None:
            return change.new_line
        at = bisect.bisect_left(placed, (change.old_line - 1, -1))  # type: ignore[operator]
        return (placed[at - 1][1] if at else 0) + 0.5

    changes.sort(key=position)
    return changes
