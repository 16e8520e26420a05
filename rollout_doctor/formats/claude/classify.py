"""Reading one transcript line into its kind and record (the reference classifier; never raises)."""

from __future__ import annotations

from typing import Any

import orjson

from rollout_doctor.core.format import Facts
from rollout_doctor.core.lines import LINE_LIMIT
from rollout_doctor.formats.claude.records import Entry, Invalid, LineKind

MESSAGE_TYPES = ("user", "assistant")


def _strings(blocks: list[Any], kind: str, key: str) -> tuple[str, ...]:
    return tuple(b[key] for b in blocks if b.get("type") == kind and isinstance(b.get(key), str))


def entry_of(obj: dict[str, Any], line: int) -> Entry:
    parent = obj.get("parentUuid")
    entry = Entry(line, obj.get("type") if isinstance(obj.get("type"), str) else "",
                  obj["uuid"] if isinstance(obj.get("uuid"), str) else None,
                  parent if isinstance(parent, str) else None,
                  sidechain=obj.get("isSidechain") is True,
                  compact=obj.get("type") == "system" and obj.get("subtype") == "compact_boundary")
    message = obj.get("message")
    if entry.type in MESSAGE_TYPES and isinstance(message, dict):
        entry.role = message.get("role") if isinstance(message.get("role"), str) else None
        entry.message_id = message.get("id") if isinstance(message.get("id"), str) else None
        content = message.get("content")
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        entry.blocks = len(content) if isinstance(content, list) else int(bool(content))
        entry.uses = _strings(blocks, "tool_use", "id")
        entry.results = _strings(blocks, "tool_result", "tool_use_id")
        entry.server_uses = _strings(blocks, "server_tool_use", "id")
        entry.advisor_results = _strings(blocks, "advisor_tool_result", "tool_use_id")
        entry.hollow_thinking = any(b.get("type") == "thinking" and not b.get("thinking") and b.get("signature")
                                    for b in blocks)
    return entry


def line_facts(content: memoryview, line: int, torn: bool = False) -> Facts:
    data = bytes(content)
    if not data.strip():
        return LineKind.BLANK, None, None
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        reason = "torn: the file ends in the middle of this line" if torn else f"not JSON ({exc})"
        return LineKind.INVALID, None, Invalid(line, reason)
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        return LineKind.INVALID, None, Invalid(line, "not a transcript record (no type)")
    if "uuid" not in obj:
        return LineKind.OTHER, None, None
    entry = entry_of(obj, line)
    if entry.uuid is None:
        return LineKind.INVALID, None, Invalid(line, "its uuid is not a string")
    kind = LineKind.MESSAGE if entry.type in MESSAGE_TYPES and entry.role in MESSAGE_TYPES else LineKind.LINKED
    return kind, None, entry


class ClaudeLines:
    """core.format.Classifier for transcripts. Stateless, so it travels to worker processes."""

    def exact(self, content: memoryview, line: int, torn: bool) -> Facts:
        return line_facts(content, line, torn)

    def unread(self, line: int, length: int) -> Facts:
        return LineKind.INVALID, None, Invalid(line, f"longer than {LINE_LIMIT >> 20} MiB ({length:,} bytes); not read")

    def fast(self, size: int) -> None:
        return None

    def expect(self, total: int) -> None:
        """Nothing to load: transcripts are read by the reference classifier alone (no fast path)."""

    def shift(self, record: Any, lines: int) -> None:
        record.line += lines


LINES = ClaudeLines()  # the one the format hands out (core.parallel adds up the work per classifier)
