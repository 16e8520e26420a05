"""The pairing rules a model API applies to the history it is sent, as pure functions.

Two levels:
- what the upstream API *refuses* (HTTP 400, in its own words): `judge_responses_input`,
  `judge_chat_messages`. The loopback server answers with these.
- the stricter contract a correct broker keeps (`broker_contract_violations`): the API lets some
  broken histories through (a user message while a call waits), tests still want to see them.

The API's words are copied from real 400 answers (`param` and `code` too). Which problem the real
API reports first when a history has several is not known; we report the first by position.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Item = Mapping[str, Any]

# call type -> the family of output that answers it. local_shell_call is answered by a
# function_call_output in Codex, so it shares the "function" family.
CALL_FAMILY = {
    "function_call": "function",
    "local_shell_call": "function",
    "custom_tool_call": "custom",
    "tool_search_call": "tool_search",
}
OUTPUT_FAMILY = {
    "function_call_output": "function",
    "custom_tool_call_output": "custom",
    "tool_search_output": "tool_search",
}
_CALL_WORDS = {"function": "function call", "custom": "custom tool call", "tool_search": "tool search call"}
_OUTPUT_WORDS = {
    "function": "function call output",
    "custom": "custom tool call output",
    "tool_search": "tool search output",
}


@dataclass(frozen=True)
class Refusal:
    """One 400 answer: the message and the `param` the API names."""

    message: str
    param: str | None
    code: str | None = None

    def error_body(self) -> dict[str, Any]:
        # The exact envelope OpenAI returns for request validation errors.
        return {
            "error": {
                "message": self.message,
                "type": "invalid_request_error",
                "param": self.param,
                "code": self.code,
            }
        }


def call_of(item: Item) -> tuple[str, str] | None:
    """(family, call_id) when the item is a call that needs an answer, else None."""
    family = CALL_FAMILY.get(str(item.get("type")))
    call_id = item.get("call_id")
    if family is None or not isinstance(call_id, str):
        return None  # local_shell_call with a null call_id pairs with nothing
    if family == "tool_search" and item.get("execution") != "client":
        return None  # server-side tool search is answered by the API itself
    return family, call_id


def output_of(item: Item) -> tuple[str, str] | None:
    family = OUTPUT_FAMILY.get(str(item.get("type")))
    call_id = item.get("call_id")
    if family is None or not isinstance(call_id, str):
        return None
    return family, call_id


# What the API checks of each item before it pairs anything, in the words of the reports quoted.
# Item type -> the prefix its id must begin with: "Invalid 'input[107].id': 'fc_…'. Expected an ID that
# begins with 'ctc'." (openai/codex#40039; 'msg' #33176, 'rs' jlcodes99/cockpit-tools#2090, 'fc'
# continuedev/continue#11494, code invalid_value there).
ID_PREFIX = {"message": "msg", "function_call": "fc", "custom_tool_call": "ctc", "reasoning": "rs"}
CALL_ID_MAX = 64  # "string too long. Expected a string with maximum length 64" (orchidfiles/ungate#26)
MODEL_OUTPUT_TYPES = {"function_call", "custom_tool_call", "local_shell_call", "tool_search_call",
                      "web_search_call", "image_generation_call"}


def valid_image_url(url: str) -> bool:
    """An http(s) URL with a host, or a base64 data URL of an image."""
    if url.startswith("data:"):
        head, _, data = url.partition(",")
        return head.startswith("data:image/") and head.endswith(";base64") and bool(data)
    scheme, _, rest = url.partition("://")
    return scheme in ("http", "https") and bool(rest.split("/")[0])


def item_refusal(n: int, item: Item) -> Refusal | None:
    """What the API says of one input item on its own: its id's prefix, its call_id's length, a
    reasoning item's content, an image URL in a tool output."""
    item_type = item.get("type")
    item_id = item.get("id")
    prefix = ID_PREFIX.get(str(item_type))
    if prefix and isinstance(item_id, str) and not item_id.startswith(prefix):
        return Refusal(f"Invalid 'input[{n}].id': '{item_id}'. Expected an ID that begins with '{prefix}'.",
                       f"input[{n}].id", "invalid_value")
    call_id = item.get("call_id")
    if isinstance(call_id, str) and len(call_id) > CALL_ID_MAX:
        return Refusal(f"Invalid 'input[{n}].call_id': string too long. Expected a string with maximum length "
                       f"{CALL_ID_MAX}, but got a string with length {len(call_id)} instead.",
                       f"input[{n}].call_id", "string_above_max_length")
    content = item.get("content")
    if item_type == "reasoning" and isinstance(content, list) and content:
        # openai/codex#36551: reasoning text another provider wrote
        return Refusal(f"Invalid 'input[{n}].content': array too long. Expected an array with maximum length 0, "
                       f"but got an array with length {len(content)} instead.", f"input[{n}].content",
                       "array_above_max_length")
    output = item.get("output")
    if str(item_type).endswith("_output") and isinstance(output, list):
        for m, part in enumerate(output):
            url = part.get("image_url") if isinstance(part, dict) and part.get("type") == "input_image" else None
            if isinstance(url, str) and not valid_image_url(url):
                # openai/codex#33011, as reported
                return Refusal(f"Invalid 'input[{n}].output[{m}].image_url'. Expected a valid URL",
                               f"input[{n}].output[{m}].image_url", "invalid_value")
    return None


def reasoning_refusal(items: Sequence[Item]) -> Refusal | None:
    """A reasoning item must be followed by the item the model produced after it (a message or a call):
    "Item 'rs_…' of type 'reasoning' was provided without its required following item." (#10722, #13569)."""
    for n, item in enumerate(items):
        if item.get("type") != "reasoning":
            continue
        following = next((i for i in items[n + 1:] if i.get("type") != "reasoning"), None)
        made_by_model = following is not None and (
            following.get("type") in MODEL_OUTPUT_TYPES
            or (following.get("type") == "message" and following.get("role") == "assistant"))
        if not made_by_model:
            return Refusal(f"Item '{item.get('id') or ''}' of type 'reasoning' was provided without its required "
                           "following item.", "input")
    return None


def responses_refusal(items: Sequence[Item]) -> Refusal | None:
    """What `POST /v1/responses` answers for this `input` list, or None when it accepts it.

    First each item on its own (``item_refusal``), then reasoning items and what follows them, then
    pairing: each output consumes the earliest unanswered earlier call with its call_id; an output with
    none (never called, called later, or already answered) is refused, and so is a call left unanswered.
    """
    for n, item in enumerate(items):
        if (refusal := item_refusal(n, item)) is not None:
            return refusal
    if (refusal := reasoning_refusal(items)) is not None:
        return refusal
    pending: dict[tuple[str, str], int] = {}  # (family, call_id) -> unanswered calls
    order: list[tuple[str, str]] = []
    for item in items:
        if (call := call_of(item)) is not None:
            pending[call] = pending.get(call, 0) + 1
            order.append(call)
        elif (out := output_of(item)) is not None:
            if pending.get(out, 0) == 0:
                family, call_id = out
                return Refusal(
                    f"No tool call found for {_OUTPUT_WORDS[family]} with call_id {call_id}.", "input"
                )
            pending[out] -= 1
    for call in order:
        if pending.get(call, 0) > 0:
            family, call_id = call
            return Refusal(f"No tool output found for {_CALL_WORDS[family]} {call_id}.", "input")
    return None


def judge_responses_input(items: Sequence[Item]) -> str | None:
    refusal = responses_refusal(items)
    return None if refusal is None else refusal.message


def chat_refusal(messages: Sequence[Item]) -> Refusal | None:
    """What `POST /v1/chat/completions` answers for this `messages` list, or None.

    The Chat wire is positional: an assistant message with tool_calls must be followed at once by a
    tool message for each of its ids; a tool message anywhere else is refused.
    """
    i = 0
    while i < len(messages):
        message = messages[i]
        role = message.get("role")
        if role == "tool":
            return Refusal(
                "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
                f"messages.[{i}].role",
            )
        tool_calls = message.get("tool_calls") if role == "assistant" else None
        if not tool_calls:
            i += 1
            continue
        wanted = [str(call.get("id")) for call in tool_calls]
        answered: set[str] = set()
        j = i + 1
        while j < len(messages) and messages[j].get("role") == "tool":
            tool_call_id = str(messages[j].get("tool_call_id"))
            if tool_call_id not in wanted:
                return Refusal(
                    f"Invalid parameter: 'tool_call_id' of '{tool_call_id}' not found in 'tool_calls' of previous message.",
                    f"messages.[{j}].tool_call_id",
                )
            answered.add(tool_call_id)
            j += 1
        missing = [call_id for call_id in wanted if call_id not in answered]
        if missing:
            return Refusal(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(missing)}",
                f"messages.[{i}].role",
            )
        i = j
    return None


def judge_chat_messages(messages: Sequence[Item]) -> str | None:
    refusal = chat_refusal(messages)
    return None if refusal is None else refusal.message


def broker_contract_violations(items: Iterable[Item]) -> list[str]:
    """Every way a Responses-style history breaks the broker contract, in file order.

    Stricter than the API: call ids unique; every call answered exactly once, later; no output
    without an earlier call; no user message while a call is still waiting for its output.
    """
    problems: list[str] = []
    called: dict[str, int] = {}  # call_id -> position of its (first) call
    answered: set[str] = set()
    waiting: list[str] = []  # call ids called and not yet answered, in call order
    for position, item in enumerate(items):
        if (call := call_of(item)) is not None:
            call_id = call[1]
            if call_id in called:
                problems.append(
                    f"item {position}: call id {call_id} is used by an earlier call (item {called[call_id]})"
                )
                continue
            called[call_id] = position
            waiting.append(call_id)
        elif (out := output_of(item)) is not None:
            call_id = out[1]
            if call_id not in called:
                problems.append(f"item {position}: output for {call_id} has no earlier call")
            elif call_id in answered:
                problems.append(f"item {position}: second output for {call_id}")
            else:
                answered.add(call_id)
                waiting.remove(call_id)
        elif item.get("type") == "message" and item.get("role") == "user" and waiting:
            problems.append(f"item {position}: user message while {', '.join(waiting)} wait for output")
    problems.extend(f"call {call_id} (item {called[call_id]}) is never answered" for call_id in waiting)
    return problems


def items_of_chat(messages: Iterable[Item]) -> list[dict[str, Any]]:
    """A Chat wire `messages` list as Responses-style items, so `broker_contract_violations` can judge it:
    each tool call becomes a function_call, each tool message a function_call_output, and user messages
    stay user messages (system and assistant text do not take part in the contract)."""
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "assistant":
            for call in message.get("tool_calls") or []:
                items.append({"type": "function_call", "call_id": call.get("id")})
        elif role == "tool":
            items.append({"type": "function_call_output", "call_id": message.get("tool_call_id")})
        elif role == "user":
            items.append({"type": "message", "role": "user"})
    return items
