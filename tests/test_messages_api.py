"""The loopback Messages API refuses a history as the real API does, with the real API's words (quoted from
anthropics/claude-code#6836, #21088, #40026, #63147), and takes a well-formed one: the end-to-end tests'
"refused before, accepted after" is only as good as this judge."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.messages_api import judge_messages

USE = {"type": "tool_use", "id": "toolu_01A", "name": "Bash", "input": {"command": "ls"}}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "a.txt"}


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def assistant(*blocks: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": list(blocks)}


def text(value: str) -> dict[str, str]:
    return {"type": "text", "text": value}


@pytest.mark.parametrize(("messages", "refusal"), [
    pytest.param([user(text("hi")), assistant(USE), user(text("go on"))],
                 "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01A.",
                 id="unanswered"),
    pytest.param([user(text("hi")), assistant(text("ok")), user(RESULT)],
                 "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01A.",
                 id="orphan-result"),
    pytest.param([user(text("hi")), assistant(USE), user(text("wait"), RESULT)],
                 "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01A.",
                 id="result-after-text"),
    pytest.param([user(text("hi")), assistant(USE), user(RESULT), assistant(USE), user(RESULT)],
                 "messages.3.content.0: `tool_use` ids must be unique", id="duplicate-id"),
    pytest.param([user(text("hi")), assistant(text("ok"), {"type": "advisor_tool_result", "tool_use_id": "srvtoolu_1"}),
                  user(text("go on"))],
                 "messages.1.content.1: unexpected tool_use_id found in advisor_tool_result blocks: srvtoolu_1.",
                 id="orphan-advisor-result"),
    pytest.param([user(text("hi")), assistant({"type": "thinking", "thinking": "", "signature": "Eq"}, text("ok")),
                  user(text("go on"))],
                 "messages.1.content.0: `thinking` or `redacted_thinking` blocks in the latest assistant message "
                 "cannot be modified.", id="hollow-thinking"),
    pytest.param([user(text("hi")), {"role": "assistant", "content": []}, user(text("go on"))],
                 "messages.1: all messages must have non-empty content", id="empty"),
])
def test_the_stand_in_refuses_as_the_api_does(messages: list[dict[str, Any]], refusal: str) -> None:
    judged = judge_messages(messages)
    assert judged is not None and judged.message.startswith(refusal)


@pytest.mark.parametrize("messages", [
    pytest.param([user(text("hi")), assistant(text("look"), USE), user(RESULT, text("and then?")),
                  assistant(text("done"))], id="answered-then-text"),
    pytest.param([user(text("hi")), {"role": "system", "content": "env"}, assistant(USE), user(RESULT)],
                 id="system-entries-are-not-turns"),
    pytest.param([user(text("hi")), assistant(text("ok"), {"type": "server_tool_use", "id": "srvtoolu_1"},
                                              {"type": "advisor_tool_result", "tool_use_id": "srvtoolu_1"})],
                 id="advisor-after-its-call"),
    pytest.param([user(text("hi")), assistant({"type": "thinking", "thinking": "", "signature": "Eq"}, text("a")),
                  user(text("b")), assistant(text("c")), user(text("d"))], id="hollow-thinking-further-back"),
])
def test_the_stand_in_takes_a_well_formed_history(messages: list[dict[str, Any]]) -> None:
    assert judge_messages(messages) is None
