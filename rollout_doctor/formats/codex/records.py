"""What a line of a rollout is: its kind, the payload types Codex pairs or turns into messages, and the
record the rules read of it, whichever classifier made it.

Three generations of line exist (see docs/codex-format.md): legacy bare lines (before Sept 2025), the envelope
``{"timestamp","type","payload"}`` (0.3x onward, written by 0.77.0) and the paginated envelope with a
top-level ``ordinal`` (2026, written by 0.169.0).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, NamedTuple

from rollout_doctor.core.plain import Fielded


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
    # A message between agents (0.171.0 multi-agent, codex-rs InterAgentCommunication): model input, sent
    # as an agent_message item, and a turn boundary on rollback.
    INTER_AGENT = 10


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
    "inter_agent_communication": LineKind.INTER_AGENT,
}
# The role an agent_message item (and an inter_agent_communication line) gets as a MESSAGE here: Codex sends
# it as model input and counts it as a turn boundary (is_user_turn_boundary, 0.171.0).
AGENT_ROLE = "agent"

# call payload type -> the output payload type Codex pairs with it
CALL_OUTPUT_TYPE = {
    "function_call": "function_call_output",
    "custom_tool_call": "custom_tool_call_output",
    "local_shell_call": "function_call_output",
    "tool_search_call": "tool_search_output",
}
OUTPUT_TYPES = frozenset(CALL_OUTPUT_TYPE.values())
# The API refuses a longer call_id ("string too long … maximum length 64"; docs/codex-format.md). Codex passes ids
# through as written (0.77.0, 0.169.0 and 0.171.0 sent two 64-character ones, tests/test_e2e_shapes.py, and
# a 68-character one, seen once).
CALL_ID_MAX = 64
# Items that Codex's Chat wire turns into messages of their own; the rest (reasoning, ghost snapshots,
# web searches, compaction markers) produce none and so cannot break call/output adjacency.
CHAT_MESSAGE_TYPES = frozenset({"message", *CALL_OUTPUT_TYPE, *OUTPUT_TYPES})
LEGACY_ITEM_TYPES = frozenset(
    {*CHAT_MESSAGE_TYPES, "reasoning", "web_search_call", "ghost_snapshot", "compaction"}
)
# item_completed items that hold a tool's result (TurnItem variants; CommandExecution and FileChange seen
# in 0.169.0 rollouts, McpToolCall from the source); rollout_doctor.formats.codex.recover reads them.
OUTPUT_ITEM_TYPES = frozenset({"CommandExecution", "FileChange", "McpToolCall"})


class Rare(NamedTuple):
    """What few items have (an output's problems, a bad id, another provider's reasoning, a message Codex
    injected or another agent sent), kept apart so that the others carry one empty slot for all of it:
    the 145 000 items of a 1 GB rollout are 8 MB smaller (``Item.rare``)."""

    output_problem: str | None = None
    old_release_problem: str | None = None
    call_id_problem: str | None = None
    contextual: bool = False
    bad_id: str | None = None
    reasoning_content: int | None = None
    image_problem: tuple[str, str] | None = None
    inter_agent: bool = False


def rare(output_problem: str | None = None, old_release_problem: str | None = None,
         call_id_problem: str | None = None, contextual: bool = False, bad_id: str | None = None,
         reasoning_content: int | None = None, image_problem: tuple[str, str] | None = None,
         inter_agent: bool = False) -> Rare | None:
    """``Item.rare`` for these values: None when all are the defaults, as for most items."""
    if (output_problem is None and old_release_problem is None and call_id_problem is None and not contextual
            and bad_id is None and reasoning_content is None and image_problem is None and not inter_agent):
        return None
    return Rare(output_problem, old_release_problem, call_id_problem, contextual, bad_id, reasoning_content,
                image_problem, inter_agent)


_PLAIN = Rare()


@dataclass(slots=True, init=False, repr=False, eq=False)
class Item(Fielded):
    """A ResponseItem as the pairing rules see it."""

    line: int
    index: int | None  # position inside a compacted line's replacement_history, None for a plain line
    type: str
    kind: ItemKind
    role: str | None = None
    call_id: str | None = None
    name: str | None = None
    output_ok: bool = True
    preview: str = ""
    rare: Rare | None = None  # the fields below, when any is not its default (``rare()``)

    def __init__(self, line: int, index: int | None, type: str, kind: ItemKind, role: str | None = None,
                 call_id: str | None = None, name: str | None = None, output_ok: bool = True, preview: str = "",
                 rare: Rare | None = None) -> None:
        self.line = line
        self.index = index
        self.type = type
        self.kind = kind
        self.role = role
        self.call_id = call_id
        self.name = name
        self.output_ok = output_ok
        self.preview = preview
        self.rare = rare

    # Why every release seen drops the line (output_ok is False).
    @property
    def output_problem(self) -> str | None:
        return (self.rare or _PLAIN).output_problem

    # Why releases before NEWER_OUTPUT_RELEASE drop the line that 0.169.0 and 0.171.0 read (the rule decides
    # whether the file may meet such a release).
    @property
    def old_release_problem(self) -> str | None:
        return (self.rare or _PLAIN).old_release_problem

    # Why this output can answer no call: a function or custom output with no call_id (absent or null)
    # or an empty one, a client-side tool search output with an empty one. Codex skips the line, drops it
    # as an orphan, or (0.169.0 and 0.171.0, for a function output) sends it with no call_id.
    @property
    def call_id_problem(self) -> str | None:
        return (self.rare or _PLAIN).call_id_problem

    # A user message Codex injected itself (environment context, AGENTS.md, ...).
    @property
    def contextual(self) -> bool:
        return (self.rare or _PLAIN).contextual

    # The item's own ``id`` when it does not begin as the API wants for its type (item_ids.py); only a
    # bad one is kept: a 1 GB rollout holds some 150 000 good ones.
    @property
    def bad_id(self) -> str | None:
        return (self.rare or _PLAIN).bad_id

    # A reasoning item's ``content`` array length when it is a non-empty array (another provider's
    # reasoning text; the API takes none); None otherwise.
    @property
    def reasoning_content(self) -> int | None:
        return (self.rare or _PLAIN).reasoning_content

    # Where a tool output holds an image whose URL the API refuses (``output[1].image_url``) and why.
    @property
    def image_problem(self) -> tuple[str, str] | None:
        return (self.rare or _PLAIN).image_problem

    # An assistant message carrying instructions from another agent (InterAgentCommunication as JSON
    # text): a turn boundary on rollback, like a user message (codex-rs history.rs, 0.171.0).
    @property
    def inter_agent(self) -> bool:
        return (self.rare or _PLAIN).inter_agent

    @property
    def where(self) -> str:
        if self.index is None:
            return f"line {self.line + 1}"
        return f"line {self.line + 1} (replacement_history[{self.index}])"


@dataclass(slots=True, init=False, repr=False, eq=False)
class Meta(Fielded):
    line: int
    id: Any
    history_mode: Any
    cli_version: str | None
    legacy: bool = False
    model_provider: str | None = None
    # A fork or a revert branch (Codex 0.169.0 and 0.171.0): where the parent's history this file continues
    # ends. None when the meta has no history_base; a HistoryBase with ``problem`` set when it is malformed.
    history_base: HistoryBase | None = None

    def __init__(self, line: int, id: Any, history_mode: Any, cli_version: str | None, legacy: bool = False,
                 model_provider: str | None = None, history_base: HistoryBase | None = None) -> None:
        self.line = line
        self.id = id
        self.history_mode = history_mode
        self.cli_version = cli_version
        self.legacy = legacy
        self.model_provider = model_provider
        self.history_base = history_base


@dataclass(frozen=True, slots=True)
class HistoryBase:
    """``session_meta.history_base``: the parent's records up to byte ``end_byte_offset`` (ordinals below
    ``end_ordinal_exclusive``) come before this file's own. ``rollout_id`` names the parent's file: the uuid
    after ``_`` in a revert branch's name, else its thread id (Codex calls it ``thread_id``)."""

    rollout_id: str | None
    end_ordinal_exclusive: int | None
    end_byte_offset: int | None
    problem: str | None = None


@dataclass(slots=True, init=False, repr=False, eq=False)
class Compacted(Fielded):
    line: int
    replacement: list[Item] | None
    replacement_problem: str | None = None

    def __init__(self, line: int, replacement: list[Item] | None, replacement_problem: str | None = None) -> None:
        self.line = line
        self.replacement = replacement
        self.replacement_problem = replacement_problem


@dataclass(slots=True, init=False, repr=False, eq=False)
class Event(Fielded):
    line: int
    type: str
    num_turns: int | None = None
    call_id: str | None = None
    turn_id: str | None = None  # the turn a task_started, task_complete or turn_aborted event belongs to

    def __init__(self, line: int, type: str, num_turns: int | None = None, call_id: str | None = None,
                 turn_id: str | None = None) -> None:
        self.line = line
        self.type = type
        self.num_turns = num_turns
        self.call_id = call_id
        self.turn_id = turn_id


@dataclass(slots=True, init=False, repr=False, eq=False)
class Invalid(Fielded):
    line: int
    reason: str
    needs_timestamp: bool = False  # a whole record that only lacks the timestamp Codex requires
    oversized: bool = False  # longer than lines.LINE_LIMIT: never read whole (lines.iter_blocks)

    def __init__(self, line: int, reason: str, needs_timestamp: bool = False, oversized: bool = False) -> None:
        self.line = line
        self.reason = reason
        self.needs_timestamp = needs_timestamp
        self.oversized = oversized


Record = Item | Meta | Compacted | Event | Invalid
# A line's facts as indexing keeps them (core.format.Facts): kind, ordinal and record.
Facts = tuple[LineKind, int | None | bool, Record | None]


@dataclass(slots=True, init=False, repr=False, eq=False)
class LineFacts(Fielded):
    kind: LineKind
    ordinal: int | None | bool  # int, None when absent, False when present but not an integer
    record: Record | None

    def __init__(self, kind: LineKind, ordinal: int | None | bool, record: Record | None) -> None:
        self.kind = kind
        self.ordinal = ordinal
        self.record = record


_SHARED: dict[str, str] = {}


def shared(text: str) -> str:
    """One string object for each of the few type, role and tool names a session uses: a 1 GB rollout
    holds some 150 000 records naming a dozen of them. Bounded, since names come from the file."""
    if len(_SHARED) < 4096:
        return _SHARED.setdefault(text, text)
    return _SHARED.get(text, text)
