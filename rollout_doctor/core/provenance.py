"""Which original line each line of a fix's result comes from, and the note of each line a fix wrote.

The fix loop follows them pass by pass (fix_loop.py): the diff reads both (diff.py), a child's cut is
moved by the provenance (cuts.py), and held() asks which unreadable lines a fix kept, which is all it
follows when nothing else reads them (``follow_lines``).
"""

from __future__ import annotations

from array import array

from rollout_doctor.core.fixes import NEW, NO_ORDINAL, Pieces


class Notes:
    """Result line -> the note of a line a fix inserted or changed. A line whose ordinal alone was
    renumbered takes one byte, not a dict entry: a gigabyte renumbered from its start has 300 000."""

    RENUMBERED = "ordinal renumbered"

    def __init__(self) -> None:
        self.text: dict[int, str] = {}
        self.renumbered = bytearray()

    def __setitem__(self, line: int, note: str) -> None:
        if note == self.RENUMBERED:
            if len(self.renumbered) <= line:
                self.renumbered.extend(bytes(line + 1 - len(self.renumbered)))
            self.renumbered[line] = 1
            self.text.pop(line, None)
        else:
            self.text[line] = note

    def get(self, line: int, default: str = "") -> str:
        note = self.text.get(line)
        if note is not None:
            return note
        return self.RENUMBERED if line < len(self.renumbered) and self.renumbered[line] else default

    def __contains__(self, line: object) -> bool:
        return isinstance(line, int) and self.get(line, "") != ""


def follow(pieces: Pieces, shift: int, provenance: array, notes: Notes) -> tuple[array, Notes]:
    """Provenance and notes through one more pass (``pieces``: the file's own, ``shift``: the model line
    of the file's first line in the pass's model)."""
    origins, ordinals, extra = pieces.origins, pieces.ordinals, pieces.extra
    if any(b"\n" in content for content, _note in extra.values()):
        return _follow_split(pieces, shift, provenance, notes)
    new_provenance = array(provenance.typecode, (provenance[o - shift] if o != NEW else -1 for o in origins))
    new_notes = Notes()
    text, renumbered, known = notes.text, notes.renumbered, len(notes.renumbered)
    new_text, new_renumbered = new_notes.text, bytearray(len(origins))
    for k, origin in enumerate(origins):  # a line each: numbers and two lookups
        if origin == NEW:
            new_text[k] = extra.get(k, (b"", ""))[1]
            continue
        if k in extra:  # changed content: its note, the line's, or "changed" (diff() relies on one)
            note = extra[k][1] or notes.get(origin - shift, "")
            if not note:
                note = Notes.RENUMBERED if ordinals[k] != NO_ORDINAL else "changed"
            if note == Notes.RENUMBERED:
                new_renumbered[k] = 1
            else:
                new_text[k] = note
            continue
        source = origin - shift
        note = text.get(source)
        if note:
            new_text[k] = note
        elif (source < known and renumbered[source]) or ordinals[k] != NO_ORDINAL:
            new_renumbered[k] = 1
    new_notes.renumbered = new_renumbered
    return new_provenance, new_notes


def follow_lines(pieces: Pieces, shift: int, tracked: dict[int, int]) -> dict[int, int]:
    """``tracked`` (file line -> original line) through one more pass: where each line is now, if it
    was kept (``follow`` for a few lines; a line split in several records is where its first is)."""
    if not tracked:
        return {}
    at = {line + shift: origin for line, origin in tracked.items()}
    if any(b"\n" in content for content, _note in pieces.extra.values()):
        found: dict[int, int] = {}
        k = 0
        for piece in pieces:
            if piece.origin is not None and piece.origin in at:
                found[k] = at[piece.origin]
            k += 1 + (piece.content.count(b"\n") if piece.content is not None else 0)
        return found
    return {k: at[o] for k, o in enumerate(pieces.origins) if o in at}


def _follow_split(pieces: Pieces, shift: int, provenance: array, notes: Notes) -> tuple[array, Notes]:
    """``follow`` where new content holds several records (a damaged line split into the records glued
    in it): each is a line of the result, and the ones after the first are new."""
    new_provenance = array(provenance.typecode)
    new_notes = Notes()
    for piece in pieces:
        at = len(new_provenance)  # the result line this piece starts
        if piece.origin is None:
            new_provenance.append(-1)
            new_notes[at] = piece.note
        else:
            origin = piece.origin - shift
            new_provenance.append(provenance[origin])
            note = piece.note or notes.get(origin, "")
            if piece.ordinal is not None and not note:
                note = Notes.RENUMBERED
            if piece.content is not None and not note:
                note = "changed"  # every changed line carries a note: diff() relies on it
            if note:
                new_notes[at] = note
        for _extra in range(piece.content.count(b"\n") if piece.content is not None else 0):
            new_notes[len(new_provenance)] = piece.note or "split from a damaged line"
            new_provenance.append(-1)
    return new_provenance, new_notes
