"""The facts of an ordinary line without building it: the indexing fast path.

``facts.line_facts`` is the reference: one ``orjson.loads`` per line, which turns every megabyte of tool
output and every reasoning blob into a Python string that no rule reads. Here a line is read in two
passes that build almost nothing:

1. msgspec decodes it into the few typed fields the rules need (``_Line`` below) and skips the rest.
   Its types are strict: a field of an unexpected type (a numeric ``call_id``, a ``null`` payload, a
   non-integer ``ordinal``) fails the decode, and the line goes to ``line_facts``. Anything unusual
   (a session meta, a compacted history, a legacy line, a non-string output) goes there too. So this
   path only answers for lines whose facts it can read off the typed fields, and answers exactly as
   ``line_facts`` would (tests/test_fastfacts.py holds it to that on real, generated and mutated lines).
   ``block_facts`` does this for every line of a block at once, ``fast_facts`` for one line.
2. msgspec's skipping checks the syntax but not three things ``line_facts`` also decides on: UTF-8
   inside skipped strings, numbers that overflow a double (``1e999``; Codex's serde_json rejects them),
   and nesting deeper than Codex reads (``CODEX_MAX_DEPTH``). ``block_valid`` puts the lines of a whole
   read block, each already known to be one JSON value, into one array and has simdjson validate it in
   a single call: simdjson checks UTF-8 and number ranges, and the array is wrapped in just enough extra
   levels that simdjson's own depth limit (1024) falls exactly on a line nested 129 levels deep. If
   the block fails, every line of it is classified again by ``line_facts``, which says which line and
   why.

simdjson only ever rejects more than orjson does (integers past 64 bits, for one), never less; a line it
wrongly rejected would only be read again by the reference path.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import compress, count
from operator import attrgetter
from typing import Any

import msgspec
import orjson
import simdjson

from rollout_doctor.formats.codex.facts import (
    CALL_OUTPUT_TYPE,
    CODEX_MAX_DEPTH,
    ENVELOPE_TYPES,
    EVENT_TYPES_READ,
    ITEM_TYPES_READ,
    OUTPUT_ITEM_TYPES,
    Event,
    Item,
    ItemKind,
    LineKind,
    Record,
    _message_texts,
    is_contextual,
    output_shape,
    shared,
)

# Every field is typed strictly and defaults to None when absent: an explicit JSON null, or a value of
# another type, fails the decode, so None always means "absent" (what dict.get gives line_facts), and
# the lines where null and absent differ, or any type is odd, are left to line_facts.


class _TurnItem(msgspec.Struct):
    """``item`` of an ``item_completed`` event: only which item, and what kind."""

    type: str = None  # type: ignore[assignment]
    id: str = None  # type: ignore[assignment]


class _Payload(msgspec.Struct):
    """The payload fields any rule reads, for every line type at once. Big values stay ``Raw``."""

    type: str = None  # type: ignore[assignment]
    call_id: str | None = None
    role: str = None  # type: ignore[assignment]
    name: str = None  # type: ignore[assignment]
    execution: str | None = None
    output: msgspec.Raw = None  # type: ignore[assignment]
    content: msgspec.Raw = None  # type: ignore[assignment]
    num_turns: int = None  # type: ignore[assignment]
    item: _TurnItem = None  # type: ignore[assignment]


class _Line(msgspec.Struct):
    """An envelope line (0.3x onward). Without these three fields a line is left to line_facts."""

    timestamp: str
    type: str
    payload: _Payload
    ordinal: int = None  # type: ignore[assignment]


_decode = msgspec.json.Decoder(_Line).decode
# DecodeError (ValidationError is one) for bad JSON or a field of another type; UnicodeDecodeError for a
# key that is not UTF-8; RecursionError for nesting past what msgspec recurses into (a line 100,000 levels deep).
_NOT_FAST = (msgspec.DecodeError, ValueError, RecursionError)

_QUOTE = 0x22

Facts = tuple[LineKind, int | None, Record | None]


class _Kinds(dict[str, LineKind]):
    """Line type -> LineKind, with every type Codex may add later as OTHER (cached, up to a bound: a
    hostile file could name a million types)."""

    def __missing__(self, key: str) -> LineKind:
        if len(self) < 4096:
            self[key] = LineKind.OTHER
        return LineKind.OTHER


_KINDS = _Kinds(ENVELOPE_TYPES)
_type, _payload, _ordinal = attrgetter("type"), attrgetter("payload"), attrgetter("ordinal")
_RECORD_PAYLOADS = ITEM_TYPES_READ | EVENT_TYPES_READ  # payload types that may make a record


@dataclass(slots=True)
class BlockFacts:
    """``fast_facts`` for every line of a block at once, lines numbered from the block's first."""

    kinds: bytes
    ordinals: list[int | None]
    records: dict[int, Record]
    deferred: list[int]  # positions in the block only line_facts can answer for


def block_facts(contents: list[bytes | memoryview], first: int) -> BlockFacts | None:
    """What ``fast_facts`` says of each line, or None if it would defer any line for its shape.

    The same answers with the per-line work in C where it can be (one ``map`` per field): on the
    benchmark's folder that was half of the indexing's Python time. Lines that make a record still go
    through ``_item`` and ``_event``; session meta and compacted lines are listed in ``deferred``."""
    try:
        decoded = list(map(_decode, contents))
    except _NOT_FAST:
        return None
    kinds = bytes(map(_KINDS.__getitem__, map(_type, decoded)))
    payload_types = list(map(_type, map(_payload, decoded)))
    records: dict[int, Record] = {}
    deferred: list[int] = []
    for at in compress(count(), map(_RECORD_PAYLOADS.__contains__, payload_types)):
        kind, payload_type = kinds[at], payload_types[at]
        if kind == LineKind.RESPONSE_ITEM and payload_type in ITEM_TYPES_READ:
            item = _item(decoded[at].payload, payload_type, first + at)
            if item is None:
                deferred.append(at)
            else:
                records[first + at] = item
        elif kind == LineKind.EVENT and payload_type in EVENT_TYPES_READ:
            event = _event(decoded[at].payload, payload_type, first + at)
            if event is not None:
                records[first + at] = event
    for kind in (LineKind.SESSION_META, LineKind.COMPACTED):
        at = kinds.find(kind)
        while at >= 0:
            deferred.append(at)
            at = kinds.find(kind, at + 1)
    return BlockFacts(kinds, list(map(_ordinal, decoded)), records, deferred)


def fast_facts(content: bytes | memoryview, line: int) -> Facts | None:
    """``line_facts(content, line)`` for an ordinary line whose block ``block_valid`` then accepts, or
    None when only ``line_facts`` can tell: ``block_facts`` for a block of one line."""
    block = block_facts([content], line)
    if block is None or block.deferred:
        return None
    return LineKind(block.kinds[0]), block.ordinals[0], block.records.get(line)


def _item(payload: _Payload, item_type: str, line: int) -> Item | None:
    """facts.item_facts(payload, line, preview=False) from the typed fields; None to defer."""
    item_type = shared(item_type)
    call_id = payload.call_id or None  # absent, null and "" all mean none
    if item_type == "message":
        role = payload.role
        if role is None:
            return Item(line, None, item_type, ItemKind.MESSAGE)
        contextual = False
        if role == "user" and payload.content is not None:
            texts = _read_raw(payload.content)
            if texts is _UNREADABLE:
                return None
            contextual = is_contextual(_message_texts({"content": texts}))
        return Item(line, None, item_type, ItemKind.MESSAGE, role=shared(role), contextual=contextual)
    if item_type in CALL_OUTPUT_TYPE:
        if item_type == "tool_search_call" and payload.execution != "client":
            call_id = None
        name = payload.name
        if name is None and item_type == "local_shell_call":
            name = "local_shell"
        return Item(line, None, item_type, ItemKind.CALL if call_id else ItemKind.OTHER, call_id=call_id,
                    name=shared(name) if name else name)
    # an output type (ITEM_TYPES_READ holds nothing else). A call_id that is neither a string nor null
    # failed the decode, so payload.call_id is a string, or None for absent and null (read alike).
    problem = old = id_problem = None
    if item_type != "tool_search_output":
        output = payload.output
        if output is None:
            problem, old = output_shape(None, item_type)
        elif memoryview(output)[0] != _QUOTE:  # a string is always fine; anything else is read whole
            value = _read_raw(output)
            if value is _UNREADABLE:
                return None
            problem, old = output_shape(value, item_type)
        if not call_id:
            id_problem = "has an empty call_id" if payload.call_id == "" else "has no call_id"
    elif payload.execution == "server":  # facts.item_facts says why
        call_id = None
    elif payload.call_id == "":
        id_problem = "has an empty call_id"
    return Item(line, None, item_type, ItemKind.OUTPUT if call_id else ItemKind.OTHER, call_id=call_id,
                output_ok=problem is None, output_problem=problem, old_release_problem=old,
                call_id_problem=id_problem)


_UNREADABLE = object()


def _read_raw(raw: msgspec.Raw) -> Any:
    """A value msgspec left unread, read whole; ``_UNREADABLE`` when it is not valid (invalid UTF-8
    inside, say): line_facts will say what is wrong with the line."""
    try:
        return orjson.loads(memoryview(raw))
    except orjson.JSONDecodeError:
        return _UNREADABLE


def _event(payload: _Payload, event_type: str, line: int) -> Event | None:
    """The record facts._envelope_facts makes of an event no rule can ignore."""
    if event_type == "thread_rolled_back":
        return Event(line, shared(event_type), num_turns=payload.num_turns)
    call_id = payload.call_id  # an output event (EVENT_TYPES_READ holds nothing else)
    if event_type == "item_completed":
        item = payload.item
        if item is None or item.type not in OUTPUT_ITEM_TYPES:
            return None
        call_id = item.id
    return None if call_id is None else Event(line, shared(event_type), call_id=call_id)


# simdjson's default maximum depth, for which a document nested exactly this deep still parses.
SIMDJSON_MAX_DEPTH = 1024
# The block's own array is one level; a line nested CODEX_MAX_DEPTH + 1 deep must tip it over the limit.
_PAD = SIMDJSON_MAX_DEPTH - CODEX_MAX_DEPTH - 1
# A 0 at each end makes the whole document one join, with no other copy: the lines come in between.
_OPEN = b"[" * (_PAD + 1) + b"0"
_CLOSE = b"0" + b"]" * (_PAD + 1)
# A line bigger than this is checked on its own by line_facts instead: joining copies every line, and a
# single line of hundreds of MB would briefly be held three times (buffer, join, simdjson's tape).
BLOCK_LINE_LIMIT = 8 << 20


# One parser for the process: it keeps the buffers it grew for the biggest block so far, and allocating
# them afresh for every file cost a third of a folder scan in page faults (bench/benchmark.py, folder).
_parser: simdjson.Parser | None = None


def block_valid(contents: list[bytes | memoryview]) -> bool:
    """Whether every line in ``contents`` is UTF-8 throughout, has no number a double cannot hold, and
    nests at most CODEX_MAX_DEPTH deep: one simdjson call for a whole block. Each line must already have
    decoded as one JSON value (``fast_facts``)."""
    global _parser
    if not contents:
        return True
    if _parser is None:
        _parser = simdjson.Parser()
    try:
        _parser.parse(b",".join([_OPEN, *contents, _CLOSE]))
    except (ValueError, RuntimeError):  # RuntimeError: simdjson's DEPTH_ERROR
        return False
    return True
