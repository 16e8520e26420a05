"""Streaming a planned version of a session file: untouched lines are copied byte for byte.

Runs of lines a plan leaves in place are copied as one byte range each by the kernel
(store/ranges.py), never read into Python. So is a stretch of lines whose ordinal alone changes and
keeps its width; each number is then written over the old one, where ordinal_spans.py found it. A
renumbered line whose number changes width is read (a window of lines at a time), spliced and written. What was written where is returned, so that the
next pass's index can be derived from this one's (derived.py) instead of reading the file again.
"""

from __future__ import annotations

import io
import os
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from rollout_doctor.core.fixes import NEW, NO_ORDINAL, Piece, Pieces
from rollout_doctor.core.index import BOM
from rollout_doctor.core.lines import Source, Spliced, split_terminator
from rollout_doctor.core.model import Model
from rollout_doctor.core.ordinal_spans import Spans
from rollout_doctor.core.runs import Runs
from rollout_doctor.store.ranges import RangeWriter

WINDOW = 1 << 20  # lines being renumbered are read this many bytes at a time
BATCH = 4096  # renumbered lines looked at together (their ordinals found, their bytes joined)
PATCH_FROM = 8  # consecutive renumbered lines copied by the kernel and patched, rather than joined
MAP_FROM = 64  # numbers written through a mapping of the output rather than a pwrite each
MAP_SPAN = 1 << 20  # bytes of the output mapped at a time to write them


@dataclass
class Rewritten:
    """Where each piece landed in the new file, and which pieces hold bytes whose facts are not known."""

    starts: array = field(default_factory=lambda: array("q"))  # the new file's offset of each piece
    size: int = 0
    # Pieces to classify again from the new file: new or changed content, a torn last line that got a
    # newline, a line whose byte order mark moved, an ordinal the format could not set alone.
    fresh: list[int] = field(default_factory=list)


class _Window:
    """Raw lines of a model, read a window of many lines at a time (one system call, not one a line)."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.start = 0
        self.data = b""

    def locate(self, line: int) -> tuple[bytes, int, int]:
        """A window holding the raw line, and where the line lies in it."""
        offsets = self.model.offsets
        start, end = offsets[line], offsets[line + 1]
        if not (self.start <= start and end <= self.start + len(self.data)):
            self.start, self.data = start, self.model.source.read(start, max(end - start, WINDOW))
            if len(self.data) < end - start:
                self.data = self.model.source.read(start, end - start)
        return self.data, start - self.start, end - self.start

    def raw(self, line: int) -> bytes:
        data, start, end = self.locate(line)
        return data[start:end]


class _Copier:
    """Where byte ranges of a model's own file come from: its descriptor, or reads when it has none
    usable (a writer that is no file, as in tests)."""

    def __init__(self, model: Model, out: BinaryIO) -> None:
        self.model = model
        self.out = out
        source = model.source
        if isinstance(source, Spliced):  # a fork's own lines are all in its last file
            self.base, _length, source = source.segments[-1]
        else:
            self.base = 0
        self.fd = source.fileno() if isinstance(source, Source) else -1
        try:
            out_fd = out.fileno()
        except (AttributeError, OSError, io.UnsupportedOperation):
            out_fd = -1
        self.writer: RangeWriter | None = None
        self.at = 0  # the output's offset of the first byte written here
        if out_fd >= 0 and self.fd >= 0:
            out.flush()
            self.at = os.lseek(out_fd, 0, os.SEEK_END)
            self.writer = RangeWriter(out_fd)
        self.position = 0

    @property
    def patchable(self) -> bool:
        return self.writer is not None

    @property
    def settled(self) -> int:
        """How many bytes the output holds for good (written, and patched where they are)."""
        return self.writer.settled if self.writer is not None else self.position

    def patch(self, changes: list[tuple[int, bytes]]) -> None:
        """Overwrite bytes already written (``(position, bytes)`` in ascending order, positions as
        ``self.position`` counts): through a mapping of the stretch where the output can be read
        (a slice assignment costs a third of a ``pwrite``), else one ``pwrite`` each."""
        assert self.writer is not None
        self.writer.flush()
        fd, at = self.writer.fd, self.at
        if len(changes) >= MAP_FROM:
            import mmap

            # A window of the output at a time: every page written through a mapping counts in the
            # process's resident memory until it is unmapped, and a batch of renumbered lines spans
            # some 10 MB (a 1 GB fix's peak, issue 14).
            start = 0
            while start < len(changes):
                first = (at + changes[start][0]) // mmap.ALLOCATIONGRANULARITY * mmap.ALLOCATIONGRANULARITY
                stop = start + 1
                while stop < len(changes) and at + changes[stop][0] + len(changes[stop][1]) - first <= MAP_SPAN:
                    stop += 1
                end = at + changes[stop - 1][0] + len(changes[stop - 1][1])
                try:
                    mapped = mmap.mmap(fd, end - first, offset=first)
                except (OSError, ValueError):
                    break  # an output open for writing only, or a system that cannot map it
                with mapped:
                    base = at - first
                    for position, data in changes[start:stop]:
                        mapped[base + position : base + position + len(data)] = data
                start = stop
            changes = changes[start:]
        for position, data in changes:
            if os.pwrite(fd, data, at + position) != len(data):
                raise OSError(f"a short write of {len(data)} bytes")

    def write(self, data: bytes) -> None:
        if self.writer is not None:
            self.writer.write(data)
        else:
            self.out.write(data)
        self.position += len(data)

    def copy(self, start: int, end: int) -> None:
        """The model's bytes ``start`` to ``end`` (model offsets, inside its own file)."""
        if self.writer is not None:
            self.writer.copy(self.fd, start - self.base, end - start)
        else:
            for at in range(start, end, WINDOW):  # a long run is copied a piece at a time, never held whole
                self.out.write(self.model.source.read(at, min(WINDOW, end - at)))
        self.position += end - start

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def write_pieces(model: Model, pieces: Pieces | list[Piece], out: BinaryIO, spans: Spans | None = None,
                 progress: Callable[[int], None] | None = None) -> Rewritten:
    """Write ``pieces`` (the plan's pieces from ``model.own_start`` on: a fork's inherited lines are
    its parents', never written here) as the new version of the file. ``spans``: the ordinals' places
    in ``model``'s lines, as far as they are known already; ``progress`` is told how many bytes the
    output holds for good, as that grows."""
    if not isinstance(pieces, Pieces):
        pieces = Pieces.of(pieces)
    elif isinstance(pieces.origins, Runs) or isinstance(pieces.ordinals, Runs):
        # Looked up a line at a time below: arrays again, made as the write begins, when a fix holds
        # the least (planned.py keeps runs through the passes, where they are at a fix's peak).
        pieces = Pieces(_array(pieces.origins), _array(pieces.ordinals), pieces.extra)
    writer = _PieceWriter(model, pieces, out, spans if spans is not None else Spans(model))
    untouched = pieces.untouched
    n = 0
    while n < len(pieces):
        if untouched(n):
            n = writer.run(n)
        else:
            after = writer.renumbered(n)
            n = after if after > n else writer.line(n)
        if progress is not None:
            progress(writer.copier.settled)
    return writer.close()


def _array(numbers: Sequence[int]) -> Sequence[int]:
    return array("q", numbers) if isinstance(numbers, Runs) else numbers


class _PieceWriter:
    def __init__(self, model: Model, pieces: Pieces, out: BinaryIO, spans: Spans) -> None:
        self.model, self.pieces, self.spans = model, pieces, spans
        self.first = first = model.own_start
        self.default_terminator = (model.terminator(first) if len(model) > first and model.terminator(first)
                                   else b"\n")
        self.last = len(pieces) - 1
        self.bom = model.has_bom
        self.result = Rewritten()
        self.fresh: list[int] = []
        self.copier = _Copier(model, out)
        self.window = _Window(model)
        # Only the model's last line can be torn (no newline): it is set the long way.
        self.torn = len(model) - 1 if model.size and model.source.read(model.size - 1, 1) != b"\n" else -1

    def _moved_start(self, n: int, origin: int | None) -> bool:
        """Whether the piece's facts change with its place: a byte order mark counts at the file's
        start only, and a line that comes to stand there is read without one."""
        return (self.bom and (n == 0) != (origin == self.first)) or (n == 0 and origin != self.first)

    def run(self, n: int) -> int:
        """Copy the run of untouched pieces from ``n`` that are consecutive lines of the model, as one
        byte range; the next piece's index."""
        pieces, offsets, last = self.pieces, self.model.offsets, self.last
        origins, untouched = pieces.origins, pieces.untouched
        m = n
        while m < last and origins[m + 1] == origins[m] + 1 and untouched(m + 1):
            m += 1
        origin = origins[n]
        start, end = offsets[origin], offsets[origins[m] + 1]
        delta = self.copier.position - start
        self.result.starts.extend(o + delta for o in offsets[origin : origin + m - n + 1])
        self.copier.copy(start, end)
        # Only the model's last line can lack a newline; a line written after it needs one.
        if (m < last and origins[m] == len(self.model) - 1 and end > start
                and self.model.source.read(end - 1, 1) != b"\n"):
            self.copier.write(self.default_terminator)
            self.fresh.append(m)  # no longer the torn last line
        if self._moved_start(n, origin):
            self.fresh.append(n)
        return m + 1

    def renumbered(self, n: int) -> int:
        """Write the pieces from ``n`` on that are original lines with a new ordinal only, splicing each
        number into the line's bytes while the format says that is all that changes (their facts then
        carry over); the first piece not written so (``n`` if none was)."""
        model, pieces, last, first = self.model, self.pieces, self.last, self.first
        ordinals, bom_lines = model.ordinals, model.bom_lines
        torn = self.torn
        origins, set_ordinals, extra = pieces.origins, pieces.ordinals, pieces.extra
        k = n
        while k <= last and k - n < BATCH:  # which pieces qualify, from the index alone
            origin = origins[k]
            if origin == NEW or k in extra or set_ordinals[k] == NO_ORDINAL or ordinals[origin] < 0:
                break
            if origin in bom_lines or origin == torn or ((k == 0 or origin == first) and self._moved_start(k, origin)):
                break
            k += 1
        if k == n:
            return n
        self.spans.ensure(origins[n:k])
        span_start, span_end = self.spans.start, self.spans.end
        locate, starts, copier, offsets = self.window.locate, self.result.starts, self.copier, model.offsets
        numbers = [str(x).encode() for x in set_ordinals[n:k]]
        parts: list[bytes] = []
        position, pending = copier.position, 0
        j = n
        while j < k:  # one line after another: 300 000 of them on a gigabyte
            origin = origins[j]
            at = span_start[origin]
            if at < 0:
                k = j
                break
            # Consecutive lines whose numbers keep their width: copied whole by the kernel, then each
            # number written over the old one (an ordinal moved by a few crosses a power of ten rarely).
            m = j
            while (m < k and origins[m] == origin + m - j and span_start[origin + m - j] >= 0
                   and len(numbers[m - n]) == span_end[origin + m - j] - span_start[origin + m - j]):
                m += 1
            if m - j >= PATCH_FROM and copier.patchable:
                if parts:
                    copier.write(b"".join(parts))
                    parts, pending = [], 0
                base = copier.position - offsets[origin]
                starts.extend(o + base for o in offsets[origin : origin + m - j])
                copier.copy(offsets[origin], offsets[origin + m - j])
                copier.patch([(offsets[o] + base + span_start[o], numbers[o - origin + j - n])
                              for o in range(origin, origin + m - j)])
                position, j = copier.position, m
                continue
            data, start, end = locate(origin)
            starts.append(position + pending)
            number = numbers[j - n]
            parts += (data[start : start + at], number, data[start + span_end[origin] : end])
            pending += end - start - (span_end[origin] - at) + len(number)
            if pending >= WINDOW:
                copier.write(b"".join(parts))
                position, pending, parts = copier.position, 0, []
            j += 1
        if parts:
            copier.write(b"".join(parts))
        return k

    def line(self, n: int) -> int:
        """Write one piece with new content, or a new ordinal; the next piece's index."""
        model, piece = self.model, self.pieces[n]
        origin = piece.origin
        self.result.starts.append(self.copier.position)
        if piece.content is not None:
            content = piece.content
            terminator = model.terminator(origin) if origin is not None else self.default_terminator
        else:
            content, terminator = split_terminator(self.window.raw(origin))  # type: ignore[arg-type]
            if origin in model.bom_lines:
                content = content[len(BOM):]
        if piece.ordinal is not None:
            content = model.with_ordinal(content, piece.ordinal)
            if origin == self.first and piece.content is None and self.bom:
                content = model.head(self.first, 3) + content
        if n < self.last and not terminator:
            terminator = self.default_terminator
        self.fresh.append(n)  # new bytes: read again from the new file
        self.copier.write(content + terminator)
        return n + 1

    def close(self) -> Rewritten:
        self.copier.close()
        self.result.size = self.copier.position
        self.result.fresh = sorted(set(self.fresh))
        return self.result
