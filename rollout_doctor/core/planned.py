"""A fix pass's file before it is written: the original's lines, some renumbered in place, and new ones.

Each pass of the fix loop needs its result's index and the bytes the rules read, but only the last
pass's file is ever kept. So a pass over a file that stands alone is not written: its pieces are
composed with the passes before into pieces of the original (``compose``), laid out (where each line
starts, and which lines hold bytes whose facts must be read again: ``lay_out``), and read on demand
from the original (``PlannedSource``). The last pass is written once, from the original, by
rewrite.py: a gigabyte fixed in two passes is copied once, not once a pass (writing the first pass's
gigabyte, then the second's, was half the time of such a fix).

A plan this cannot express exactly (a fork, a byte order mark, a torn last line, new content that
holds several records, a version whose new lines would end otherwise than the original's) is not laid
out: the loop writes what was laid out before it, then the pass, as before (``plannable``, ``lay_out``).
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.core.fixes import NEW, NO_ORDINAL, Piece, Pieces, line_numbers
from rollout_doctor.core.lines import Source
from rollout_doctor.core.model import Model
from rollout_doctor.core.ordinal_spans import Spans
from rollout_doctor.core.rewrite import Rewritten, write_pieces
from rollout_doctor.core.runs import Runs, as_runs

if TYPE_CHECKING:
    from concurrent.futures import Future

    from rollout_doctor.core.format import Format


class Planned:
    """The passes of one fix loop laid out over ``original`` and not written yet."""

    def __init__(self, original: Model) -> None:
        self.original = original
        self.composed: Pieces | None = None  # the newest pass, as pieces of the original
        self.model: Model | None = None  # the newest pass's model, whose source is a PlannedSource
        self.spans: Spans | None = None

    def compact(self) -> None:
        """Hold the original's offsets and ordinals in 4 bytes each where they fit (a file under 4 GiB,
        ordinals of 32 bits, as Codex's are), once the original is judged and before the passes: they
        are read from then on, by every pass and the final write, and never grown (6 MB for 3 on a
        gigabyte, at a 1 GB fix's peak)."""
        original = self.original
        offsets, ordinals = original.offsets, original.ordinals
        if offsets.typecode == "q" and offsets and offsets[-1] < 1 << 32:
            original.offsets = array("I", offsets)
        if ordinals.typecode == "q" and ordinals and -(1 << 31) <= min(ordinals) and max(ordinals) < 1 << 31:
            original.ordinals = array("i", ordinals)
        del offsets, ordinals

    @property
    def active(self) -> bool:
        return self.model is not None

    def lay_out(self, fmt: Format, current: Model, pieces: Pieces, path: Path) -> Model | None:
        """The model of the pass of ``pieces`` over ``current`` (the original, or the newest planned
        pass), to be written at ``path`` later; None when it must be written now (``write`` first)."""
        from rollout_doctor.core.derived import derive

        if current is not self.original and current is not self.model:
            return None
        if not plannable(self.original, current, pieces):
            return None
        if _default_terminator(current) != _default_terminator(self.original):
            # A new line ends as the first line of the version it is written into does (rewrite.py):
            # written from the original it would end as the original's first line does.
            return None
        if self.spans is None:
            self.spans = Spans(self.original)
        if isinstance(pieces.origins, array):  # composed run by run with the pass before's
            pieces.origins = as_runs(pieces.origins, NEW)
        composed = compose(self.composed, pieces)
        # Kept until the next pass or the write: as runs where they are, for the pass's own pieces too
        # where they share the arrays (a first pass's are its composed ones).
        if isinstance(composed.origins, array):
            held = as_runs(composed.origins, NEW)
            if pieces.origins is composed.origins:
                pieces.origins = held
            composed.origins = held
        if isinstance(composed.ordinals, array):
            held = as_runs(composed.ordinals, NO_ORDINAL)
            if pieces.ordinals is composed.ordinals:
                pieces.ordinals = held
            composed.ordinals = held
        # The pass before is not written from now on (its pieces are composed into these), and nothing
        # reads its bytes again (the layout reads the original, the new index only the current version's
        # numbers): its pieces and layout go before this pass is laid out and its index derived, not
        # after (16 MB of a 1 GB fix's peak).
        if current is self.model and isinstance(current.source, PlannedSource):
            current.source.release()
            current.offsets = array("q")  # the new index is derived from its kinds, ordinals and records
        self.composed = self.model = None
        layout = lay_out(self.original, current, pieces, composed, self.spans)
        model = derive(fmt, current, pieces, layout.written, path, PlannedSource(self.original, layout, self.spans),
                       consume=current is not self.original)
        self.composed, self.model = composed, model
        return model

    def write(self, model: Model) -> Future[str] | None:
        """Write ``model`` when it is the newest planned pass: from the original, once; its source is the
        file from then on. The sha256 of the file written, being taken (None when nothing was written)."""
        if model is not self.model or self.composed is None:
            return None
        from rollout_doctor.store.copies import HashBehind

        size: int | None = None
        with open(model.path, "w+b") as out:  # readable too: renumbered stretches are patched through a mapping
            # The commit needs the new version's hash and its bytes on disk: both are taken while it
            # is written, on another thread.
            behind = HashBehind(model.path)
            try:
                size = write_pieces(self.original, self.composed, out, self.spans, behind.reached).size
            finally:
                behind.finish(size)
        if size != model.size:
            raise OSError(f"{model.path}: {size} bytes written where {model.size} were laid out")
        model.source = Source.open(model.path)
        self.composed = self.model = None
        return behind.digest


def plannable(original: Model, current: Model, pieces: Pieces) -> bool:
    """Whether a pass of ``pieces`` over ``current`` (``original`` itself, or a pass planned over it)
    can be laid out without being written."""
    if original.own_start or original.links or original.bom_lines or current.own_start or current.links:
        return False
    size = original.size
    if size and original.source.read(size - 1, 1) != b"\n":
        return False  # a torn last line gets a newline when a line comes after it: written the long way
    return not any(b"\n" in content for content, _note in pieces.extra.values())


def compose(previous: Pieces | None, pieces: Pieces) -> Pieces:
    """``pieces`` (of a pass over the version ``previous`` describes) as pieces of the original."""
    if previous is None:
        return pieces
    before_origins, before_ordinals, before_extra = previous.origins, previous.ordinals, previous.extra
    origins: Sequence[int]
    if isinstance(before_origins, Runs) and isinstance(pieces.origins, Runs) and before_origins.constant == NEW:
        origins = before_origins.taken_at(pieces.origins)  # run by run, no line looked up (40 ms a gigabyte)
    else:
        if not isinstance(before_origins, array):
            before_origins = line_numbers(len(before_origins), before_origins)  # runs: looked up a line each below
        origins = array(before_origins.typecode, (before_origins[o] if o != NEW else NEW for o in pieces.origins))
    if before_ordinals.count(NO_ORDINAL) == len(before_ordinals):
        # No pass before set an ordinal (the benchmark's first pass deletes a line): this pass's are
        # the composed ones, and the array is shared, not copied (3 MB of a 1 GB fix's peak).
        ordinals = pieces.ordinals
    else:
        if not isinstance(before_ordinals, array):
            before_ordinals = array("q", before_ordinals)  # runs: looked up a line each below
        ordinals = array("q", (x if x != NO_ORDINAL or o == NEW else before_ordinals[o]
                               for o, x in zip(pieces.origins, pieces.ordinals)))
    extra: dict[int, tuple[bytes, str]] = {}
    if before_extra:  # content a pass before wrote stays, unless this one replaces it
        extra.update((k, before_extra[o]) for k, o in enumerate(pieces.origins) if o in before_extra)
    for k, found in pieces.extra.items():  # new content replaces the line whole, its ordinal included
        extra[k] = found
        ordinals[k] = pieces.ordinals[k]
    return Pieces(origins, ordinals, extra)


@dataclass
class Layout:
    composed: Pieces  # the pass's pieces, of the original
    written: Rewritten  # where each line starts, its size, and which lines must be read again


def lay_out(original: Model, current: Model, pieces: Pieces, composed: Pieces, spans: Spans) -> Layout:
    """Where each line of the pass lies, without writing it (the caller has made sure that a new line
    ends here as it would in the written pass: ``Planned.lay_out``). Reads the original and the
    numbers of ``current``'s index, never ``current``'s bytes (the pass before is released by now)."""
    default = _default_terminator(original)
    origins, set_ordinals, extra = composed.origins, composed.ordinals, composed.extra
    spans.ensure(o for o, x in zip(origins, set_ordinals) if x != NO_ORDINAL and o != NEW)
    long_way: list[int] = []
    written = Rewritten()
    # Straight to where each line starts, with no array of lengths beside it (3 MB of a 1 GB fix), in
    # 4 bytes each while they fit (a version under 4 GiB: the new index's offsets, 2 MB more).
    def starts() -> Iterator[int]:
        long_way.clear()
        return accumulate(_lengths(original, composed, spans, default, long_way), initial=0)

    written.starts = offsets_array(starts)
    written.size = written.starts.pop()
    # Lines whose facts must be read again: new or changed content, a line come to stand first, an
    # ordinal set the long way or where the version before had none to splice.
    pass_origins, pass_ordinals, current_ordinals = pieces.origins, pieces.ordinals, current.ordinals
    fresh = {*extra, *(k for k in long_way if pass_ordinals[k] != NO_ORDINAL)}
    fresh.update(k for k, (changed, x) in enumerate(zip(pass_origins, pass_ordinals))
                 if x != NO_ORDINAL and (changed == NEW or current_ordinals[changed] < 0))
    if origins and pass_origins[0] != 0:
        fresh.add(0)
    fresh.difference_update(k for k in extra if k not in pieces.extra and pass_ordinals[k] == NO_ORDINAL
                            and not (k == 0 and pass_origins[0] != 0))
    written.fresh = sorted(fresh)
    return Layout(composed, written)


def offsets_array(numbers: Callable[[], Iterable[int]]) -> array:
    """The byte offsets ``numbers()`` gives, 4 bytes each while they fit (under 4 GiB), else 8: made
    again from the start when one does not."""
    try:
        return array("I", numbers())
    except OverflowError:
        return array("q", numbers())


def _default_terminator(model: Model) -> bytes:
    return model.terminator(0) if len(model) and model.terminator(0) else b"\n"


def _lengths(original: Model, composed: Pieces, spans: Spans, default: bytes, long_way: list[int]) -> Iterator[int]:
    """Each line's length, in order; the lines whose ordinal is set the long way are added to
    ``long_way`` as they are met."""
    offsets, ordinals, span_start, span_end = original.offsets, original.ordinals, spans.start, spans.end
    extra = composed.extra
    for k, (o, x) in enumerate(zip(composed.origins, composed.ordinals)):  # a line each: numbers only
        if k in extra:
            yield len(line_bytes(original, composed[k], default))
        elif o == NEW:
            yield 0
        elif x == NO_ORDINAL:
            yield offsets[o + 1] - offsets[o]
        elif span_start[o] >= 0 and ordinals[o] >= 0:
            yield offsets[o + 1] - offsets[o] - (span_end[o] - span_start[o]) + len(str(x))
        else:
            long_way.append(k)
            yield len(line_bytes(original, composed[k], default))


def line_bytes(original: Model, piece: Piece, default: bytes) -> bytes:
    """A line set the long way (new content, or an ordinal the format places itself), terminator included."""
    origin = piece.origin
    if piece.content is not None:
        content = piece.content
        terminator = original.terminator(origin) if origin is not None else default
    else:
        assert origin is not None
        content, terminator = original.content(origin), original.terminator(origin)
    if piece.ordinal is not None:
        content = original.with_ordinal(content, piece.ordinal)
    return content + (terminator or default)


class PlannedSource:
    """The bytes of a laid-out pass, read from the original as the rules and the index ask for them."""

    def __init__(self, original: Model, layout: Layout, spans: Spans) -> None:
        self.original = original
        self.composed = layout.composed
        self.starts: array = layout.written.starts
        self._size = layout.written.size
        self.spans = spans
        self.default = original.terminator(0) if len(original) and original.terminator(0) else b"\n"
        self.released = False

    @property
    def size(self) -> int:
        return self._size

    def _line(self, k: int) -> bytes:
        c = self.composed[k]
        origin = c.origin
        if origin is not None and c.content is None:
            raw = self.original.raw(origin)
            if c.ordinal is None:
                return raw
            start, end = self.spans.start[origin], self.spans.end[origin]
            if start >= 0 and self.original.ordinals[origin] >= 0:
                return raw[:start] + str(c.ordinal).encode() + raw[end:]
        return line_bytes(self.original, c, self.default)

    def read(self, offset: int, length: int) -> bytes:
        if self.released:
            raise OSError("a superseded fix pass was read")
        end = min(offset + length, self._size)
        if offset >= end:
            return b""
        starts = self.starts
        k = bisect.bisect_right(starts, offset) - 1
        parts = []
        at = offset
        while at < end:
            line = self._line(k)
            begin = starts[k]
            parts.append(line[at - begin : end - begin])
            at = begin + len(line)
            k += 1
        return b"".join(parts)

    def release(self) -> None:
        """Let go of the layout once the pass is superseded; reading it after that is an error."""
        self.released = True
        self.composed = Pieces()
        self.starts = array("q")

    def close(self) -> None:
        """The original is the fix's to close."""
