"""Streaming a planned version of a session file: untouched lines are copied byte for byte."""

from __future__ import annotations

from typing import BinaryIO

from rollout_doctor.core.fixes import Piece
from rollout_doctor.core.lines import CHUNK
from rollout_doctor.core.model import Model


def write_pieces(model: Model, pieces: list[Piece], out: BinaryIO) -> None:
    """Write ``pieces`` (the plan's pieces from ``model.own_start`` on: a fork's inherited lines are
    its parents', never written here) as the new version of the file."""
    first = model.own_start
    default_terminator = (model.terminator(first) if len(model) > first and model.terminator(first) else b"\n")
    last = len(pieces) - 1
    for n, piece in enumerate(pieces):
        if piece.origin is not None and piece.content is None and piece.ordinal is None:
            start, end = model.offsets[piece.origin], model.offsets[piece.origin + 1]
            for at in range(start, end, CHUNK):  # a long line is copied a piece at a time, never held whole
                out.write(model.source.read(at, min(CHUNK, end - at)))
            if n < last and end > start and model.source.read(end - 1, 1) != b"\n":
                out.write(default_terminator)
            continue
        content = piece.content if piece.content is not None else model.content(piece.origin)  # type: ignore[arg-type]
        if piece.ordinal is not None:
            content = model.with_ordinal(content, piece.ordinal)
            if piece.origin == first and piece.content is None and model.has_bom:
                content = model.head(first, 3) + content
        terminator = model.terminator(piece.origin) if piece.origin is not None else default_terminator
        if n < last and not terminator:
            terminator = default_terminator
        out.write(content + terminator)
