"""Where the ordinal lies in each line of a file a fix renumbers, found a block of lines at a time.

A renumbered line keeps every byte but its number, which is spliced in where the format says it lies
(``Model.ordinal_spans``: for Codex, the top-level ``ordinal`` among the first members when no later
key can be one). Finding that reads the line; it is done once a fix, for all the lines its passes
renumber, and kept for the layout of each pass (planned.py) and the write of the last (rewrite.py).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from itertools import chain

from rollout_doctor.core.model import Model

WINDOW = 1 << 20  # consecutive lines are read this many bytes at a time


class Spans:
    """Where the ordinal lies in lines of a model (from the line's start), found a block of lines at a
    time (``Model.ordinal_spans``) the first time a pass renumbers them, and kept for the passes after:
    ``start`` is -1 for a line not looked at, -2 for one whose ordinal is set the long way."""

    UNKNOWN, NONE = -1, -2
    # Where an ordinal ends in its line, at most: 2 bytes a line for each of ``start`` and ``end`` (3 MB
    # of a 1 GB fix's peak at 4). Codex writes the ordinal as the second member, some 50 bytes in; one
    # found further is set the long way, as the format would set one it cannot place.
    REACH = 1 << 15

    def __init__(self, model: Model) -> None:
        self.model = model
        # Made when a line is first asked for: a pass that renumbers nothing (a line deleted, say) needs
        # none, and on a gigabyte they are 3 MB of its peak. Counted now: the fix loop empties the
        # model's kinds once a pass is derived from it (fix_loop._let_go), and keeps its offsets.
        self.lines = len(model)
        self.start = array("h")
        self.end = array("h")

    def ensure(self, lines: Iterable[int]) -> None:
        """Find the spans of ``lines`` not looked at yet, reading each run of consecutive lines a
        window at a time (the lines come in the order of the file, but for a few a fix moved)."""
        wanted = iter(lines)
        first = next(wanted, None)
        if first is None:
            return
        if len(self.start) != self.lines:
            self.start = array("h", [self.UNKNOWN]) * self.lines
            self.end = array("h", [self.UNKNOWN]) * self.lines
        start, offsets = self.start, self.model.offsets
        run: list[int] = []
        for line in chain((first,), wanted):
            if start[line] != self.UNKNOWN:
                continue
            if run and (line != run[-1] + 1 or offsets[line + 1] - offsets[run[0]] > WINDOW):
                self._find(run)
                run = []
            run.append(line)
        if run:
            self._find(run)

    def _find(self, run: list[int]) -> None:
        """The spans of consecutive lines, from one read. Each ends with a newline (only a file's last
        line may not, and it is never renumbered in place); a carriage return before it is left in the
        line, where no ordinal can be read."""
        first, last = run[0], run[-1] + 1
        bounds = self.model.offsets[first : last + 1]
        base = bounds[0]
        data = self.model.source.read(base, bounds[-1] - base)
        starts = [at - base for at in bounds]
        spans = self.model.ordinal_spans(data, list(zip(starts, [end - 1 for end in starts[1:]])))
        reach = self.REACH
        placed = [None if span is None or span[1] - begin >= reach else (span[0] - begin, span[1] - begin)
                  for span, begin in zip(spans, starts)]
        self.start[first:last] = array("h", [self.NONE if span is None else span[0] for span in placed])
        self.end[first:last] = array("h", [self.NONE if span is None else span[1] for span in placed])
