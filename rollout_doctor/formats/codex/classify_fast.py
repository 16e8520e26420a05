"""The facts of an ordinary line without building it: the indexing fast path.

``classify.line_facts`` is the reference: one ``orjson.loads`` per line, which turns every megabyte of
tool output and every reasoning blob into a Python string that no rule reads. Here a line is read in two
passes that build almost nothing:

1. msgspec decodes it into the fields of the table in ``fields.py`` (Structs built from it below) and
   skips the rest. Its types are strict: a field of another type (a numeric ``call_id``, a ``null``
   payload, a non-integer ``ordinal``) fails the decode, and the line goes to ``line_facts``. Anything
   unusual (a session meta, a compacted history, a legacy line) goes there too. The decoded values go to
   the same builders the reference calls (``payload_records.py``), so this path answers exactly as
   ``line_facts`` would (tests/test_classify_fast.py holds it to that on real, generated and mutated lines).
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

from rollout_doctor.formats.codex.fields import (
    ENVELOPE_FIELDS,
    ENVELOPE_REQUIRED,
    EVENT_READS,
    INTEGER,
    ITEM_READS,
    JSON,
    STRING,
    Fields,
)
from rollout_doctor.formats.codex.nesting import CODEX_MAX_DEPTH
from rollout_doctor.formats.codex.records import ENVELOPE_TYPES, Facts, LineKind, Record

_PYTHON_TYPES: dict[str, Any] = {STRING: str, INTEGER: int}


def _struct(name: str, fields: Fields, nullable: bool, required: frozenset[str] = frozenset()) -> Any:
    """A Struct msgspec decodes exactly ``fields`` into, each of its declared type, skipping the rest.

    A field not ``required`` defaults to None. ``nullable``: a null reads as None too, as the reference's
    dict.get reads a payload's; else it fails the decode, as the envelope's ordinal must (the reference
    calls a null ordinal "not an integer"). A nested object defaults to an empty one, so that its fields
    read as None when it is absent; a null in its place fails the decode, and the reference reads that
    rare line."""
    spec: list[tuple[Any, ...]] = []
    for key, json in fields.items():
        if isinstance(json, dict):
            nested = _struct(key.title(), json, nullable=True)
            annotation, default = nested, nested()
        elif json == JSON:
            # Skipped over, not decoded, until a builder asks for it. msgspec.Raw takes no union: a null
            # comes as the Raw text null, which reads as None all the same.
            annotation, default = msgspec.Raw, None
        else:
            annotation, default = _PYTHON_TYPES[json] | None if nullable else _PYTHON_TYPES[json], None
        spec.append((key, annotation) if key in required else (key, annotation, default))
    # gc=False: fields of these types cannot make a cycle, and the collector need not track a Struct.
    return msgspec.defstruct(name, spec, frozen=True, gc=False)


_Line = _struct("Line", ENVELOPE_FIELDS, nullable=False, required=ENVELOPE_REQUIRED)
_decode = msgspec.json.Decoder(_Line).decode
# DecodeError (ValidationError is one) for bad JSON or a field of another type; UnicodeDecodeError for a
# key that is not UTF-8; RecursionError for nesting past what msgspec recurses into (a line 100,000
# levels deep).
_NOT_FAST = (msgspec.DecodeError, ValueError, RecursionError)

_QUOTE = 0x22


class _RawJson:
    """The fast path's JSON fields for a builder (payload_records.JsonFields): a msgspec.Raw, or None
    when absent or null. A value that is not valid inside (invalid UTF-8, say) raises
    orjson.JSONDecodeError, and the line goes to line_facts, which says what is wrong with it."""

    def value(self, field: Any) -> Any:
        return None if field is None else orjson.loads(memoryview(field))

    def is_string(self, field: Any) -> bool:
        return field is not None and memoryview(field)[0] == _QUOTE

    def mentions(self, field: Any, needle: bytes) -> bool:
        return field is not None and needle in bytes(field)


_RAW = _RawJson()


# Payload type -> (the row's builder, a reader of the payload's type and the row's fields, in C).
_ITEMS = {item_type: (row.build, attrgetter("type", *row.fields)) for item_type, row in ITEM_READS.items()}
_EVENTS = {event_type: (row.build, attrgetter("type", *row.fields)) for event_type, row in EVENT_READS.items()}
_RECORD_PAYLOADS = frozenset(_ITEMS) | frozenset(_EVENTS)
_RESPONSE_ITEM, _EVENT = int(LineKind.RESPONSE_ITEM), int(LineKind.EVENT)  # as block_facts' bytes hold them


class _Kinds(dict[str, LineKind]):
    """Line type -> LineKind, with every type Codex may add later as OTHER (cached, up to a bound: a
    hostile file could name a million types)."""

    def __missing__(self, key: str) -> LineKind:
        if len(self) < 4096:
            self[key] = LineKind.OTHER
        return LineKind.OTHER


_KINDS = _Kinds(ENVELOPE_TYPES)
_type, _payload, _ordinal = attrgetter("type"), attrgetter("payload"), attrgetter("ordinal")


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
    through their builder; session meta and compacted lines are listed in ``deferred``."""
    try:
        decoded = list(map(_decode, contents))
    except _NOT_FAST:
        return None
    kinds = bytes(map(_KINDS.__getitem__, map(_type, decoded)))
    payload_types = list(map(_type, map(_payload, decoded)))
    records: dict[int, Record] = {}
    deferred: list[int] = []
    # A record's line number is one int object, shared by the record and its key: two were 32 bytes
    # more a record, 6 MiB of a 1 GB rollout's 202 000 records (tracemalloc).
    for at in compress(count(), map(_RECORD_PAYLOADS.__contains__, payload_types)):
        kind = kinds[at]
        line = first + at
        if kind == _RESPONSE_ITEM:
            row = _ITEMS.get(payload_types[at])
            if row is not None:
                try:
                    records[line] = row[0](line, None, *row[1](decoded[at].payload), _RAW)
                except orjson.JSONDecodeError:
                    deferred.append(at)
        elif kind == _EVENT:
            row = _EVENTS.get(payload_types[at])
            if row is not None:
                event = row[0](line, *row[1](decoded[at].payload))
                if event is not None:
                    records[line] = event
    for kind in (LineKind.SESSION_META, LineKind.COMPACTED, LineKind.INTER_AGENT):
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
