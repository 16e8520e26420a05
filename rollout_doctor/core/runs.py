"""Numbers of a fix's pieces held as runs rather than an array a line (planned.py keeps them so)."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import chain, compress, count, islice, repeat
from operator import add as _add
from operator import ne as _ne
from operator import sub as _sub
from typing import overload


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
        if not numbers:
            return None
        # Where a run breaks: a number that is not the one before plus one, nor ``constant`` after
        # ``constant``; and ``constant`` after any other number (it is no count, None equals nothing).
        # Found by C loops over the array (a Python loop a line was 30 ms on a gigabyte).
        view = memoryview(numbers)
        following = map({constant: constant, constant - 1: None}.get, view, map(_add, view, repeat(1)))
        breaks = list(islice(compress(count(1), map(_ne, view[1:], following)), most))
        if len(breaks) >= most:
            return None
        starts = array("q", [0])
        starts.extend(breaks)
        return cls(starts, array("q", map(numbers.__getitem__, starts)), len(numbers), constant)

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

    def _run(self, k: int) -> int:
        return bisect_right(self.starts, k) - 1

    def _lengths(self) -> Iterator[int]:
        return map(_sub, chain(islice(self.starts, 1, None), (self.length,)), self.starts)

    def __iter__(self) -> Iterator[int]:
        constant = self.constant
        return chain.from_iterable(repeat(constant, n) if first == constant else range(first, first + n)
                                   for first, n in zip(self.firsts, self._lengths()))

    def count(self, value: object) -> int:
        if value == self.constant:
            return sum(n for first, n in zip(self.firsts, self._lengths()) if first == value)
        return sum(1 for first, n in zip(self.firsts, self._lengths())
                   if first != self.constant and isinstance(value, int) and first <= value < first + n)
