"""One short, safe description of a line for diffs and reports: never the whole line.

A rollout line can hold megabytes (a tool's output, an image); a diff shows its line type, payload
type, role, call id and the start of its text, cut to a width a terminal can show.
"""

from __future__ import annotations

import orjson

from rollout_doctor.formats.codex.classify import item_facts
from rollout_doctor.formats.codex.nesting import nested_deeper_than_codex_reads
from rollout_doctor.formats.codex.previews import PREVIEW_CHARS
from rollout_doctor.formats.codex.rollout import Rollout

PARSE_LIMIT = 4 << 20  # bigger lines are summarised from their first bytes only


def _shorten(text: str, width: int = PREVIEW_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def summarize_bytes(content: bytes) -> str:
    if not content.strip():
        return "(blank)"
    size = len(content)
    if size > PARSE_LIMIT:
        return f"({size:,} bytes) " + _shorten(content[:200].decode("utf-8", "replace"))
    try:
        obj = orjson.loads(content)
    except orjson.JSONDecodeError:
        return "not JSON: " + repr(content[:60])[1:] + ("…" if size > 60 else "")
    if not isinstance(obj, dict):
        return "not an object: " + _shorten(content[:60].decode("utf-8", "replace"))
    if nested_deeper_than_codex_reads(content):
        return "nested too deep for Codex: " + _shorten(content[:60].decode("utf-8", "replace"))
    parts: list[str] = []
    if "ordinal" in obj:
        parts.append(f"#{obj['ordinal']}")
    line_type = obj.get("type")
    payload = obj.get("payload") if "payload" in obj else obj
    if isinstance(line_type, str) and "payload" in obj:
        parts.append(line_type)
    if isinstance(payload, dict):
        inner = payload.get("type")
        if isinstance(inner, str) and inner != line_type:
            parts.append(inner)
        item = item_facts(payload, 0) if line_type in ("response_item", None) or "payload" not in obj else None
        if item is not None:
            if item.role:
                parts.append(item.role)
            if item.call_id:
                parts.append(f"call_id={item.call_id}")
            if item.preview:
                parts.append(repr(_shorten(item.preview, 60)))
        elif line_type == "compacted":
            history = payload.get("replacement_history")
            if isinstance(history, list):
                parts.append(f"replacement_history[{len(history)}]")
    if size > 64 << 10:
        parts.append(f"({size:,} bytes)")
    return " ".join(parts) or "{}"


def summarize_line(model: Rollout, line: int) -> str:
    start = model.offsets[line]
    length = model.offsets[line + 1] - start
    if length > PARSE_LIMIT:
        head = model.source.read(start, 200)
        return f"({length:,} bytes) " + _shorten(head.decode("utf-8", "replace"))
    return summarize_bytes(model.content(line))
