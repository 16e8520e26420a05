"""Tests of the test harness itself: the judge, the loopback server, and real Codex against it.

The real-binary tests (marker `codex`) are the project's proof against the real client: they show
what released Codex does with the recorded fixtures, e.g. that the #8479 Chat-wire file is refused
on every resume.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.codex_bin import CACHE_ENV, _reports, binary_path, cache_root
from tests.support.codex_run import (
    CodexHome,
    read_jsonl,
    real_fixture,
    response_items,
    session_id_of,
)
from tests.support.loopback import (
    LoopbackServer,
    broker_contract_violations,
    custom_call,
    function_call,
    interrupted,
    judge_chat_messages,
    judge_responses_input,
    say,
)
from tests.support.scenarios import NEW, NEWEST, OLD, PAGINATED, SCENARIOS, is_paginated, play

pytest_plugins = ["tests.support.fixtures"]  # the `loopback` and `codex_home` fixtures

USER = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]}


def call(call_id: str) -> dict:
    return function_call("shell", {"command": ["true"]}, call_id)


def out(call_id: str, kind: str = "function_call_output") -> dict:
    return {"type": kind, "call_id": call_id, "output": "ok"}


def ccall(call_id: str) -> dict:
    return custom_call("apply_patch", "*** Begin Patch\n*** End Patch\n", call_id)


# --- the judge: Responses wire ------------------------------------------------------------------

ACCEPTED = [
    pytest.param([USER, call("c1"), out("c1"), say("done")], id="call-then-output"),
    pytest.param([USER, call("a"), call("b"), out("a"), out("b")], id="parallel-calls"),
    pytest.param([USER, call("a"), call("b"), out("b"), out("a")], id="parallel-outputs-reordered"),
    pytest.param([USER, ccall("c1"), out("c1", "custom_tool_call_output")], id="custom-tool-call"),
    pytest.param(
        [
            USER,
            {
                "type": "local_shell_call",
                "call_id": None,
                "status": "completed",
                "action": {"type": "exec", "command": ["ls"]},
            },
        ],
        id="local-shell-call-without-id",
    ),
    pytest.param(
        [USER, {"type": "tool_search_call", "call_id": "t1", "execution": "server", "arguments": {}}],
        id="server-side-tool-search",
    ),
    pytest.param([USER, say("hi")], id="no-calls"),
    pytest.param([USER, {"type": "reasoning", "id": "rs_1", "content": None}, call("c1"), out("c1"),
                  {"type": "reasoning", "id": "rs_2"}, {"type": "reasoning", "id": "rs_3"}, say("done")],
                 id="reasoning-before-what-it-precedes"),
    pytest.param([USER, {**call("c1"), "id": "fc_1"}, {**out("c1"), "output": [
        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="},
        {"type": "input_image", "image_url": "https://example.com/a.png"}]}], id="ids-and-images-as-the-api-wants"),
    pytest.param([USER, call("c" * 64), out("c" * 64)], id="a-64-character-call-id"),
]


@pytest.mark.parametrize("items", ACCEPTED)
def test_judge_accepts_valid_responses_history(items: list[dict]) -> None:
    assert judge_responses_input(items) is None


REFUSED = [
    pytest.param([USER, {**ccall("c1"), "id": "fc_08d2"}, out("c1", "custom_tool_call_output")],
                 "Invalid 'input[1].id': 'fc_08d2'. Expected an ID that begins with 'ctc'.", id="fc-id-on-custom-call"),
    pytest.param([{**USER, "id": "review_rollout_user"}],
                 "Invalid 'input[0].id': 'review_rollout_user'. Expected an ID that begins with 'msg'.",
                 id="review-rollout-user"),
    pytest.param([USER, call("c" * 65), out("c" * 65)],
                 "Invalid 'input[1].call_id': string too long. Expected a string with maximum length 64, but got "
                 "a string with length 65 instead.", id="long-call-id"),
    pytest.param([USER, say("hi"), {"type": "reasoning", "id": "rs_9"}, USER],
                 "Item 'rs_9' of type 'reasoning' was provided without its required following item.",
                 id="reasoning-after-its-message"),
    pytest.param([USER, {"type": "reasoning", "id": "rs_1", "content": [{"type": "reasoning_text", "text": "t"}]},
                  say("hi")],
                 "Invalid 'input[1].content': array too long. Expected an array with maximum length 0, but got an "
                 "array with length 1 instead.", id="foreign-reasoning-content"),
    pytest.param([USER, call("c1"), {**out("c1"), "output": [{"type": "input_image", "image_url": "/tmp/a.png"}]}],
                 "Invalid 'input[2].output[0].image_url'. Expected a valid URL", id="image-path"),
    pytest.param([USER, call("c1")], "No tool output found for function call c1.", id="call-without-output"),
    pytest.param(
        [USER, ccall("c1")], "No tool output found for custom tool call c1.", id="custom-call-without-output"
    ),
    pytest.param(
        [USER, out("c9")], "No tool call found for function call output with call_id c9.", id="orphan-output"
    ),
    pytest.param(
        [USER, out("c1"), call("c1")],
        "No tool call found for function call output with call_id c1.",
        id="output-before-its-call",
    ),
    pytest.param(
        [USER, call("c1"), out("c1"), out("c1")],
        "No tool call found for function call output with call_id c1.",
        id="duplicated-output",
    ),
    pytest.param(
        [USER, call("c1"), call("c1"), out("c1")],
        "No tool output found for function call c1.",
        id="duplicate-call-id",
    ),
    pytest.param(
        [USER, ccall("c1"), out("c1")],
        "No tool call found for function call output with call_id c1.",
        id="function-output-for-custom-call",
    ),
    pytest.param(
        [USER, out("c2", "custom_tool_call_output")],
        "No tool call found for custom tool call output with call_id c2.",
        id="orphan-custom-output",
    ),
]


@pytest.mark.parametrize(("items", "message"), REFUSED)
def test_judge_refuses_broken_responses_history_in_the_apis_words(items: list[dict], message: str) -> None:
    assert judge_responses_input(items) == message


# --- the judge: Chat wire ---------------------------------------------------------------------------


def assistant_calls(*ids: str) -> dict:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": i, "type": "function", "function": {"name": "shell", "arguments": "{}"}} for i in ids
        ],
    }


def tool(call_id: str) -> dict:
    return {"role": "tool", "tool_call_id": call_id, "content": "ok"}


CHAT_USER = {"role": "user", "content": "go"}
MISSING = (
    "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
    "'tool_call_id'. The following tool_call_ids did not have response messages: "
)
STRAY_TOOL = "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'."


@pytest.mark.parametrize(
    "messages",
    [
        pytest.param(
            [CHAT_USER, assistant_calls("a"), tool("a"), {"role": "assistant", "content": "done"}], id="one"
        ),
        pytest.param(
            [CHAT_USER, assistant_calls("a", "b"), tool("b"), tool("a")], id="parallel-in-one-message"
        ),
        pytest.param(
            [CHAT_USER, assistant_calls("a"), tool("a"), assistant_calls("b"), tool("b")], id="interleaved"
        ),
    ],
)
def test_judge_accepts_valid_chat_history(messages: list[dict]) -> None:
    assert judge_chat_messages(messages) is None


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        pytest.param(
            [CHAT_USER, assistant_calls("a"), assistant_calls("b"), tool("a"), tool("b")],
            MISSING + "a",
            id="8479-split-parallel-calls",
        ),
        pytest.param([CHAT_USER, assistant_calls("a", "b"), tool("a")], MISSING + "b", id="one-missing"),
        pytest.param([CHAT_USER, assistant_calls("a", "b")], MISSING + "a, b", id="all-missing"),
        pytest.param([CHAT_USER, tool("a")], STRAY_TOOL, id="tool-without-call"),
        pytest.param(
            [CHAT_USER, assistant_calls("a"), tool("a"), CHAT_USER, tool("a")],
            STRAY_TOOL,
            id="tool-after-user-message",
        ),
    ],
)
def test_judge_refuses_broken_chat_history_in_the_apis_words(messages: list[dict], message: str) -> None:
    assert judge_chat_messages(messages) == message


# --- the broker contract ------------------------------------------------------------------------------


def test_contract_holds_for_a_clean_history() -> None:
    assert broker_contract_violations([USER, call("a"), call("b"), out("a"), out("b"), USER]) == []


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        pytest.param(
            [USER, call("a"), USER, out("a")], "user message while a wait", id="user-message-while-pending"
        ),
        pytest.param(
            [USER, call("a"), out("a"), call("a"), out("a")],
            "call id a is used by an earlier call",
            id="reused-call-id",
        ),
        pytest.param([USER, out("a"), call("a")], "output for a has no earlier call", id="output-first"),
        pytest.param([USER, call("a"), out("a"), out("a")], "second output for a", id="second-output"),
        pytest.param([USER, call("a")], "call a (item 1) is never answered", id="unanswered"),
    ],
)
def test_contract_flags_what_the_api_may_let_through(items: list[dict], fragment: str) -> None:
    problems = broker_contract_violations(items)
    assert any(fragment in problem for problem in problems), problems


def test_api_accepts_a_user_message_while_a_call_waits_but_the_contract_does_not() -> None:
    items = [USER, call("a"), USER, out("a")]
    assert judge_responses_input(items) is None
    assert broker_contract_violations(items)


# --- the loopback server over HTTP, without Codex -----------------------------------------------------


def post(url: str, body: dict) -> tuple[int, str]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def sse_events(text: str) -> list[dict | str]:
    data = [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]
    return [item if item == "[DONE]" else json.loads(item) for item in data]


def test_loopback_refuses_a_broken_request_with_the_openai_error_shape() -> None:
    with LoopbackServer([[say("never sent")]]) as server:
        status, body = post(f"{server.base_url}/responses", {"input": [USER, call("c1")]})
        assert status == 400
        assert json.loads(body) == {
            "error": {
                "message": "No tool output found for function call c1.",
                "type": "invalid_request_error",
                "param": "input",
                "code": None,
            }
        }
        assert server.turns, "a refused request must not use up a scripted turn"
        assert server.requests[0].body["input"][1]["call_id"] == "c1"


def test_loopback_streams_a_scripted_responses_turn() -> None:
    with LoopbackServer([[call("c1"), say("hi")]]) as server:
        status, body = post(f"{server.base_url}/responses", {"input": [USER]})
    events = sse_events(body)
    assert status == 200
    assert [e["type"] for e in events] == [
        "response.created",
        "response.output_item.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[1]["item"]["call_id"] == "c1" and events[1]["item"]["id"].startswith("fc_")
    assert events[-1]["response"]["id"] == events[0]["response"]["id"]
    assert events[-1]["response"]["usage"]["total_tokens"] > 0


def test_loopback_interrupted_turn_ends_before_response_completed() -> None:
    with LoopbackServer([interrupted(call("c1"))]) as server:
        _, body = post(f"{server.base_url}/responses", {"input": [USER]})
    assert [e["type"] for e in sse_events(body)] == ["response.created", "response.output_item.done"]


def test_loopback_streams_a_chat_turn_with_tool_call_deltas() -> None:
    with LoopbackServer([[call("a"), call("b")]]) as server:
        status, body = post(f"{server.base_url}/chat/completions", {"messages": [CHAT_USER]})
    events = sse_events(body)
    assert status == 200 and events[-1] == "[DONE]"
    deltas = [e["choices"][0] for e in events[:-1]]
    assert [d["delta"]["tool_calls"][0]["id"] for d in deltas[:-1]] == ["a", "b"]
    assert deltas[-1]["finish_reason"] == "tool_calls"


def test_loopback_refuses_the_8479_chat_shape() -> None:
    with LoopbackServer() as server:
        status, body = post(
            f"{server.base_url}/chat/completions",
            {"messages": [CHAT_USER, assistant_calls("a"), assistant_calls("b"), tool("a"), tool("b")]},
        )
    assert status == 400
    assert json.loads(body)["error"]["param"] == "messages.[1].role"


def test_cache_root_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert cache_root() == tmp_path.resolve()
    assert not _reports(binary_path("0.169.0"), "0.169.0"), "an empty cache must not look installed"


# --- real Codex -------------------------------------------------------------------------------------------

codex = pytest.mark.codex


def ordinals(rollout: Path) -> list[int | None]:
    return [line.get("ordinal") for line in read_jsonl(rollout)]


@codex
@pytest.mark.parametrize("release", PAGINATED)
def test_real_paginated_release_exec_runs_the_command_and_writes_a_paginated_rollout(
    release: str, tmp_path: Path
) -> None:
    outcome = play(SCENARIOS[f"{release}-responses-single-call"], tmp_path)
    run = outcome.runs[0]
    assert run.returncode == 0, run.describe()
    rollout = outcome.home.rollout()
    lines = read_jsonl(rollout)
    assert lines[0]["type"] == "session_meta"
    assert lines[0]["payload"]["id"] == session_id_of(rollout)
    assert lines[0]["payload"]["history_mode"] == "paginated"
    assert ordinals(rollout) == list(range(len(lines)))
    _, second = outcome.server.model_requests
    sent_call, sent_output = second.input[-2:]
    assert sent_call["type"] == "function_call" and sent_output["type"] == "function_call_output"
    assert sent_output["call_id"] == sent_call["call_id"]
    assert "hi" in sent_output["output"], "Codex really ran `echo hi`"
    assert judge_responses_input(second.input) is None
    assert broker_contract_violations(response_items(rollout)) == []
    # What 0.169.0 and 0.171.0 send: item ids kept, their own bookkeeping left out.
    assert sent_call["id"].startswith("fc_") and sent_output["id"].startswith("fco_")
    assert all(
        "internal_chat_message_metadata_passthrough" not in i and "metadata" not in i for i in second.input
    )


@pytest.mark.parametrize("name", [n for n, s in SCENARIOS.items() if s.expect_exit == 0])
def test_recorded_clean_fixtures_satisfy_the_contract(name: str) -> None:
    rollout = real_fixture(name)
    assert broker_contract_violations(response_items(rollout)) == []
    lines = read_jsonl(rollout)
    assert lines[0]["payload"]["id"] == session_id_of(rollout)
    if is_paginated(SCENARIOS[name].release):
        assert ordinals(rollout) == list(range(len(lines)))
    else:
        assert set(ordinals(rollout)) == {None}


PAYLOAD_KEYS = {  # Codex's own field order; the wire sent them in another order
    "function_call": ["type", "status", "id", "name", "arguments", "call_id"],
    "custom_tool_call": ["type", "id", "status", "call_id", "name", "input"],
    "function_call_output": ["type", "id", "call_id", "output"],
    "custom_tool_call_output": ["type", "id", "call_id", "output"],
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_recorded_line_and_payload_key_order(name: str) -> None:
    paginated = is_paginated(SCENARIOS[name].release)
    for line in read_jsonl(real_fixture(name)):
        payload = line["payload"]
        if paginated:
            tail = ["metadata"] if line["type"] == "response_item" else []
            assert list(line) == ["timestamp", "ordinal", "type", "payload", *tail]
        else:
            assert list(line) == ["timestamp", "type", "payload"]
            assert "id" not in payload or line["type"] == "session_meta"
        wanted = PAYLOAD_KEYS.get(payload.get("type")) if line["type"] == "response_item" else None
        if wanted is not None and paginated:
            assert list(payload)[: len(wanted)] == wanted


@pytest.mark.parametrize("name", [n.split("-", 1)[1] for n in SCENARIOS if n.startswith(f"{NEWEST}-")])
def test_recorded_0171_lines_are_shaped_as_0169_lines(name: str) -> None:
    """0.171.0 writes the lines 0.169.0 writes, in the same order, with the same keys (line, payload and
    metadata) and item id prefixes, except one key: every response_item's metadata ends with
    `model_search_state`."""

    def shapes(release: str) -> list[tuple]:
        found = []
        for line in read_jsonl(real_fixture(f"{release}-{name}")):
            payload, metadata = line["payload"], dict(line.get("metadata", {}))
            if release == NEWEST and line["type"] == "response_item":
                assert list(metadata)[-1] == "model_search_state"
                assert metadata.pop("model_search_state") == "unused"
            item_id = payload.get("id") if line["type"] == "response_item" else None
            found.append((line["type"], payload.get("type"), payload.get("role"), payload.get("name"),
                          item_id and item_id.split("_")[0], list(line), list(payload), list(metadata)))
        return found

    assert shapes(NEWEST) == shapes(NEW)


def resume_fixture(home: CodexHome, server: LoopbackServer, release: str, fixture: Path, wire: str) -> Path:
    home.configure(server.base_url, wire=wire, model_catalog=is_paginated(release))
    return home.install_rollout(fixture)


def resume_once(
    home: CodexHome, server: LoopbackServer, release: str, rollout: Path, wire: str = "responses"
) -> tuple[Path, list[dict]]:
    """Install `rollout`, resume it, expect success; return the installed file and the input Codex sent."""
    installed = resume_fixture(home, server, release, rollout, wire)
    server.push([say("resumed")])
    run = home.resume(release, session_id_of(rollout), "continue")
    assert run.returncode == 0, run.describe()
    (request,) = server.model_requests
    assert request.status == 200
    return installed, request.input


def sent_after(sent: list[dict], call_id: str) -> dict:
    """The item Codex sent right after the call `call_id`."""
    return sent[next(i for i, item in enumerate(sent) if item.get("call_id") == call_id) + 1]


# What 0.169.0 and 0.171.0 print (stderr) before they exit 1, when the provider asks for the Chat wire.
CHAT_REFUSED = """\
Error loading config.toml: `wire_api = "chat"` is no longer supported.
How to fix: set `wire_api = "responses"` in your provider config.
More info: https://github.com/openai/codex/discussions/7782
in `model_providers.judge.wire_api`
"""


@codex
@pytest.mark.parametrize("release", PAGINATED)
def test_real_paginated_release_refuses_the_chat_wire_at_start_up(
    release: str, codex_home: CodexHome, loopback: LoopbackServer
) -> None:
    codex_home.configure(loopback.base_url, wire="chat")
    run = codex_home.exec(release, "say hi")
    assert run.returncode == 1 and CHAT_REFUSED in run.stderr, run.describe()
    assert loopback.requests == [] and codex_home.rollouts() == [], "refused before any session starts"


@codex
def test_real_0770_chat_parallel_calls_fixture_is_stuck_for_good(
    codex_home: CodexHome, loopback: LoopbackServer
) -> None:
    """#8479: 0.77.0 sends each parallel call as its own assistant message; the API refuses every resume."""
    fixture = real_fixture(f"{OLD}-chat-parallel-calls")
    installed = resume_fixture(codex_home, loopback, OLD, fixture, wire="chat")
    calls = [item["call_id"] for item in response_items(fixture) if item["type"] == "function_call"]
    assert len(calls) == 2
    loopback.push([say("never reached")], [say("never reached")])
    for attempt in range(2):
        before = installed.read_bytes()
        run = codex_home.resume(OLD, session_id_of(fixture), f"continue, attempt {attempt}")
        assert run.returncode != 0, run.describe()
        refused = loopback.model_requests[-1]
        assert refused.status == 400 and refused.refusal is not None
        assert refused.refusal.message == MISSING + calls[0]
        after = installed.read_bytes()
        assert after.startswith(before) and len(after) > len(before), "each refused resume appends its turn"
    assert len(loopback.refusals) == 2 and loopback.unscripted == 0 and len(loopback.turns) == 2


@codex
def test_real_0770_chat_parallel_calls_resume_once_interleaved(
    codex_home: CodexHome, loopback: LoopbackServer
) -> None:
    """The same file with call_A, out_A, call_B, out_B resumes: the shape a repair must produce."""
    fixture = real_fixture(f"{OLD}-chat-parallel-calls")
    raw = fixture.read_bytes().splitlines(keepends=True)
    kinds = [json.loads(line)["payload"].get("type") for line in raw]
    first_b, out_a = kinds.index("function_call") + 1, kinds.index("function_call_output")
    assert kinds[first_b] == "function_call"
    raw.insert(first_b, raw.pop(out_a))  # move out_A up to just after call_A
    rewritten = codex_home.root / fixture.name
    rewritten.write_bytes(b"".join(raw))
    resume_once(codex_home, loopback, OLD, rewritten, wire="chat")


@codex
def test_real_0770_interrupted_stream_fixture_is_patched_in_memory_on_resume(
    codex_home: CodexHome, loopback: LoopbackServer
) -> None:
    """#16255: the call has no output in the file; 0.77.0 sends a made-up `aborted` output and never writes it."""
    fixture = real_fixture(f"{OLD}-responses-interrupted-stream")
    items = response_items(fixture)
    assert items[-1]["type"] == "function_call"
    call_id = items[-1]["call_id"]
    assert judge_responses_input(items) == f"No tool output found for function call {call_id}."
    installed, sent = resume_once(codex_home, loopback, OLD, fixture)
    assert sent_after(sent, call_id) == {
        "type": "function_call_output",
        "call_id": call_id,
        "output": "aborted",
    }
    assert judge_responses_input(sent) is None
    assert not [i for i in response_items(installed) if i["type"] == "function_call_output"], (
        "never written back"
    )


@codex
@pytest.mark.parametrize("release", PAGINATED)
def test_real_paginated_release_synthesizes_aborted_output_for_an_orphan_call(
    release: str, codex_home: CodexHome, loopback: LoopbackServer
) -> None:
    """A 0.169.0 or 0.171.0 file cut right after its function_call line (a crash after the call was
    persisted)."""
    fixture = real_fixture(f"{release}-responses-single-call")
    raw = fixture.read_bytes().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(raw) if b'"type":"function_call"' in line) + 1
    truncated = codex_home.root / fixture.name
    truncated.write_bytes(b"".join(raw[:cut]))
    call_id = response_items(truncated)[-1]["call_id"]
    installed, sent = resume_once(codex_home, loopback, release, truncated)
    synthesized = sent_after(sent, call_id)
    assert {k: v for k, v in synthesized.items() if k != "id"} == {
        "type": "function_call_output",
        "call_id": call_id,
        "output": "aborted",
    }
    assert synthesized["id"].startswith("fco_")
    assert judge_responses_input(sent) is None
    assert b'"aborted"' not in installed.read_bytes(), "never written back"


@codex
@pytest.mark.parametrize("release", PAGINATED)
def test_real_paginated_release_resumes_a_0770_rollout_and_appends_without_ordinals(
    release: str, codex_home: CodexHome, loopback: LoopbackServer
) -> None:
    """Cross-generation: 0.169.0 or 0.171.0 resumes an envelope file and appends its own line types, without
    ordinals."""
    fixture = real_fixture(f"{OLD}-responses-single-call")
    installed, sent = resume_once(codex_home, loopback, release, fixture)
    assert judge_responses_input(sent) is None
    lines = read_jsonl(installed)
    appended = lines[len(read_jsonl(fixture)) :]
    assert appended and all("ordinal" not in line for line in appended)
    assert lines[0]["payload"].get("history_mode") is None


def item_shape(rollout: Path) -> list[str]:
    return [f"{item['type']}/{item.get('role', '')}" for item in response_items(rollout)]


@codex
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_real_scenario_reproduces_its_recorded_fixture(name: str, tmp_path: Path) -> None:
    """Replaying a scenario live gives the exit codes and response-item shape that fixtures/real holds."""
    scenario = SCENARIOS[name]
    outcome = play(scenario, tmp_path)
    expected = [scenario.expect_exit] + ([scenario.expect_resume_exit] if scenario.resume_prompt else [])
    assert [run.returncode for run in outcome.runs] == expected, "\n".join(r.describe() for r in outcome.runs)
    assert outcome.rollout is not None
    assert item_shape(outcome.rollout) == item_shape(real_fixture(name))
    assert outcome.server.unscripted == 0
