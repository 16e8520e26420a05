"""Whether a user message is context Codex injected itself (environment, AGENTS.md, ...), not a user turn."""

from __future__ import annotations

from typing import Any

import orjson

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


def message_texts(content: Any) -> list[str]:
    """The texts of a message's ``content``: the string itself, or each part's string ``text``."""
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return []


def is_inter_agent_instruction(content: Any) -> bool:
    """An assistant message whose one text is an InterAgentCommunication as JSON (0.171.0's
    ``to_response_input_item``: ``{"author","recipient","other_recipients","content","trigger_turn"}``),
    which Codex counts as a turn boundary (``InterAgentCommunication::is_message_content``)."""
    texts = message_texts(content)
    if len(texts) != 1 or not texts[0].startswith("{"):
        return False
    try:
        value = orjson.loads(texts[0])
    except orjson.JSONDecodeError:
        return False
    return (isinstance(value, dict) and isinstance(value.get("author"), str)
            and isinstance(value.get("recipient"), str) and isinstance(value.get("content"), str)
            and isinstance(value.get("trigger_turn"), bool))


def is_contextual(texts: list[str]) -> bool:
    for text in texts:
        head, tail = text_head(text, 64).lower(), text_tail(text, 64).lower()
        if any(head.startswith(start) and tail.endswith(end) for start, end in CONTEXT_MARKERS):
            return True
    return False


def text_head(text: str, n: int) -> str:
    """``text.lstrip()[:n]`` without copying all of a long text."""
    limit = n * 4
    while True:
        head = text[:limit].lstrip()
        if len(head) >= n or limit >= len(text):
            return head[:n]
        limit *= 8


def text_tail(text: str, n: int) -> str:
    """``text.rstrip()[-n:]`` without copying all of a long text."""
    limit = n * 4
    while True:
        tail = text[-limit:].rstrip()
        if len(tail) >= n or limit >= len(text):
            return tail[-n:]
        limit *= 8
