"""The one table of what the rules read from a line: each field, the JSON type it is read as, and which
payload types read it into which record.

Both classifiers are driven by it. The reference (``classify.py``) reads the listed fields of a parsed
payload with ``dict.get`` and hands them to the row's builder (``payload_records.py``); the fast path
(``classify_fast.py``) builds its msgspec Structs from the field types, so msgspec decodes exactly these
fields, and hands the same builder the decoded values. A value of any other type fails the fast decode
and the line goes to the reference, so the builder answers for it once, for both.

Adding a field a rule needs: declare it in ``PAYLOAD_FIELDS``, list it in the rows that read it, and take
it in their builders, in the same order (tests/test_classify_fast.py checks that the three agree).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rollout_doctor.formats.codex import payload_records as build

STRING = "string"
INTEGER = "integer"
# Any JSON value. The fast path leaves it undecoded and a builder reads it only when the record depends
# on it (payload_records.JsonFields): a tool's output can be megabytes, of which a rule reads only the shape.
JSON = "json"

# An object's fields: name -> a JSON type, or the fields of a nested object.
Fields = dict[str, "str | Fields"]

# Every payload field a builder reads. A null reads as an absent field (the reference reads a payload
# with dict.get), so the fast path accepts null wherever it accepts the type, except for a nested object.
PAYLOAD_FIELDS: Fields = {
    "type": STRING,
    "id": STRING,  # an item's own id (msg_, fc_, ctc_, rs_), which 2026 releases send to the API
    "call_id": STRING,
    "role": STRING,
    "name": STRING,
    "execution": STRING,
    "output": JSON,
    "content": JSON,
    "num_turns": INTEGER,
    "turn_id": STRING,  # task_started, task_complete, turn_aborted: which turn an event opens or closes
    "item": {"type": STRING, "id": STRING},  # item_completed's TurnItem
}

# The envelope (0.3x onward). The fast path answers only for a line that has the required fields with
# these types; every other line (legacy ones too) goes to the reference. Here a null is not an absent
# field: a null ordinal is "present but not an integer".
ENVELOPE_FIELDS: Fields = {"timestamp": STRING, "type": STRING, "payload": PAYLOAD_FIELDS, "ordinal": INTEGER}
ENVELOPE_REQUIRED = frozenset({"timestamp", "type", "payload"})


class Reads:
    """A row: ``build(line, [index,] type, *values)`` takes the values of ``fields`` in this order
    (``"item.id"`` is ``id`` of the object ``item``); an item builder takes last how to read a JSON field
    (payload_records.JsonFields)."""

    __slots__ = ("build", "fields")

    def __init__(self, build: Callable[..., Any], *fields: str) -> None:
        self.build, self.fields = build, fields


# Item payload type -> its row. An item of any other type is recorded by its type alone.
ITEM_READS: dict[str, Reads] = {
    "message": Reads(build.message, "role", "content", "id"),
    "function_call": Reads(build.call, "call_id", "name", "id"),
    "custom_tool_call": Reads(build.call, "call_id", "name", "id"),
    "reasoning": Reads(build.reasoning, "content", "id"),
    "agent_message": Reads(build.agent_message, "id"),
    "local_shell_call": Reads(build.local_shell_call, "call_id", "name"),
    "tool_search_call": Reads(build.tool_search_call, "call_id", "name", "execution"),
    "function_call_output": Reads(build.tool_output, "call_id", "output"),
    "custom_tool_call_output": Reads(build.tool_output, "call_id", "output"),
    "tool_search_output": Reads(build.tool_search_output, "call_id", "execution"),
}

# Event payload type -> its row. An event of any other type records nothing. The tool-end events hold
# what a tool printed; issue 6 recovers outputs from them.
EVENT_READS: dict[str, Reads] = {
    "thread_rolled_back": Reads(build.rollback, "num_turns"),
    # A turn's span: a rollback recorded inside one is spurious (spurious-rollback; core refuses a
    # rollback while a turn runs).
    "task_started": Reads(build.turn_event, "turn_id"),
    "task_complete": Reads(build.turn_event, "turn_id"),
    "turn_aborted": Reads(build.turn_event, "turn_id"),
    "exec_command_end": Reads(build.tool_end, "call_id"),
    "patch_apply_end": Reads(build.tool_end, "call_id"),
    "mcp_tool_call_end": Reads(build.tool_end, "call_id"),
    "item_completed": Reads(build.item_completed, "item.type", "item.id"),
}
