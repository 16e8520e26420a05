"""The reference classifier: the facts the rules need from one line, whatever generation of rollout it
belongs to (records.py), from one orjson parse.

Classification never raises: a line Codex would skip is recorded as such, and unknown line types pass
through untouched. Which payload fields it reads, and the records they make, come from the table in
fields.py, which drives the fast path (classify_fast.py) too. Session meta and compacted lines are read
here alone: the fast path leaves them to this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from rollout_doctor.formats.codex.fields import EVENT_READS, ITEM_READS
from rollout_doctor.formats.codex.nesting import (
    CODEX_MAX_DEPTH,
    nested_deeper_than_codex_reads,
    value_nests_deeper_than_codex_reads,
)
from rollout_doctor.formats.codex.previews import item_preview
from rollout_doctor.formats.codex.records import (
    AGENT_ROLE,
    ENVELOPE_TYPES,
    LEGACY_ITEM_TYPES,
    Compacted,
    Facts,
    HistoryBase,
    Invalid,
    Item,
    ItemKind,
    LineFacts,
    LineKind,
    Meta,
    Record,
    shared,
)

BOM = b"\xef\xbb\xbf"


def classify(content: bytes | memoryview, line: int) -> LineFacts:
    """Classify one line's content (terminator and any byte order mark already removed)."""
    return LineFacts(*line_facts(content, line))


# Below this, counting a line's brackets is cheaper than walking its parsed containers.
_COUNT_BELOW = 4096
_WHITESPACE = frozenset(b" \t\n\r\x0b\x0c")  # what bytes.strip() removes


def line_facts(content: bytes | memoryview, line: int) -> Facts:
    """``classify`` as a tuple (kind, ordinal, record): the indexing loop's entry, one orjson parse per
    line. The nesting rule is decided on the parsed value, so no line is scanned twice (see
    ``nested_deeper_than_codex_reads``, which it agrees with). The records are lean (``_envelope_facts``)."""
    if not content or content[0] in _WHITESPACE:
        content = bytes(content)
        if not content.strip():
            return LineKind.BLANK, None, None
    try:
        obj = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        if nested_deeper_than_codex_reads(content):
            return LineKind.INVALID, None, _too_deep(line)
        return LineKind.INVALID, None, Invalid(line, describe_invalid(bytes(content), exc))
    size = len(content)
    if size > 2 * CODEX_MAX_DEPTH:
        if size >= _COUNT_BELOW:
            deep = value_nests_deeper_than_codex_reads(obj)
        else:
            data = content if type(content) is bytes else bytes(content)
            deep = (data.count(b"[") + data.count(b"{") > CODEX_MAX_DEPTH
                    and value_nests_deeper_than_codex_reads(obj))
        if deep:
            return LineKind.INVALID, None, _too_deep(line)
    if not isinstance(obj, dict):
        return LineKind.INVALID, None, Invalid(line, f"a JSON {json_type(obj)}, not an object")
    return _object_facts(obj, line, lean=True)


def _too_deep(line: int) -> Invalid:
    return Invalid(line, f"nested more than {CODEX_MAX_DEPTH} levels deep; Codex cannot read it and skips it")


_ABSENT = object()
# Line kinds whose payload _envelope_facts reads; the others (turn_context, unknown types) record nothing.
_KINDS_WITH_RECORDS = frozenset({LineKind.RESPONSE_ITEM, LineKind.SESSION_META, LineKind.COMPACTED,
                                 LineKind.EVENT, LineKind.INTER_AGENT})


def _object_facts(obj: dict[str, Any], line: int, lean: bool = False) -> Facts:
    # The hot path of indexing (most lines are small and parsed whole): no helper calls for what
    # every line needs.
    ordinal = obj.get("ordinal", _ABSENT)
    ordinal = None if ordinal is _ABSENT else ordinal if type(ordinal) is int else False
    line_type = obj.get("type")
    if "payload" in obj and isinstance(line_type, str):
        kind = ENVELOPE_TYPES.get(line_type, LineKind.OTHER)
        if kind is not LineKind.OTHER and type(obj["payload"]) is not dict:
            return LineKind.INVALID, None, _payload_not_object(obj, line)
        if kind is not LineKind.OTHER and type(obj.get("timestamp")) is not str:
            # RolloutLine.timestamp is a required String (codex-rs/protocol, 0.77.0 to 0.169.0): serde
            # rejects the line and Codex skips it, record and all.
            return LineKind.INVALID, None, Invalid(
                line, "has no string timestamp; Codex cannot read the record and skips it",
                needs_timestamp=True)
        record = _envelope_facts(obj["payload"], line, kind, lean) if kind in _KINDS_WITH_RECORDS else None
        return (kind, ordinal, record)
    if obj.get("record_type") == "state":
        return (LineKind.LEGACY_STATE, ordinal, None)
    if isinstance(line_type, str) and line_type in LEGACY_ITEM_TYPES:
        return (LineKind.RESPONSE_ITEM, ordinal, item_facts(obj, line, preview=not lean))
    if line_type is None and "id" in obj and "timestamp" in obj:
        return (LineKind.LEGACY_HEADER, ordinal, Meta(line, obj.get("id"), None, None, legacy=True))
    return (LineKind.OTHER, ordinal, None)


def _envelope_facts(payload: dict[str, Any], line: int, kind: LineKind, lean: bool) -> Record | None:
    """The record of an envelope line. ``lean``: what a model keeps, no previews and no record for an
    item no rule reads (a reasoning item's blob made it long, its record would only take memory)."""
    if kind is LineKind.RESPONSE_ITEM:
        if not lean:
            return item_facts(payload, line)
        item_type = payload.get("type")
        row = _ITEM_ROWS.get(item_type) if isinstance(item_type, str) else None  # a list is unhashable
        return None if row is None else row[0](line, None, item_type, *row[1](payload))
    if kind is LineKind.EVENT:
        event_type = payload.get("type")
        row = _EVENT_ROWS.get(event_type) if isinstance(event_type, str) else None
        return None if row is None else row[0](line, event_type, *row[1](payload))
    if kind is LineKind.SESSION_META:
        return _meta_facts(payload, line)
    if kind is LineKind.INTER_AGENT:
        # Sent as the agent_message item InterAgentCommunication::to_model_input_item makes of it.
        return Item(line, None, "agent_message", ItemKind.MESSAGE, role=AGENT_ROLE)
    return _compacted_facts(payload, line, lean)


def item_facts(payload: Any, line: int, index: int | None = None, preview: bool = True) -> Item | None:
    """Facts of one ResponseItem, or None when it is not an object with a string `type`.

    ``preview=False`` leaves ``preview`` empty: a model's records carry none (previews.py says why)."""
    if not isinstance(payload, dict):
        return None
    item_type = payload.get("type")
    if not isinstance(item_type, str):
        return None
    row = _ITEM_ROWS.get(item_type)
    if row is None:
        return Item(line, index, shared(item_type), ItemKind.OTHER)
    item: Item = row[0](line, index, item_type, *row[1](payload))
    if preview:
        item.preview = item_preview(payload, item)
    return item


def _reader(fields: tuple[str, ...]) -> Callable[[dict[str, Any]], Iterable[Any]]:
    """How the reference reads a row's fields: with dict.get, so None for an absent one (and for a field
    of a nested value that is not an object); in C when none is nested."""
    if all("." not in name for name in fields):
        return lambda payload: map(payload.get, fields)
    paths = [name.split(".") for name in fields]
    return lambda payload: [_nested(payload, path) for path in paths]


def _nested(payload: dict[str, Any], path: list[str]) -> Any:
    value: Any = payload
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


# Payload type -> (the row's builder, its fields' reader).
_ITEM_ROWS = {item_type: (row.build, _reader(row.fields)) for item_type, row in ITEM_READS.items()}
_EVENT_ROWS = {event_type: (row.build, _reader(row.fields)) for event_type, row in EVENT_READS.items()}


def _meta_facts(payload: dict[str, Any], line: int) -> Meta:
    # Forked sessions nest the meta under "meta" in some releases; accept both shapes.
    meta = payload.get("meta") if isinstance(payload.get("meta"), dict) else payload
    version, provider = meta.get("cli_version"), meta.get("model_provider")
    return Meta(line, meta.get("id"), meta.get("history_mode"), version if isinstance(version, str) else None,
                model_provider=provider if isinstance(provider, str) else None,
                history_base=history_base_of(meta.get("history_base")))


def history_base_of(value: Any) -> HistoryBase | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return HistoryBase(None, None, None, f"history_base is a JSON {json_type(value)}, not an object")
    rollout_id, ordinal = value.get("thread_id"), value.get("end_ordinal_exclusive")
    offset = value.get("end_byte_offset")
    rollout_id = rollout_id if isinstance(rollout_id, str) and rollout_id else None
    ordinal = ordinal if type(ordinal) is int else None
    offset = offset if type(offset) is int else None
    missing = [name for name, got in (("thread_id", rollout_id), ("end_ordinal_exclusive", ordinal),
                                      ("end_byte_offset", offset)) if got is None]
    problem = f"history_base has no usable {' or '.join(missing)}" if missing else None
    return HistoryBase(rollout_id, ordinal, offset, problem)


def _compacted_facts(payload: dict[str, Any], line: int, lean: bool) -> Compacted:
    if "replacement_history" not in payload or payload["replacement_history"] is None:
        return Compacted(line, None)
    history = payload["replacement_history"]
    if not isinstance(history, list):
        return Compacted(line, None, "replacement_history is not a list")
    items = [item_facts(entry, line, n, not lean) for n, entry in enumerate(history)]
    return Compacted(line, [i for i in items if i is not None])


def _payload_not_object(obj: dict[str, Any], line: int) -> Invalid:
    # Every known line type's payload is a Rust struct or a tagged enum in Codex's RolloutLine: a list,
    # string, number, boolean or null there fails to deserialize and the line is skipped like a torn one
    # (serde would take a list for a struct, field by field, but Codex never writes one).
    return Invalid(line, f"its {obj['type']} payload is a JSON {json_type(obj['payload'])}, not an object; "
                         "Codex cannot read the line and skips it")


def json_type(value: Any) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), "null"
    )


def describe_invalid(content: bytes, exc: Exception) -> str:
    if b"\x00" in content:
        return "contains NUL bytes"
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as err:
        return f"invalid UTF-8 at byte {err.start}"
    if isinstance(exc, orjson.JSONDecodeError):
        return f"not valid JSON ({exc.msg} at byte {exc.pos})"
    return "not valid JSON"
