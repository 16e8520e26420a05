"""Numbers of a fix's pieces held as runs rather than an array a line (planned.py keeps them so)."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import chain, islice, repeat
from operator import sub as _sub
from typing import overload

from rollout_doctor.core.fixes import NO_ORDINAL, NoOrdinals


class Runs(Sequence[int]):
    """Numbers of pieces held as runs: each run is ``constant`` throughout, or counts up by one from its
    first. A pass's origins are runs of the original's lines between the few a fix names (``NEW``
    for new ones), and the ordinals a renumbering pass sets count up by one (``NO_ORDINAL`` where it
    sets none: items.renumber). A planned pass keeps its composed pieces until the next pass or the
    write (planned.py); on a 1 GB rollout their arrays, 4 and 8 bytes a line, were 1.6 and 3.2 MB of the
    fix's peak, where these are a few numbers. Read only, as the loops over pieces read (in order, or a
    few lines by index); ``of`` makes them from an array when they are few."""

    __slots__ = ("constant", "firsts", "length", "starts")

    def __init__(self, starts: array, firsts: array, length: int, constant: int) -> None:
        self.starts = starts  # the piece each run begins at, increasing from 0
        self.firsts = firsts  # each run's first number (``constant`` for a run that keeps it)
        self.length = length
        self.constant = constant

    @classmethod
    def of(cls, numbers: array, constant: int, most: int) -> Runs | None:
        """``numbers`` as runs, or None when there would be more than ``most`` of them."""
        length = len(numbers)
        if not length:
            return None
        view = memoryview(numbers)
        starts, firsts = array("q"), array("q")
        at = 0
        while at < length:
            if len(starts) == most:
                return None
            first = numbers[at]
            starts.append(at)
            firsts.append(first)
            at = _run_end(view, numbers.typecode, at, first, constant)
        return cls(starts, firsts, length, constant)

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, k: int) -> int: ...

    @overload
    def __getitem__(self, k: slice) -> Runs: ...

    def __getitem__(self, k: int | slice) -> int | Runs:
        if isinstance(k, slice):
            begin, end, step = k.indices(self.length)
            if step != 1:
                raise ValueError("runs are sliced in order")
            end = max(begin, end)
            if begin == end:
                return Runs(array("q"), array("q"), 0, self.constant)
            first, last = self._run(begin), self._run(end - 1)
            starts = array("q", (max(at - begin, 0) for at in self.starts[first : last + 1]))
            firsts = array("q", self.firsts[first : last + 1])
            if firsts[0] != self.constant:
                firsts[0] += begin - self.starts[first]
            return Runs(starts, firsts, end - begin, self.constant)
        if not -self.length <= k < self.length:
            raise IndexError(k)
        if k < 0:
            k += self.length
        run = self._run(k)
        first = self.firsts[run]
        return first if first == self.constant else first + k - self.starts[run]

    def taken_at(self, positions: Runs) -> Runs:
        """``self[p]`` for each ``p`` of ``positions`` (this sequence's constant where they hold theirs), as
        runs: a run of positions counting up takes a slice of these runs, with no number looked up."""
        starts, firsts = array("q"), array("q")
        for at, first, n in zip(positions.starts, positions.firsts, positions._lengths()):
            if first == positions.constant:
                starts.append(at)
                firsts.append(self.constant)
                continue
            part = self[first : first + n]
            starts.extend(at + start for start in part.starts)
            firsts.extend(part.firsts)
        return Runs(starts, firsts, positions.length, self.constant)

    def _run(self, k: int) -> int:
        return bisect_right(self.starts, k) - 1

    def _lengths(self) -> Iterator[int]:
        return map(_sub, chain(islice(self.starts, 1, None), (self.length,)), self.starts)

    def __iter__(self) -> Iterator[int]:
        constant = self.constant
        return chain.from_iterable(repeat(constant, n) if first == constant else range(first, first + n)
                                   for first, n in zip(self.firsts, self._lengths()))

    def count(self, value: object) -> int:
        if not isinstance(value, int):
            return 0
        constant = self.constant
        return sum((n if value == constant else 0) if first == constant else int(first <= value < first + n)
                   for first, n in zip(self.firsts, self._lengths()))


# Runs kept at most, as a share of the lines: past it the array is kept (it takes no more memory).
RUNS_SHARE = 16


def as_runs(numbers: array, constant: int) -> Sequence[int]:
    """A pass's origins or ordinals to keep: ``Runs`` when they fall in few (``NoOrdinals`` for
    ordinals that set none), else the array itself."""
    runs = Runs.of(numbers, constant, len(numbers) // RUNS_SHARE + 2)
    if runs is None:
        return numbers
    if constant == NO_ORDINAL and len(runs.starts) == 1 and runs.firsts[0] == NO_ORDINAL:
        return NoOrdinals(len(numbers))
    return runs


def _run_end(view: memoryview, typecode: str, at: int, first: int, constant: int) -> int:
    """Where the run that begins at ``at`` with ``first`` ends: its numbers are compared with the ones
    it would hold a chunk at a time, growing, and the first that differs is found by halving; both
    comparisons run in C (a Python step a number took 40 ms for a gigabyte's 400 000 lines)."""
    length, end, size = len(view), at + 1, 64
    while end < length:
        size = min(size, length - end)
        if first == constant:
            expected = array(typecode, [constant]) * size
        else:
            following = first + end - at
            if following <= constant < following + size:  # a count ends before the constant: a run of its own
                if following == constant:
                    return end
                size = constant - following
            try:
                expected = array(typecode, range(following, following + size))
            except OverflowError:  # the count leaves the numbers the array holds: it ends there
                if size == 1:
                    return end
                size //= 2
                continue
        got, want = view[end : end + size], memoryview(expected)
        if got == want:
            end += size
            size = min(size * 2, 1 << 16)
            continue
        low, high = 0, size  # got[:low] is as expected, got[:high] is not
        while high - low > 1:
            middle = (low + high) // 2
            if got[:middle] == want[:middle]:
                low = middle
            else:
                high = middle
        return end + low
    return length
