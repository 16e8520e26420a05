"""Fixes as data, and the pure function that applies them.

A fix is a list of line edits plus an applicability, in the manner of ruff: ``safe`` fixes do what a
correct message broker would have done and are applied by ``fix``; ``unsafe`` ones change what the
model is told and need ``--unsafe-fixes``. Applying edits never touches bytes: it produces an ordered
list of pieces, each an original line (copied byte for byte) or new content, and the writer streams
them out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


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


@dataclass(frozen=True)
class Edit:
    op: Op
    line: int
    anchor: int | None = None
    content: bytes | None = None  # the new line without its terminator
    note: str = ""  # how the diff labels a new line: "cancelled output", "recovered output", ...

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


@dataclass(frozen=True)
class Fix:
    title: str
    applicability: Applicability
    edits: tuple[Edit, ...]

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


@dataclass(slots=True)  # one per line of the result: 400 000 of them for a 1 GB rollout
class Piece:
    """One line of the new file: original line `origin` (None for a new line) with optional new content."""

    origin: int | None
    content: bytes | None = None
    note: str = ""
    ordinal: int | None = None  # a paginated ordinal to set as the line is written


@dataclass
class Plan:
    pieces: list[Piece]
    line_count: int  # lines before the edits
    renumber_from: int | None = None  # index into pieces from which ordinals are rewritten

    @property
    def first_change(self) -> int | None:
        """The first piece that is not the original line in its own place, untouched."""
        return next((n for n, p in enumerate(self.pieces)
                     if p.origin != n or p.content is not None or p.ordinal is not None), None)

    @property
    def changed(self) -> bool:
        return (self.renumber_from is not None or len(self.pieces) != self.line_count
                or self.first_change is not None)


def plan(line_count: int, edits: Iterable[Edit]) -> Plan:
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

    pieces: list[Piece] = []

    def emit_after(anchor: int) -> None:
        for _key, piece in sorted(after.get(anchor, []), key=lambda pair: pair[0]):
            if piece.origin is not None and piece.origin in replaced:
                piece = Piece(piece.origin, replaced[piece.origin].content, replaced[piece.origin].note)
            pieces.append(piece)

    emit_after(TOP)
    first_renumber = min(renumber_lines) if renumber_lines else None
    renumber_at: int | None = None
    # Lines no edit names are most of a file (400 000 on a 1 GB rollout): made in runs, between the
    # lines an edit names.
    named = sorted(n for n in {*deleted, *replaced, *after, *renumber_lines} if 0 <= n < line_count)
    line = 0
    for special in [*named, line_count]:
        pieces.extend(map(Piece, range(line, special)))
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
