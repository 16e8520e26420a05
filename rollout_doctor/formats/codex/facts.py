"""The facts the rules need from one line, whatever generation of rollout it belongs to.

Three generations exist (see FORMAT.md): legacy bare lines (before Sept 2025), the envelope
``{"timestamp","type","payload"}`` (0.3x onward, written by 0.77.0) and the paginated envelope with a
top-level ``ordinal`` (2026, written by 0.169.0). Classification never raises: a line Codex would skip
is recorded as such, and unknown line types pass through untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import orjson

BOM = b"\xef\xbb\xbf"


class LineKind(IntEnum):
    BLANK = 0
    INVALID = 1
    SESSION_META = 2
    RESPONSE_ITEM = 3
    COMPACTED = 4
    TURN_CONTEXT = 5
    EVENT = 6
    OTHER = 7
    LEGACY_HEADER = 8
    LEGACY_STATE = 9


class ItemKind(IntEnum):
    CALL = 1
    OUTPUT = 2
    MESSAGE = 3
    OTHER = 4


ENVELOPE_TYPES = {
    "session_meta": LineKind.SESSION_META,
    "response_item": LineKind.RESPONSE_ITEM,
    "compacted": LineKind.COMPACTED,
    "turn_context": LineKind.TURN_CONTEXT,
    "event_msg": LineKind.EVENT,
}

# call payload type -> the output payload type Codex pairs with it
CALL_OUTPUT_TYPE = {
    "function_call": "function_call_output",
    "custom_tool_call": "custom_tool_call_output",
    "local_shell_call": "function_call_output",
    "tool_search_call": "tool_search_output",
}
OUTPUT_TYPES = frozenset(CALL_OUTPUT_TYPE.values())
# Items that Codex's Chat wire turns into messages of their own; the rest (reasoning, ghost snapshots,
# web searches, compaction markers) produce none and so cannot break call/output adjacency.
CHAT_MESSAGE_TYPES = frozenset({"message", *CALL_OUTPUT_TYPE, *OUTPUT_TYPES})
LEGACY_ITEM_TYPES = frozenset(
    {*CHAT_MESSAGE_TYPES, "reasoning", "web_search_call", "ghost_snapshot", "compaction"}
)
# Content items Codex reads inside an array `output` (FunctionCallOutputContentItem), each with the string
# field it cannot do without. Seen by resuming hand-made rollouts with 0.77.0, 0.169.0 and 0.171.0
# (tests/test_e2e_shapes.py, docs/codex-facts.md "Tool output shapes"): input_text and input_image are read
# by all three; encrypted_content and input_audio by 0.169.0 and 0.171.0 only (0.77.0 drops the line,
# "failed to parse rollout line"). output_text, any other type, a missing or non-string field: all three
# drop the line and send 'aborted' in place of the output.
OUTPUT_CONTENT_FIELDS = {"input_text": "text", "input_image": "image_url",
                         "encrypted_content": "encrypted_content", "input_audio": "audio_url"}
OUTPUT_CONTENT_TYPES = frozenset(OUTPUT_CONTENT_FIELDS)
# Read from 0.169.0 on (0.169.0 and 0.171.0 seen), dropped by 0.77.0; releases in between were not tried.
NEWER_OUTPUT_CONTENT_TYPES = frozenset({"encrypted_content", "input_audio"})
NEWER_OUTPUT_RELEASE = "0.169.0"
# input_image.detail (ImageDetail): 0.169.0 and 0.171.0 drop the line for any other string (seen: "ultra");
# 0.77.0 ignores the field. Absent and null are read by all three.
IMAGE_DETAILS = frozenset({"auto", "low", "high", "original"})
# Events that hold what a tool printed; issue 6 recovers outputs from them.
OUTPUT_EVENTS = frozenset({"exec_command_end", "patch_apply_end", "mcp_tool_call_end", "item_completed"})
# item_completed items that hold a tool's result (TurnItem variants; CommandExecution and FileChange seen
# in 0.169.0 rollouts, McpToolCall from the source); rollout_doctor.formats.codex.recover reads them.
OUTPUT_ITEM_TYPES = frozenset({"CommandExecution", "FileChange", "McpToolCall"})

# What item_facts and _envelope_facts read beyond a payload's `type`: an item of any other type is
# recorded by its type alone, an event of any other type records nothing.
ITEM_TYPES_READ = frozenset({"message", *CALL_OUTPUT_TYPE, *OUTPUT_TYPES})
EVENT_TYPES_READ = frozenset({"thread_rolled_back", *OUTPUT_EVENTS})

PREVIEW_CHARS = 80


@dataclass(slots=True)
class Item:
    """A ResponseItem as the pairing rules see it."""

    line: int
    index: int | None  # position inside a compacted line's replacement_history, None for a plain line
    type: str
    kind: ItemKind
    role: str | None = None
    call_id: str | None = None
    name: str | None = None
    output_ok: bool = True
    output_problem: str | None = None  # why every release seen drops the line (output_ok is False)
    # Why releases before NEWER_OUTPUT_RELEASE drop the line that 0.169.0 and 0.171.0 read (the rule decides
    # whether the file may meet such a release).
    old_release_problem: str | None = None
    # Why this output can answer no call: a function or custom output with no call_id (absent or null)
    # or an empty one, a client-side tool search output with an empty one. Codex skips the line, drops it
    # as an orphan, or (0.169.0 and 0.171.0, for a function output) sends it with no call_id.
    call_id_problem: str | None = None
    preview: str = ""
    contextual: bool = False  # a user message Codex injected itself (environment context, AGENTS.md, ...)

    @property
    def where(self) -> str:
        if self.index is None:
            return f"line {self.line + 1}"
        return f"line {self.line + 1} (replacement_history[{self.index}])"


@dataclass(slots=True)
class Meta:
    line: int
    id: Any
    history_mode: Any
    cli_version: str | None
    legacy: bool = False
    model_provider: str | None = None
    # A fork or a revert branch (Codex 0.169.0 and 0.171.0): where the parent's history this file continues
    # ends. None when the meta has no history_base; a HistoryBase with ``problem`` set when it is malformed.
    history_base: HistoryBase | None = None


@dataclass(frozen=True, slots=True)
class HistoryBase:
    """``session_meta.history_base``: the parent's records up to byte ``end_byte_offset`` (ordinals below
    ``end_ordinal_exclusive``) come before this file's own. ``rollout_id`` names the parent's file: the uuid
    after ``_`` in a revert branch's name, else its thread id (Codex calls it ``thread_id``)."""

    rollout_id: str | None
    end_ordinal_exclusive: int | None
    end_byte_offset: int | None
    problem: str | None = None


def history_base_of(value: Any) -> HistoryBase | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return HistoryBase(None, None, None, f"history_base is a JSON {json_type(value)}, not an object")
    rollout_id, ordinal, offset = value.get("thread_id"), value.get("end_ordinal_exclusive"), value.get("end_byte_offset")
    rollout_id = rollout_id if isinstance(rollout_id, str) and rollout_id else None
    ordinal = ordinal if type(ordinal) is int else None
    offset = offset if type(offset) is int else None
    missing = [name for name, got in (("thread_id", rollout_id), ("end_ordinal_exclusive", ordinal),
                                      ("end_byte_offset", offset)) if got is None]
    problem = f"history_base has no usable {' or '.join(missing)}" if missing else None
    return HistoryBase(rollout_id, ordinal, offset, problem)


@dataclass(slots=True)
class Compacted:
    line: int
    replacement: list[Item] | None
    replacement_problem: str | None = None


@dataclass(slots=True)
class Event:
    line: int
    type: str
    num_turns: int | None = None
    call_id: str | None = None


@dataclass(slots=True)
class Invalid:
    line: int
    reason: str
    needs_timestamp: bool = False  # a whole record that only lacks the timestamp Codex requires
    oversized: bool = False  # longer than lines.LINE_LIMIT: never read whole (lines.iter_blocks)


Record = Item | Meta | Compacted | Event | Invalid


@dataclass(slots=True)
class LineFacts:
    kind: LineKind
    ordinal: int | None | bool  # int, None when absent, False when present but not an integer
    record: Record | None


_SHARED: dict[str, str] = {}


def shared(text: str) -> str:
    """One string object for each of the few type, role and tool names a session uses: a 1 GB rollout
    holds some 150 000 records naming a dozen of them. Bounded, since names come from the file."""
    if len(_SHARED) < 4096:
        return _SHARED.setdefault(text, text)
    return _SHARED.get(text, text)


def _preview(text: str) -> str:
    """``text`` with each run of whitespace made one space, cut to ``PREVIEW_CHARS``.

    Works on a growing prefix: collapsing a prefix gives a prefix of the collapsed whole, so once the
    prefix yields more than ``PREVIEW_CHARS`` the answer is known, and a megabyte of tool output costs
    what its first few hundred characters cost."""
    limit = PREVIEW_CHARS * 4
    while True:
        collapsed = " ".join(text[:limit].split())
        if len(collapsed) > PREVIEW_CHARS or limit >= len(text):
            break
        limit *= 8
    return collapsed if len(collapsed) <= PREVIEW_CHARS else collapsed[: PREVIEW_CHARS - 1] + "…"


def _head(text: str, n: int) -> str:
    """``text.lstrip()[:n]`` without copying all of a long text."""
    limit = n * 4
    while True:
        head = text[:limit].lstrip()
        if len(head) >= n or limit >= len(text):
            return head[:n]
        limit *= 8


def _tail(text: str, n: int) -> str:
    """``text.rstrip()[-n:]`` without copying all of a long text."""
    limit = n * 4
    while True:
        tail = text[-limit:].rstrip()
        if len(tail) >= n or limit >= len(text):
            return tail[-n:]
        limit *= 8


# Contextual fragments (codex-rs/core contextual_user_message.rs, 2026; <turn_aborted> since PR #9043):
# a user message holding one of these is context Codex injected, not a user turn.
CONTEXT_MARKERS = (
    ("# agents.md instructions for ", "</instructions>"),
    ("<environment_context>", "</environment_context>"),
    ("<user_instructions>", "</user_instructions>"),
    ("<skill>", "</skill>"),
    ("<user_shell_command>", "</user_shell_command>"),
    ("<turn_aborted>", "</turn_aborted>"),
    ("<subagent_notification>", "</subagent_notification>"),
)


def _message_texts(payload: dict[str, Any]) -> list[str]:
    content = payload.get("content")
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return []


def is_contextual(texts: list[str]) -> bool:
    for text in texts:
        head, tail = _head(text, 64).lower(), _tail(text, 64).lower()
        if any(head.startswith(start) and tail.endswith(end) for start, end in CONTEXT_MARKERS):
            return True
    return False


def output_shape(output: Any, item_type: str) -> tuple[str | None, str | None]:
    """Why Codex would drop a function or custom tool output with this ``output`` value: (why every release
    seen drops it, or 0.169.0 and 0.171.0 do; why only releases before 0.169.0 do), None where none does."""
    if isinstance(output, str):
        return None, None
    if not isinstance(output, list):
        kind = type(output).__name__ if output is not None else "null"
        return f"output is {kind}, not a string or a list of content items", None
    older = None
    for n, part in enumerate(output):
        if not isinstance(part, dict):
            return f"output[{n}] is not an object", None
        kind = part.get("type")
        if not isinstance(kind, str) or kind not in OUTPUT_CONTENT_FIELDS:  # a list is unhashable
            return f"output[{n}] has content type {kind!r}", None
        field = OUTPUT_CONTENT_FIELDS[kind]
        if not isinstance(part.get(field), str):
            return f"output[{n}] ({kind}) has no string {field}", None
        if kind == "input_image":
            detail = part.get("detail")
            if detail is not None and (not isinstance(detail, str) or detail not in IMAGE_DETAILS):
                return (f"output[{n}] (input_image) has detail {detail!r} (0.77.0 ignores it; 0.169.0 and 0.171.0 "
                        "cannot read it)"), None
        if older is None and kind in NEWER_OUTPUT_CONTENT_TYPES:
            older = f"output[{n}] is {kind}"
    if older is None and item_type == "custom_tool_call_output":
        # 0.77.0's CustomToolCallOutput.output is a String ("invalid type: sequence, expected a string");
        # 0.169.0 and 0.171.0 read a list as they do for a function output.
        older = "output is a list, not a string"
    return None, older


def item_facts(payload: Any, line: int, index: int | None = None, preview: bool = True) -> Item | None:
    """Facts of one ResponseItem, or None when it is not an object with a string `type`.

    ``preview=False`` leaves ``preview`` empty: a model's records carry none (no rule reads it, and on a
    1 GB rollout previews would take 18 MB); rollout_doctor.formats.codex.summary computes it from the line to show."""
    if not isinstance(payload, dict):
        return None
    kind_name = payload.get("type")
    if not isinstance(kind_name, str):
        return None
    kind_name = shared(kind_name)
    if kind_name not in ITEM_TYPES_READ:
        return Item(line, index, kind_name, ItemKind.OTHER)
    call_id = payload.get("call_id")
    call_id = call_id if isinstance(call_id, str) and call_id else None
    if kind_name == "message":
        role = payload.get("role")
        texts = _message_texts(payload)
        return Item(line, index, kind_name, ItemKind.MESSAGE,
                    role=shared(role) if isinstance(role, str) else None,
                    preview=_preview(texts[0] if texts else "") if preview else "",
                    contextual=role == "user" and is_contextual(texts))
    if kind_name in CALL_OUTPUT_TYPE:
        if kind_name == "tool_search_call" and payload.get("execution") != "client":
            call_id = None  # server-side searches are answered by the API itself
        name = payload.get("name")
        name = name if isinstance(name, str) else ("local_shell" if kind_name == "local_shell_call" else None)
        kind = ItemKind.CALL if call_id else ItemKind.OTHER
        return Item(line, index, kind_name, kind, call_id=call_id, name=shared(name) if name else name,
                    preview=_call_preview(payload, name or kind_name) if preview else "")
    if kind_name in OUTPUT_TYPES:
        raw_id = payload.get("call_id")
        problem = old = id_problem = None
        if kind_name != "tool_search_output":
            problem, old = output_shape(payload.get("output"), kind_name)
            if not call_id:  # absent and null read alike (0.77.0 skips both; 0.169.0, 0.171.0 send both)
                id_problem = "has an empty call_id" if raw_id == "" else "has no call_id"
        elif payload.get("execution") == "server":
            # Codex's remove_orphan_outputs keeps a server-side search's output whatever its call_id (even
            # ""), as it keeps any with no call_id; 0.169.0 and 0.171.0 send both as written. Neither
            # answers a call.
            call_id = None
        elif raw_id == "":
            id_problem = "has an empty call_id"  # a client one: Codex drops it as an orphan
        if raw_id is not None and not isinstance(raw_id, str):
            # serde wants a string: every release seen skips the line ("invalid type: integer").
            problem, id_problem = f"call_id is {type(raw_id).__name__}, not a string", None
        kind = ItemKind.OUTPUT if call_id else ItemKind.OTHER
        return Item(line, index, kind_name, kind, call_id=call_id, output_ok=problem is None,
                    output_problem=problem, old_release_problem=old, call_id_problem=id_problem,
                    preview=_output_preview(payload.get("output")) if preview else "")
    raise AssertionError(f"{kind_name} is in ITEM_TYPES_READ but item_facts does not read it")


def _call_preview(payload: dict[str, Any], name: str) -> str:
    args = payload.get("arguments", payload.get("input", payload.get("action", "")))
    try:
        args_text = args if isinstance(args, str) else orjson.dumps(args).decode()
    except orjson.JSONEncodeError:  # nested past orjson's 255 levels: only a preview is lost
        args_text = "…"
    return _preview(f"{name}({args_text})")


def _output_preview(output: Any) -> str:
    text = output if isinstance(output, str) else ""
    if isinstance(output, list):
        text = next((p.get("text", "") for p in output if isinstance(p, dict) and "text" in p), "")
    return _preview(str(text))


def _envelope_facts(obj: dict[str, Any], line: int, kind: LineKind, lean: bool = False) -> Record | None:
    """The record of an envelope line. ``lean``: what a model keeps, no previews and no record for an
    item no rule reads (a reasoning item's blob made it long, its record would only take memory)."""
    payload = obj.get("payload")
    if kind is LineKind.RESPONSE_ITEM:
        if lean and isinstance(payload, dict):
            item_type = payload.get("type")
            if not isinstance(item_type, str) or item_type not in ITEM_TYPES_READ:  # a list is unhashable
                return None
        return item_facts(payload, line, preview=not lean)
    if not isinstance(payload, dict):
        return None
    if kind is LineKind.SESSION_META:
        # Forked sessions nest the meta under "meta" in some releases; accept both shapes.
        meta = payload.get("meta") if isinstance(payload.get("meta"), dict) else payload
        version, provider = meta.get("cli_version"), meta.get("model_provider")
        return Meta(line, meta.get("id"), meta.get("history_mode"), version if isinstance(version, str) else None,
                    model_provider=provider if isinstance(provider, str) else None,
                    history_base=history_base_of(meta.get("history_base")))
    if kind is LineKind.COMPACTED:
        if "replacement_history" not in payload or payload["replacement_history"] is None:
            return Compacted(line, None)
        history = payload["replacement_history"]
        if not isinstance(history, list):
            return Compacted(line, None, "replacement_history is not a list")
        items = [item_facts(entry, line, n, not lean) for n, entry in enumerate(history)]
        return Compacted(line, [i for i in items if i is not None])
    if kind is LineKind.EVENT:
        event_type = payload.get("type")
        if not isinstance(event_type, str) or event_type not in EVENT_TYPES_READ:
            return None
        if event_type == "thread_rolled_back":
            turns = payload.get("num_turns")
            return Event(line, shared(event_type), num_turns=turns if type(turns) is int else None)
        if event_type in OUTPUT_EVENTS:
            call_id = payload.get("call_id")
            if event_type == "item_completed":
                item = payload.get("item")
                item_type = item.get("type") if isinstance(item, dict) else None
                if not isinstance(item_type, str) or item_type not in OUTPUT_ITEM_TYPES:  # lists are unhashable
                    return None
                call_id = item.get("id")
            if isinstance(call_id, str):
                return Event(line, shared(event_type), call_id=call_id)
    return None


def classify(content: bytes | memoryview, line: int) -> LineFacts:
    """Classify one line's content (terminator and any byte order mark already removed)."""
    return LineFacts(*line_facts(content, line))


# Below this, counting a line's brackets is cheaper than walking its parsed containers.
_COUNT_BELOW = 4096
_WHITESPACE = frozenset(b" \t\n\r\x0b\x0c")  # what bytes.strip() removes


def line_facts(content: bytes | memoryview, line: int) -> tuple[LineKind, int | None | bool, Record | None]:
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
            deep = _value_nests_deeper(obj)
        else:
            data = content if type(content) is bytes else bytes(content)
            deep = data.count(b"[") + data.count(b"{") > CODEX_MAX_DEPTH and _value_nests_deeper(obj)
        if deep:
            return LineKind.INVALID, None, _too_deep(line)
    if not isinstance(obj, dict):
        return LineKind.INVALID, None, Invalid(line, f"a JSON {json_type(obj)}, not an object")
    return _object_facts(obj, line, lean=True)


def _too_deep(line: int) -> Invalid:
    return Invalid(line, f"nested more than {CODEX_MAX_DEPTH} levels deep; Codex cannot read it and skips it")


# serde_json's default recursion limit: Codex 0.77.0 and 0.169.0 both skip, on resume, a line nested 129
# levels deep and read one nested 128 (run: a user message carrying an unknown field nested N deep;
# tests/test_hostile.py). Such a line is as lost to Codex as a torn one, and keeping it out of the
# model also keeps Python-side recursion (orjson.dumps stops at 255, jsonschema near 300) safe.
CODEX_MAX_DEPTH = 128
_JSON_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def nested_deeper_than_codex_reads(content: bytes | memoryview) -> bool:
    """Whether ``content`` nests containers more than CODEX_MAX_DEPTH deep (strings skipped)."""
    if len(content) <= 2 * CODEX_MAX_DEPTH:  # each level takes an opening and a closing byte
        return False
    data = content if isinstance(content, bytes) else bytes(content)
    if data.count(b"[") + data.count(b"{") <= CODEX_MAX_DEPTH:  # C-speed; almost every line stops here
        return False
    try:
        return _value_nests_deeper(orjson.loads(data))
    except orjson.JSONDecodeError:  # not JSON: count the brackets outside strings
        pass
    depth = 0
    for token in _JSON_TOKEN.finditer(data):
        char = token.group()[:1]
        if char in (b"[", b"{"):
            depth += 1
            if depth > CODEX_MAX_DEPTH:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


def _value_nests_deeper(value: Any) -> bool:
    """The same question for a parsed value (the nesting of its containers is the text's): walking
    a line's few containers costs less than scanning its bytes when they are many or brackets abound
    in its strings (command output, code)."""
    if type(value) is not dict and type(value) is not list:
        return False
    stack = [(value, 1)]
    while stack:
        container, depth = stack.pop()
        if depth > CODEX_MAX_DEPTH:
            return True
        for item in container.values() if type(container) is dict else container:
            if type(item) is dict or type(item) is list:
                stack.append((item, depth + 1))
    return False


_ABSENT = object()
# Line kinds whose payload _envelope_facts reads; the others (turn_context, unknown types) record nothing.
_KINDS_WITH_RECORDS = frozenset({LineKind.RESPONSE_ITEM, LineKind.SESSION_META, LineKind.COMPACTED,
                                 LineKind.EVENT})


def facts_of_object(obj: dict[str, Any], line: int) -> LineFacts:
    return LineFacts(*_object_facts(obj, line))


def _object_facts(obj: dict[str, Any], line: int,
                  lean: bool = False) -> tuple[LineKind, int | None | bool, Record | None]:
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
                line, "has no string timestamp; Codex cannot read the record and skips it", needs_timestamp=True)
        record = _envelope_facts(obj, line, kind, lean) if kind in _KINDS_WITH_RECORDS else None
        return (kind, ordinal, record)
    if obj.get("record_type") == "state":
        return (LineKind.LEGACY_STATE, ordinal, None)
    if isinstance(line_type, str) and line_type in LEGACY_ITEM_TYPES:
        return (LineKind.RESPONSE_ITEM, ordinal, item_facts(obj, line, preview=not lean))
    if line_type is None and "id" in obj and "timestamp" in obj:
        return (LineKind.LEGACY_HEADER, ordinal, Meta(line, obj.get("id"), None, None, legacy=True))
    return (LineKind.OTHER, ordinal, None)


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
