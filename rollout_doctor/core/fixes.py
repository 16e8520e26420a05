"""Fixes as data, and the pure function that applies them.

A fix is a list of line edits plus an applicability, in the manner of ruff: ``safe`` fixes do what a
correct message broker would have done and are applied by ``fix``; ``unsafe`` ones change what the
model is told and need ``--unsafe-fixes``. Applying edits never touches bytes: it produces an ordered
list of pieces, each an original line (copied byte for byte) or new content, and the writer streams
them out.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from enum import Enum
from itertools import repeat
from typing import overload

from rollout_doctor.core.plain import Frozen, Plain


class Applicability(str, Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


class Op(str, Enum):
    DELETE = "delete"
    INSERT = "insert"  # new content after `anchor`
    MOVE = "move"  # `line` moves to just after `anchor`
    REPLACE = "replace"  # `line` gets new content in place
    RENUMBER = "renumber"  # paginated ordinals are rewritten from `line` on


TOP = -1  # an anchor meaning "before the first line"


class Edit(Frozen):
    FIELDS = ("op", "line", "anchor", "content", "note")

    def __init__(self, op: Op, line: int, anchor: int | None = None, content: bytes | None = None,
                 note: str = "") -> None:
        setattr_ = object.__setattr__
        setattr_(self, "op", op)
        setattr_(self, "line", line)
        setattr_(self, "anchor", anchor)
        setattr_(self, "content", content)  # the new line without its terminator
        setattr_(self, "note", note)  # how the diff labels a new line: "cancelled output", "recovered output", ...

    @classmethod
    def delete(cls, line: int) -> Edit:
        return cls(Op.DELETE, line)

    @classmethod
    def insert_after(cls, anchor: int, content: bytes, note: str) -> Edit:
        return cls(Op.INSERT, anchor, anchor=anchor, content=content, note=note)

    @classmethod
    def move_after(cls, line: int, anchor: int) -> Edit:
        return cls(Op.MOVE, line, anchor=anchor)

    @classmethod
    def replace(cls, line: int, content: bytes, note: str = "") -> Edit:
        return cls(Op.REPLACE, line, content=content, note=note)

    @classmethod
    def renumber_from(cls, line: int) -> Edit:
        return cls(Op.RENUMBER, line)


class Fix(Frozen):
    FIELDS = ("title", "applicability", "edits")

    def __init__(self, title: str, applicability: Applicability, edits: tuple[Edit, ...]) -> None:
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "applicability", applicability)
        object.__setattr__(self, "edits", edits)

    def note_is(self, note: str) -> bool:
        return any(e.note == note for e in self.edits)

    @property
    def touched(self) -> frozenset[int]:
        return frozenset(e.line for e in self.edits if e.op in (Op.DELETE, Op.MOVE, Op.REPLACE))

    @property
    def anchors(self) -> frozenset[int]:
        return frozenset(e.anchor for e in self.edits if e.anchor is not None)


def applicable(fix: Fix | None, unsafe: bool) -> bool:
    if fix is None:
        return False
    if fix.applicability is Applicability.SAFE:
        return True
    return unsafe and fix.applicability is Applicability.UNSAFE


def select_compatible(fixes: Iterable[Fix]) -> list[Fix]:
    """Keep fixes in order, skipping any that touches a line another kept fix touches or anchors on;
    the fix loop picks the skipped ones up on its next pass, against the updated file."""
    kept: list[Fix] = []
    touched: set[int] = set()
    anchors: set[int] = set()
    renumbering = False
    for fix in fixes:
        renumber = any(e.op is Op.RENUMBER for e in fix.edits)
        if renumber and renumbering:
            continue
        if fix.touched & (touched | anchors) or fix.anchors & touched or fix in kept:
            continue
        kept.append(fix)
        touched |= fix.touched
        anchors |= fix.anchors
        renumbering = renumbering or renumber
    return kept


class Piece(Plain):
    """One line of the new file: original line `origin` (None for a new line) with optional new content."""

    __slots__ = ("content", "note", "ordinal", "origin")
    FIELDS = ("origin", "content", "note", "ordinal")

    def __init__(self, origin: int | None, content: bytes | None = None, note: str = "",
                 ordinal: int | None = None) -> None:
        self.origin = origin
        self.content = content
        self.note = note
        self.ordinal = ordinal  # a paginated ordinal to set as the line is written


NEW = -1  # the origin of a line a fix writes anew
NO_ORDINAL = -(1 << 63)  # no ordinal to set


class NoOrdinals(Sequence[int]):
    """The ordinals of pieces that set none (``NO_ORDINAL`` each), held in no memory: a pass that only
    deletes or moves lines keeps its composed pieces until the next pass or the write (planned.py),
    and an array of them was 3 MB of a 1 GB fix's peak. Read only, as the loops over pieces read."""

    __slots__ = ("length",)

    def __init__(self, length: int) -> None:
        self.length = length

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, k: int) -> int: ...

    @overload
    def __getitem__(self, k: slice) -> NoOrdinals: ...

    def __getitem__(self, k: int | slice) -> int | NoOrdinals:
        if isinstance(k, slice):
            return NoOrdinals(len(range(*k.indices(self.length))))
        if not -self.length <= k < self.length:
            raise IndexError(k)
        return NO_ORDINAL

    def __iter__(self) -> Iterator[int]:
        return repeat(NO_ORDINAL, self.length)

    def count(self, value: object) -> int:
        return self.length if value == NO_ORDINAL else 0


def line_numbers(most: int, numbers: Iterable[int] = ()) -> array:
    """An array of line numbers below ``most`` (or ``NEW``): 4 bytes each where they fit, as they do in
    any rollout there is (a gigabyte holds 400 000 lines; each array of 8 bytes a line was 3 MB of a
    1 GB fix's peak), 8 past 2**31 lines."""
    return array("i" if most < 1 << 31 else "q", numbers)


class Pieces:
    """The lines of a planned version, as arrays: the original line each copies (``NEW`` for a new
    one) and the ordinal to set (``NO_ORDINAL``: none); new content and its note, for the few lines
    that have one, by position. A gigabyte's 400 000 lines take 6 MB here, where a ``Piece`` each took
    40 MB, and the loops over them (renumbering, the layout, the writer) read numbers, not objects.
    Indexing gives a ``Piece``; the arrays are for the loops that run over every line."""

    __slots__ = ("extra", "ordinals", "origins")

    def __init__(self, origins: array | None = None, ordinals: array | None = None,
                 extra: dict[int, tuple[bytes, str]] | None = None) -> None:
        self.origins = origins if origins is not None else array("q")
        self.ordinals = ordinals if ordinals is not None else array("q")
        self.extra = extra if extra is not None else {}

    @classmethod
    def of(cls, pieces: Iterable[Piece]) -> Pieces:
        made = cls()
        for piece in pieces:
            made.append(piece)
        return made

    def __len__(self) -> int:
        return len(self.origins)

    def __getitem__(self, k: int) -> Piece:
        if k < 0:
            k += len(self.origins)
        origin, ordinal = self.origins[k], self.ordinals[k]
        content, note = self.extra.get(k, (None, ""))
        return Piece(None if origin == NEW else origin, content, note, None if ordinal == NO_ORDINAL else ordinal)

    def __iter__(self) -> Iterator[Piece]:
        return (self[k] for k in range(len(self.origins)))

    def tail(self, start: int) -> Pieces:
        """The pieces from ``start`` on."""
        if not start:
            return self
        return Pieces(self.origins[start:], self.ordinals[start:],
                      {k - start: v for k, v in self.extra.items() if k >= start})

    def append(self, piece: Piece) -> None:
        if piece.content is not None:
            self.extra[len(self.origins)] = (piece.content, piece.note)
        self.origins.append(NEW if piece.origin is None else piece.origin)
        self.ordinals.append(NO_ORDINAL if piece.ordinal is None else piece.ordinal)

    def extend_lines(self, start: int, stop: int) -> None:
        """Original lines ``start`` to ``stop``, untouched."""
        if stop > start:
            self.origins.extend(range(start, stop))
            self.ordinals.extend(repeat(NO_ORDINAL, stop - start))  # no array of them beside (3 MB a gigabyte)

    def content(self, k: int) -> bytes | None:
        found = self.extra.get(k)
        return None if found is None else found[0]

    def untouched(self, k: int) -> bool:
        return self.origins[k] != NEW and self.ordinals[k] == NO_ORDINAL and k not in self.extra


class Plan(Plain):
    FIELDS = ("pieces", "line_count", "renumber_from")

    def __init__(self, pieces: Pieces, line_count: int, renumber_from: int | None = None) -> None:
        self.pieces = pieces
        self.line_count = line_count  # lines before the edits
        self.renumber_from = renumber_from  # index into pieces from which ordinals are rewritten

    @property
    def first_change(self) -> int | None:
        """The first piece that is not the original line in its own place, untouched."""
        pieces = self.pieces
        extra = pieces.extra
        for n, (origin, ordinal) in enumerate(zip(pieces.origins, pieces.ordinals)):
            if origin != n or ordinal != NO_ORDINAL or n in extra:
                return n
        return None

    @property
    def changed(self) -> bool:
        return (self.renumber_from is not None or len(self.pieces) != self.line_count
                or self.first_change is not None)


def plan(line_count: int, edits: Iterable[Edit]) -> Plan:
    edits = list(edits)
    deleted: set[int] = set()
    replaced: dict[int, Edit] = {}
    after: dict[int, list[tuple[tuple[int, int], Piece]]] = {}
    renumber_lines: list[int] = []
    for seq, edit in enumerate(edits):
        if edit.op is Op.DELETE:
            deleted.add(edit.line)
        elif edit.op is Op.REPLACE:
            replaced[edit.line] = edit
        elif edit.op is Op.MOVE:
            assert edit.anchor is not None
            deleted.add(edit.line)
            # Moved lines keep their relative order at a shared anchor; new lines come first.
            after.setdefault(edit.anchor, []).append(((1, edit.line), Piece(edit.line)))
        elif edit.op is Op.INSERT:
            assert edit.anchor is not None and edit.content is not None
            after.setdefault(edit.anchor, []).append(((0, seq), Piece(None, edit.content, edit.note)))
        elif edit.op is Op.RENUMBER:
            renumber_lines.append(edit.line)

    pieces = Pieces(line_numbers(line_count + len(edits)))

    def emit_after(anchor: int) -> None:
        for _key, piece in sorted(after.get(anchor, []), key=lambda pair: pair[0]):
            if piece.origin is not None and piece.origin in replaced:
                piece = Piece(piece.origin, replaced[piece.origin].content, replaced[piece.origin].note)
            pieces.append(piece)

    emit_after(TOP)
    first_renumber = min(renumber_lines) if renumber_lines else None
    renumber_at: int | None = None
    # Lines no edit names are most of a file (400 000 on a 1 GB rollout): added as runs, between the
    # lines an edit names.
    named = sorted(n for n in {*deleted, *replaced, *after, *renumber_lines} if 0 <= n < line_count)
    line = 0
    for special in [*named, line_count]:
        pieces.extend_lines(line, special)
        if special == line_count:
            break
        if special == first_renumber:
            renumber_at = len(pieces)
        if special not in deleted:
            edit = replaced.get(special)
            pieces.append(Piece(special, edit.content, edit.note) if edit else Piece(special))
        emit_after(special)
        line = special + 1
    return Plan(pieces, line_count, renumber_at)
