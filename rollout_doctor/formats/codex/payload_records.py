"""What a payload's fields mean: the record of an item or event, built from the values of the fields
``fields.py`` lists for its type, in that order.

Both classifiers call these builders: the reference with the values ``dict.get`` gives (any JSON value,
None when absent), the fast path with the values msgspec decoded (only of the types the table declares;
any other sends the line to the reference). So a builder must answer for any JSON value, and the two
paths cannot give different records for the same values.

A field the table declares as JSON reaches a builder undecoded on the fast path (tool outputs run to
megabytes): a builder reads it only through ``json``, and only when the record depends on it.
"""

from __future__ import annotations

from typing import Any, Protocol

from rollout_doctor.formats.codex.contextual import is_contextual, is_inter_agent_instruction, message_texts
from rollout_doctor.formats.codex.item_ids import bad_id, output_image_problem, reasoning_content_items
from rollout_doctor.formats.codex.output_shapes import output_shape
from rollout_doctor.formats.codex.records import (
    AGENT_ROLE,
    OUTPUT_ITEM_TYPES,
    Event,
    Item,
    ItemKind,
    rare,
    shared,
)


class JsonFields(Protocol):
    """How a builder reads a field of type JSON: ``value`` reads it whole, ``is_string`` tells a string
    without reading it (a tool's output is mostly a string of megabytes, of which no rule reads the text)."""

    def value(self, field: Any) -> Any: ...

    def is_string(self, field: Any) -> bool: ...

    def mentions(self, field: Any, needle: bytes) -> bool:
        """Whether the field may hold ``needle``: False only when its JSON text surely does not."""
        ...


class ParsedJson:
    """The reference's JSON fields: values orjson has already parsed."""

    def value(self, field: Any) -> Any:
        return field

    def is_string(self, field: Any) -> bool:
        return isinstance(field, str)

    def mentions(self, field: Any, needle: bytes) -> bool:
        return field is not None  # parsed already: reading it costs nothing more


PARSED = ParsedJson()


def message(line: int, index: int | None, item_type: str, role: Any, content: Any, id: Any,
            json: JsonFields = PARSED) -> Item:
    contextual = role == "user" and is_contextual(message_texts(json.value(content)))
    inter_agent = (role == "assistant" and json.mentions(content, b"trigger_turn")
                   and is_inter_agent_instruction(json.value(content)))
    return Item(line, index, shared(item_type), ItemKind.MESSAGE,
                role=shared(role) if isinstance(role, str) else None,
                rare=rare(contextual=contextual, bad_id=bad_id(item_type, id), inter_agent=inter_agent))


def agent_message(line: int, index: int | None, item_type: str, id: Any,
                  json: JsonFields = PARSED) -> Item:
    """A message from another agent (0.171.0 multi-agent v2, ``amsg_…`` ids): model input, and a turn
    boundary. Its id's prefix is not checked: no report shows the API refusing one."""
    return Item(line, index, shared(item_type), ItemKind.MESSAGE, role=AGENT_ROLE)


def call(line: int, index: int | None, item_type: str, call_id: Any, name: Any, id: Any = None,
         json: JsonFields = PARSED) -> Item:
    call_id = call_id if isinstance(call_id, str) and call_id else None  # only a non-empty string pairs
    name = name if isinstance(name, str) else None
    return Item(line, index, shared(item_type), ItemKind.CALL if call_id else ItemKind.OTHER, call_id=call_id,
                name=shared(name) if name else name, rare=rare(bad_id=bad_id(item_type, id)))


def reasoning(line: int, index: int | None, item_type: str, content: Any, id: Any,
              json: JsonFields = PARSED) -> Item:
    # content is null in every reasoning item Codex writes for the OpenAI API; read it only when it is not.
    items = None if content is None else reasoning_content_items(json.value(content))
    return Item(line, index, shared(item_type), ItemKind.OTHER,
                rare=rare(bad_id=bad_id(item_type, id), reasoning_content=items))


def local_shell_call(line: int, index: int | None, item_type: str, call_id: Any, name: Any,
                     json: JsonFields = PARSED) -> Item:
    return call(line, index, item_type, call_id, name if isinstance(name, str) else "local_shell", json=json)


def tool_search_call(line: int, index: int | None, item_type: str, call_id: Any, name: Any, execution: Any,
                     json: JsonFields = PARSED) -> Item:
    # Server-side searches are answered by the API itself.
    return call(line, index, item_type, call_id if execution == "client" else None, name, json=json)


def tool_output(line: int, index: int | None, item_type: str, call_id: Any, output: Any,
                json: JsonFields = PARSED) -> Item:
    """A function or custom tool output."""
    problem, old, image = None, None, None
    if not json.is_string(output):
        value = json.value(output)
        problem, old = output_shape(value, item_type)
        image = output_image_problem(value) if problem is None else None
    if isinstance(call_id, str) and call_id:
        return Item(line, index, shared(item_type), ItemKind.OUTPUT, call_id=call_id,
                    output_ok=problem is None,
                    rare=rare(output_problem=problem, old_release_problem=old, image_problem=image))
    if call_id is not None and not isinstance(call_id, str):
        return _unreadable_call_id(line, index, item_type, call_id, old)
    # absent and null read alike (0.77.0 skips both; 0.169.0, 0.171.0 send both)
    id_problem = "has an empty call_id" if call_id == "" else "has no call_id"
    return Item(line, index, shared(item_type), ItemKind.OTHER, output_ok=problem is None,
                rare=rare(output_problem=problem, old_release_problem=old, call_id_problem=id_problem))


def tool_search_output(line: int, index: int | None, item_type: str, call_id: Any, execution: Any,
                       json: JsonFields = PARSED) -> Item:
    if call_id is not None and not isinstance(call_id, str):
        return _unreadable_call_id(line, index, item_type, call_id, None)
    if execution == "server":
        # Codex's remove_orphan_outputs keeps a server-side search's output whatever its call_id (even
        # ""), as it keeps any with no call_id; 0.169.0 and 0.171.0 send both as written. Neither
        # answers a call.
        return Item(line, index, shared(item_type), ItemKind.OTHER)
    if call_id:
        return Item(line, index, shared(item_type), ItemKind.OUTPUT, call_id=call_id)
    # A client one with an empty call_id: Codex drops it as an orphan.
    return Item(line, index, shared(item_type), ItemKind.OTHER,
                rare=rare(call_id_problem="has an empty call_id" if call_id == "" else None))


def _unreadable_call_id(line: int, index: int | None, item_type: str, call_id: Any, old: str | None) -> Item:
    # serde wants a string: every release seen skips the line ("invalid type: integer").
    return Item(line, index, shared(item_type), ItemKind.OTHER, output_ok=False,
                rare=rare(output_problem=f"call_id is {type(call_id).__name__}, not a string",
                          old_release_problem=old))


def rollback(line: int, event_type: str, num_turns: Any) -> Event:
    return Event(line, shared(event_type), num_turns=num_turns if type(num_turns) is int else None)


def turn_event(line: int, event_type: str, turn_id: Any) -> Event:
    """The start or end of a turn (the turn id may be absent: 0.77.0's events carry one, older ones not)."""
    return Event(line, shared(event_type), turn_id=turn_id if isinstance(turn_id, str) else None)


def tool_end(line: int, event_type: str, call_id: Any) -> Event | None:
    """An event that holds what a tool printed, under the call's id."""
    return Event(line, shared(event_type), call_id=call_id) if isinstance(call_id, str) else None


def item_completed(line: int, event_type: str, item_type: Any, item_id: Any) -> Event | None:
    """``tool_end`` for the items that hold a tool's result, under their own id."""
    # isinstance first: a list is unhashable
    if isinstance(item_type, str) and item_type in OUTPUT_ITEM_TYPES and isinstance(item_id, str):
        return Event(line, shared(event_type), call_id=item_id)
    return None
