"""Lines rollout-doctor writes itself: the cancelled output Codex would synthesize, and ordinals.

The cancelled output is exactly what Codex's ``ensure_call_outputs_present`` inserts in memory after a
call with no output (codex-rs/core/src/context_manager/normalize.rs; 0.5x through 0.169.0): the output
type that answers the call type, the text ``aborted``, and, when the call carries an item ``id``, the
deterministic output id ``<prefix>_<uuid5>`` Codex derives from it. Writing the same item Codex would
send anyway means the model sees nothing new; the file simply stops depending on in-memory patching.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import orjson

from rollout_doctor.core import jsonspan
from rollout_doctor.core.fixes import NEW, NO_ORDINAL, Pieces
from rollout_doctor.core.index import ORDINAL_ABSENT, ORDINAL_NOT_INT
from rollout_doctor.formats.codex.records import LineKind
from rollout_doctor.formats.codex.rollout import Rollout

ABORTED = "aborted"
# The object's first members, each a key with no escape (and not "ordinal") and a plain value (a string with no escape, a
# number, true, false, null), then "ordinal" with an integer; a JSON value ends at a comma or a brace.
_HEAD_ORDINAL = re.compile(rb'[ \t\r\n]*\{(?:[ \t\r\n]*"(?!ordinal")[^"\\]*"[ \t\r\n]*:[ \t\r\n]*(?:"[^"\\]*"|-?[0-9][0-9.eE+-]*|true|false|null)'
                           rb'[ \t\r\n]*,)*?[ \t\r\n]*"ordinal"[ \t\r\n]*:[ \t\r\n]*(-?(?:0|[1-9][0-9]*))(?=[ \t\r\n]*[,}])')
_LETTER_ESCAPE = re.compile(rb"\\u00[67]")  # an escaped letter a to z (every letter of "ordinal" is one)
SOLE_ORDINAL_WITHIN = 4096  # bytes into a line past which the top-level ordinal is looked for the long way
# synthetic_output_id namespace in codex-rs/core/src/context_manager/normalize.rs (2026). Confirmed with
# the real 0.169.0: the item it sends for a function_call and a custom_tool_call without output is
# {"type", "id": "fco_"/"ctco_" + uuid5(this, "<prefix>:<call item id>"), "call_id", "output": "aborted"},
# equal to ours key for key (tests/test_e2e_resume.py). 0.77.0 sends no id (its calls carry none).
SYNTHETIC_ID_NAMESPACE = uuid.UUID("90d38d3e-6a5b-4d52-bfe2-2f1e634bfac4")
OUTPUT_ID_PREFIX = {
    "function_call": "fco",
    "local_shell_call": "fco",
    "custom_tool_call": "ctco",
    "tool_search_call": "tso",
}


def synthetic_output_id(prefix: str, call_item_id: Any) -> str | None:
    if not isinstance(call_item_id, str) or not call_item_id:
        return None
    return f"{prefix}_{uuid.uuid5(SYNTHETIC_ID_NAMESPACE, f'{prefix}:{call_item_id}')}"


def output_payload(call: dict[str, Any], output: Any = ABORTED) -> dict[str, Any]:
    """The output item answering ``call`` (a call payload), keys in serde's order."""
    call_type = call["type"]
    out_type = {"custom_tool_call": "custom_tool_call_output", "tool_search_call": "tool_search_output"}.get(
        call_type, "function_call_output"
    )
    payload: dict[str, Any] = {"type": out_type}
    item_id = synthetic_output_id(OUTPUT_ID_PREFIX.get(call_type, "fco"), call.get("id"))
    if item_id:
        payload["id"] = item_id
    payload["call_id"] = call["call_id"]
    if out_type == "tool_search_output":
        payload.update(status="completed", execution="client", tools=[])
    else:
        payload["output"] = output
    return payload


def envelope_like(model: Rollout, like_line: int, payload: dict[str, Any] | orjson.Fragment) -> bytes:
    """A response_item line in the generation of ``model``, timestamped like ``like_line``."""
    if model.generation == "legacy":
        return orjson.dumps(payload)
    timestamp = None
    try:
        neighbour = model.parsed(like_line)
        timestamp = neighbour.get("timestamp") if isinstance(neighbour, dict) else None
    except orjson.JSONDecodeError:
        pass
    line: dict[str, Any] = {"timestamp": timestamp if isinstance(timestamp, str) else _now()}
    if model.generation == "paginated":
        line["ordinal"] = 0  # set by renumbering once the line has its place
    line["type"] = "response_item"
    line["payload"] = payload
    return orjson.dumps(line)


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sole_ordinal(data: bytes, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    """The span of the top-level ``ordinal`` of the line ``data[start:end]`` when it is an integer among
    the first members, after plain ones only (0.169.0 writes it second, after the timestamp), and no
    later member of the line can be one: then setting it needs no walk over the rest of the line, which
    on a renumbered gigabyte took 39 s of 42.

    A later top-level key that decodes to ``ordinal`` (the last duplicate wins, as in serde_json) would
    be spelled ``"ordinal"`` or escape one of its letters (a ``\\u006x`` or ``\\u007x``); a line holding
    either after the value, anywhere (a nested key, an escaped letter in a text), is set the long way."""
    end = len(data) if end is None else end
    match = _HEAD_ORDINAL.match(data, start, min(end, start + SOLE_ORDINAL_WITHIN))
    if match is None:
        return None
    value_end = match.end(1)
    if data.find(b'"ordinal"', value_end, end) >= 0:
        return None
    # Every letter of the key is U+0061 to U+007A, escaped as \u006x or \u007x: one search for both,
    # by the regular expression engine (two bytes searches, or a loop over the \u00 escapes a text is
    # full of, cost twice as much a line; a renumbered gigabyte has 300 000 lines).
    if _LETTER_ESCAPE.search(data, value_end, end) is not None:
        return None
    return match.start(1), value_end


def sole_ordinals(data: bytes, bounds: list[tuple[int, int]]) -> list[tuple[int, int] | None]:
    """``sole_ordinal`` of each line ``data[start:end]`` of ``bounds`` (consecutive lines, each without
    its terminator), judged for the whole block at once where that gives the same answer: when every
    ``"ordinal"`` of the block is a key a head match found, one per line, and no letter is escaped
    anywhere in it, no line has a later key that could be an ordinal. Else line by line. (A renumbered
    gigabyte is 318 000 lines: two scans of each, as calls of their own, were most of a fix.)"""
    if not bounds:
        return []
    first, last = bounds[0][0], bounds[-1][1]
    match = _HEAD_ORDINAL.match
    found = [match(data, start, min(end, start + SOLE_ORDINAL_WITHIN)) for start, end in bounds]
    spans = [None if head is None else head.span(1) for head in found]
    heads = len(spans) - spans.count(None)
    if data.count(b'"ordinal"', first, last) == heads and _LETTER_ESCAPE.search(data, first, last) is None:
        return spans
    return [sole_ordinal(data, start, end) for start, end in bounds]


def set_ordinal(content: bytes, ordinal: int) -> bytes:
    """``content`` with its top-level ordinal set, other bytes untouched; added after the timestamp
    (where Codex 0.169.0 writes it) when missing."""
    where = sole_ordinal(content)
    if where is not None:
        return content[: where[0]] + str(ordinal).encode() + content[where[1] :]
    replaced = jsonspan.replace(content, ("ordinal",), str(ordinal).encode())
    if replaced is not None:
        return replaced
    return jsonspan.insert_member(content, "ordinal", str(ordinal).encode(), after="timestamp")


def renumber(model: Rollout, pieces: Pieces, start: int) -> None:
    """Make ordinals strictly increase by one from ``pieces[start]`` on, in place.

    Lines Codex cannot read (blank, invalid) are left alone: they carry no ordinal it would see.
    Renumbering is half of what a paginated fix needs with Codex 0.169.0; the other half is forgetting
    Codex's projection of the thread (projection.py, which records the experiment)."""
    previous: int | None = None
    for k in range(start - 1, -1, -1):  # the last ordinal before ``start``: found from there, backwards
        previous = _piece_ordinal(model, pieces, k)
        if previous is not None:
            break
    origins, ordinals, extra, kinds, own = pieces.origins, pieces.ordinals, pieces.extra, model.kinds, model.ordinals
    unread = (LineKind.BLANK, LineKind.INVALID)
    for k in range(start, len(origins)):  # 300 000 lines on a gigabyte: numbers only, no object a line
        origin = origins[k]
        if origin != NEW and kinds[origin] in unread:
            continue
        # A fork's first record continues its parent's numbering (0.169.0, 0.171.0): from the inherited
        # lines before it in the model, or from its history_base when the parent could not be read.
        expected = model.first_ordinal if previous is None else previous + 1
        if origin != NEW and ordinals[k] == NO_ORDINAL and k not in extra:
            value = own[origin]
            if value != expected or value in (ORDINAL_ABSENT, ORDINAL_NOT_INT):
                ordinals[k] = expected  # applied by the writer as it streams the line
        elif _piece_ordinal(model, pieces, k) != expected:
            ordinals[k] = expected
        previous = expected


def _piece_ordinal(model: Rollout, pieces: Pieces, k: int) -> int | None:
    if pieces.ordinals[k] != NO_ORDINAL:
        return pieces.ordinals[k]
    content = pieces.content(k)
    if content is not None:
        try:
            value = orjson.loads(content).get("ordinal")
        except (orjson.JSONDecodeError, AttributeError):
            return None
        return value if type(value) is int else None
    value = model.ordinals[pieces.origins[k]]
    return None if value in (ORDINAL_ABSENT, ORDINAL_NOT_INT) else value
