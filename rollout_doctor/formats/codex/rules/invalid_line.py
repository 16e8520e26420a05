"""A line that is not a JSON object: torn by a crash, garbage, NUL bytes, or a stray byte order mark.

What it checks: every non-blank line must be one JSON object, in UTF-8. A crash mid-write leaves a
torn line (Codex appends its next record after a newline, or glued onto the torn one:
openai/codex#24425); a crash on some file systems leaves a run of NUL bytes; editors add a byte order
mark, after which Codex cannot read the ``session_meta`` line at all (#28139).

Why it breaks a resume: Codex skips lines it cannot parse, silently, so whatever they held is gone from
the history; a record glued onto a torn line is lost with it; and a byte order mark makes the session
unreadable.

Effect on a resume: dropped. 0.77.0, 0.169.0 and 0.171.0 resume the session without the line (torn,
garbage, NUL bytes, a record glued onto a torn one), logging ``failed to parse line as JSON``
(``tests/test_e2e_resume.py``). A byte order mark before the ``session_meta`` is refused: Codex cannot
read which session it is ("failed to parse thread ID", docs/codex-facts.md §4, read in the source; the
upstream report is #28139; not run here).

Example::

    {"timestamp":"2026-01-05T10:00:00.000Z","type":"response_it

A record of a known type with no string ``timestamp`` is skipped the same way: Codex's ``RolloutLine``
requires one.

Fix (safe): remove the line. When whole records are glued into it (after torn bytes, or two records
with no newline between them), keep each of them on a line of its own and drop only the damaged bytes;
a byte order mark is simply dropped. A record that only lacks its timestamp gets the one of the
readable line before it (unsafe: the model then sees a record Codex has been skipping). Removed bytes stay
recoverable with ``rollout-doctor undo``.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from rollout_doctor.core import jsonspan
from rollout_doctor.core.fixes import Applicability, Edit, Fix
from rollout_doctor.formats.codex.records import Invalid, LineKind
from rollout_doctor.formats.codex.rollout import Rollout
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found
from rollout_doctor.formats.codex.salvage import salvage

CODE = "RD201"
NAME = "invalid-line"
SUMMARY = "a line that is not a JSON object (torn, garbage, NUL bytes, byte order mark)"
FIX_SAFETY = ("safe: removes bytes Codex ignores, keeping any whole record glued after them; "
              "unsafe: restores a missing timestamp")
PHASE = 0  # a salvaged record may be the output a call is missing: repair lines before pairing
CATEGORY = "structure"
EFFECT = "dropped"
UPSTREAM = ("#24425", "#28139")


def _timestamp_before(model: Rollout, line: int) -> str | None:
    for earlier in range(line - 1, -1, -1):
        if model.kinds[earlier] in (LineKind.INVALID, LineKind.BLANK):
            continue
        value = model.parsed(earlier).get("timestamp")
        if isinstance(value, str):
            return value
    return None


def _restore_timestamp(model: Rollout, line: int) -> Fix | None:
    """Give a record that only lacks its timestamp the one of the readable line before it."""
    timestamp = _timestamp_before(model, line)
    if timestamp is None:
        return None
    content = model.content(line)
    value = orjson.dumps(timestamp)
    repaired = jsonspan.replace(content, ("timestamp",), value) or jsonspan.insert_member(content, "timestamp", value)
    return Fix(f"give line {line + 1} the timestamp of the line before it, so Codex reads it again",
               Applicability.UNSAFE, (Edit.replace(line, repaired, "timestamp restored"),))


def _fix_for(model: Rollout, line: int) -> Fix | None:
    record = model.records.get(line)
    if isinstance(record, Invalid) and record.needs_timestamp:
        return _restore_timestamp(model, line)
    if isinstance(record, Invalid) and record.oversized:
        # Never read, so nothing says it holds no record: removing it is a person's call.
        return Fix(f"remove line {line + 1}, which was too long to read", Applicability.UNSAFE, (Edit.delete(line),))
    kept = salvage(model.content(line))
    if kept:
        terminator = model.terminator(line) or b"\n"
        return Fix(f"keep the {len(kept)} whole record(s) on line {line + 1}, drop the damaged bytes",
                   Applicability.SAFE, (Edit.replace(line, terminator.join(kept), "damaged bytes dropped"),))
    return Fix(f"remove line {line + 1}", Applicability.SAFE, (Edit.delete(line),))


def check(ctx: Context) -> Iterator[Diagnostic]:
    model = ctx.model
    first = model.own_start
    if model.has_bom and model.kind(first) is not LineKind.INVALID:
        yield found(first, f"line {first + 1} starts with a byte order mark; Codex cannot read the session_meta after it",
                    fix=Fix("drop the byte order mark", Applicability.SAFE,
                            (Edit.replace(first, model.content(first), "byte order mark dropped"),)),
                    effect="refused" if model.kind(first) is LineKind.SESSION_META else None)
    line = model.kinds.find(LineKind.INVALID)  # bytearray.find: no Python loop over a million lines
    while line >= 0:
        record = model.records.get(line)
        reason = record.reason if isinstance(record, Invalid) else "not a JSON object"
        fix = _fix_for(model, line)
        message = f"line {line + 1} is {reason}" if reason.startswith(("a JSON", "torn")) else f"line {line + 1}: {reason}"
        if fix is not None and fix.note_is("damaged bytes dropped"):
            message += "; whole records are glued into it"
        yield found(line, message, fix=fix)
        line = model.kinds.find(LineKind.INVALID, line + 1)
