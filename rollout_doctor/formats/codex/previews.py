"""The start of an item's text, to show a person: no rule reads it, so only the reference makes it.

A model's records carry none (on a 1 GB rollout previews would take 18 MB);
rollout_doctor.formats.codex.summary makes them from the line it shows.
"""

from __future__ import annotations

from typing import Any

import orjson

from rollout_doctor.formats.codex.contextual import message_texts
from rollout_doctor.formats.codex.records import CALL_OUTPUT_TYPE, OUTPUT_TYPES, Item

PREVIEW_CHARS = 80


def preview(text: str) -> str:
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


def item_preview(payload: dict[str, Any], item: Item) -> str:
    """The preview of ``item``, read from the ``payload`` it was made of."""
    if item.type == "message":
        texts = message_texts(payload.get("content"))
        return preview(texts[0] if texts else "")
    if item.type in CALL_OUTPUT_TYPE:
        return _call_preview(payload, item.name or item.type)
    if item.type in OUTPUT_TYPES:
        return _output_preview(payload.get("output"))
    return ""


def _call_preview(payload: dict[str, Any], name: str) -> str:
    args = payload.get("arguments", payload.get("input", payload.get("action", "")))
    try:
        args_text = args if isinstance(args, str) else orjson.dumps(args).decode()
    except orjson.JSONEncodeError:  # nested past orjson's 255 levels: only a preview is lost
        args_text = "…"
    return preview(f"{name}({args_text})")


def _output_preview(output: Any) -> str:
    text = output if isinstance(output, str) else ""
    if isinstance(output, list):
        text = next((p.get("text", "") for p in output if isinstance(p, dict) and "text" in p), "")
    return preview(str(text))
