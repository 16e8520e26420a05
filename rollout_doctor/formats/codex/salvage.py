"""The whole records on a damaged line: what invalid-line keeps of it, and what ordinal-order counts.

A crash mid-write leaves a torn prefix; Codex's next append then lands on the same line
(openai/codex#24425), and NUL padding appears where a file system lost a block. Each whole record on
such a line starts with the bytes Codex writes first, ``{"timestamp":``.
"""

from __future__ import annotations

from rollout_doctor.formats.codex.classify import classify
from rollout_doctor.formats.codex.records import LineKind

RECORD_START = b'{"timestamp":'


def _is_object(data: bytes) -> bool:
    """A record Codex can read, by the classifier's own verdict: a line it calls invalid (too deep, a
    payload that is not an object) must never be "salvaged" whole, or the fix loop would never settle."""
    return classify(data, 0).kind not in (LineKind.INVALID, LineKind.BLANK)


def salvage(content: bytes) -> list[bytes]:
    """The complete records on a damaged line, in order: a torn prefix and NUL padding are dropped,
    every whole record is kept (two records glued together come out as two)."""
    starts = [0]
    at = content.find(RECORD_START, 1)
    while at > 0:
        starts.append(at)
        at = content.find(RECORD_START, at + 1)
    records: list[bytes] = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(content)
        segment = content[start:end].strip(b"\x00")
        if segment and _is_object(segment):
            records.append(segment)
        elif n + 1 < len(starts) and _is_object(content[start:].strip(b"\x00")):
            # A record holding the marker text inside a string: the rest of the line is one record.
            records.append(content[start:].strip(b"\x00"))
            break
    return records
