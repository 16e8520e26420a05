"""What indexing keeps of a Claude Code transcript line: its kind and, for the lines of the
conversation, the few facts the rules read (classify.py fills them in).

A transcript (2.1.332, seen with the real binary) holds conversation lines, each with a ``uuid`` and a
``parentUuid`` (``user``, ``assistant``, ``attachment``, ``system``), and bookkeeping lines without one
(``queue-operation``, ``last-prompt``, ``api-request``, ``cost-state``, ...) that are never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class LineKind(IntEnum):
    BLANK = 0
    INVALID = 1
    MESSAGE = 2  # user or assistant: a message of the conversation (a line per block for the assistant)
    LINKED = 3  # another line on the parentUuid chain: attachment, system (a compact boundary too)
    OTHER = 4  # bookkeeping without a uuid


@dataclass(slots=True)
class Entry:
    """A line on the parentUuid chain."""

    line: int
    type: str
    uuid: str | None
    parent: str | None  # parentUuid; None when null or absent
    role: str | None = None
    message_id: str | None = None  # an assistant response written one line per block shares it
    uses: tuple[str, ...] = ()  # tool_use ids
    results: tuple[str, ...] = ()  # tool_result tool_use_ids
    server_uses: tuple[str, ...] = ()  # server_tool_use ids
    advisor_results: tuple[str, ...] = ()  # advisor_tool_result tool_use_ids
    blocks: int = 0  # content blocks (a string content counts as one)
    sidechain: bool = False
    compact: bool = False  # a compact boundary: its null parentUuid starts the chain anew
    hollow_thinking: bool = False  # a thinking block with empty text under a kept signature
    call_id: str | None = None  # what core's index interns; unused here


@dataclass(slots=True)
class Invalid:
    line: int
    reason: str
    call_id: str | None = None
