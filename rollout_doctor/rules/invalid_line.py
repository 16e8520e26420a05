"""A line that is not a JSON object: torn by a crash, garbage, NUL bytes, or a stray byte order mark.

What it checks: every non-blank line must be one JSON object, in UTF-8. A crash mid-write leaves a
torn line (Codex appends its next record after a newline, or glued onto the torn one:
openai/codex#24425); a crash on some file systems leaves a run of NUL bytes; editors add a byte order
mark, after which Codex cannot read the ``session_meta`` line at all (#28139).

Why it breaks a resume: Codex skips lines it cannot parse, silently, so whatever they held is gone from
the history; a record glued onto a torn line is lost with it; and a byte order mark makes the session
unreadable.

Example::

    {"timestamp":"2026-01-05T10:00:00.000Z","type":"response_it

Fix (safe): remove the line. When a complete record follows the torn bytes on the same line, keep that
record and drop only the torn prefix; a byte order mark is simply dropped. Removed bytes stay
recoverable with ``rollout-doctor undo``.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from rollout_doctor.facts import Invalid, LineKind
from rollout_doctor.fixes import Applicability, Edit, Fix
from rollout_doctor.model import Rollout
from rollout_doctor.rules.base import Context, Diagnostic

CODE = "RD201"
NAME = "invalid-line"
SUMMARY = "a line that is not a JSON object (torn, garbage, NUL bytes, byte order mark)"
FIX_SAFETY = "safe: removes bytes Codex ignores, keeping any whole record glued after them"
PHASE = 0  # a salvaged record may be the output a call is missing: repair lines before pairing

RECORD_START = b'{"timestamp":'


def salvage(content: bytes) -> bytes | None:
    """The last complete record glued onto a torn line, if any."""
    start = content.find(RECORD_START, 1)
    while start > 0:
        candidate = content[start:]
        try:
            if isinstance(orjson.loads(candidate), dict):
                return candidate
        except orjson.JSONDecodeError:
            pass
        start = content.find(RECORD_START, start + 1)
    stripped = content.lstrip(b"\x00")
    if stripped and stripped != content:
        try:
            if isinstance(orjson.loads(stripped), dict):
                return stripped
        except orjson.JSONDecodeError:
            return None
    return None


def _fix_for(model: Rollout, line: int) -> Fix:
    kept = salvage(model.content(line))
    if kept is not None:
        return Fix(f"drop the torn bytes before the record on line {line + 1}", Applicability.SAFE,
                   (Edit.replace(line, kept, "torn prefix dropped"),))
    return Fix(f"remove line {line + 1}", Applicability.SAFE, (Edit.delete(line),))


def check(ctx: Context) -> Iterator[Diagnostic]:
    model = ctx.model
    if model.has_bom and model.kind(0) is not LineKind.INVALID:
        yield Diagnostic(
            NAME, CODE, 0, "line 1 starts with a byte order mark; Codex cannot read the session_meta after it",
            None, Fix("drop the byte order mark", Applicability.SAFE,
                      (Edit.replace(0, model.content(0), "byte order mark dropped"),)),
        )
    for line, kind in enumerate(model.kinds):
        if kind != LineKind.INVALID:
            continue
        record = model.records.get(line)
        reason = record.reason if isinstance(record, Invalid) else "not a JSON object"
        fix = _fix_for(model, line)
        glued = fix.edits[0].op.value == "replace"
        message = f"line {line + 1} is {reason}" if reason.startswith(("a JSON", "torn")) else f"line {line + 1}: {reason}"
        if glued:
            message += "; a complete record follows the torn bytes"
        yield Diagnostic(NAME, CODE, line, message, None, fix)
