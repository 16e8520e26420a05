"""The two real stuck sessions, before and after `rollout-doctor fix` (the README's demonstration).

* #16255, 0.77.0: the stream closed after a function_call and before response.completed; the call is in
  the file with no output. Every resume works only because Codex patches the hole in memory, at every
  request, telling the model "aborted" (never written back). After the fix the file holds that same
  output and Codex sends the same history without patching anything.
* #8479, 0.77.0 on the Chat wire: parallel calls are written call_A, call_B, out_A, out_B, which the
  Chat wire sends as two assistant messages before the tool messages: refused on every resume, for
  good. After `fix --target chat` (call_A, out_A, call_B, out_B) it resumes, again and again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.codex_run import CodexHome, real_fixture, response_items, session_id_of
from tests.support.e2e import complaints, doctor, readable_items
from tests.support.judge import broker_contract_violations, items_of_chat, judge_responses_input
from tests.support.loopback import LoopbackServer, say
from tests.support.scenarios import OLD

pytest_plugins = ["tests.support.fixtures"]

codex = pytest.mark.codex

INTERRUPTED = real_fixture(f"{OLD}-responses-interrupted-stream")
PARALLEL_CHAT = real_fixture(f"{OLD}-chat-parallel-calls")


def calls_and_outputs(items: list[dict]) -> list[dict]:
    return [item for item in items if "call_id" in item]


@codex
def test_16255_interrupted_stream_patched_in_memory_before_written_after(tmp_path: Path, doctor_home: Path) -> None:
    session = session_id_of(INTERRUPTED)
    (call,) = [item for item in response_items(INTERRUPTED) if item["type"] == "function_call"]
    home = CodexHome.create(tmp_path / "codex", rust_log="warn")
    with LoopbackServer() as server:
        home.configure(server.base_url, model_catalog=False)
        rollout = home.install_rollout(INTERRUPTED)
        code, report = doctor("check", "--format", "json", str(rollout))
        assert code == 1
        assert [(d["rule"], d["call_id"]) for d in report["files"][0]["diagnostics"]] == [
            ("orphan-call", call["call_id"])
        ]
        assert judge_responses_input(readable_items(rollout.read_bytes())) == (
            f"No tool output found for function call {call['call_id']}."
        ), "the file as it is would be refused"

        server.push([say("before")])
        before = home.resume(OLD, session, "continue")
        assert before.returncode == 0, before.describe()
        (sent_before,) = server.model_requests
        patched = calls_and_outputs(sent_before.input)
        assert patched[-1] == {"type": "function_call_output", "call_id": call["call_id"], "output": "aborted"}
        assert "aborted" not in rollout.read_text(), "Codex never writes the patch back"

        code, report = doctor("fix", "--format", "json", str(rollout))
        assert code == 0 and report["files"][0]["fix"]["written"], report
        assert calls_and_outputs(response_items(rollout)) == calls_and_outputs(sent_before.input)

        server.push([say("after")])
        after = home.resume(OLD, session, "continue again")
    assert after.returncode == 0 and complaints(after) == [], after.describe()
    sent_after = server.model_requests[-1]
    assert sent_after.status == 200
    assert calls_and_outputs(sent_after.input) == patched, "the model is told exactly what it was told before"
    assert broker_contract_violations(sent_after.input) == []
    assert broker_contract_violations(response_items(rollout)) == []


@codex
def test_8479_parallel_calls_on_the_chat_wire_refused_for_good_then_resume(tmp_path: Path, doctor_home: Path) -> None:
    session = session_id_of(PARALLEL_CHAT)
    calls = [item["call_id"] for item in response_items(PARALLEL_CHAT) if item["type"] == "function_call"]
    home = CodexHome.create(tmp_path / "codex", rust_log="warn")
    with LoopbackServer() as server:
        home.configure(server.base_url, wire="chat", model_catalog=False)
        rollout = home.install_rollout(PARALLEL_CHAT)
        code, report = doctor("check", "--format", "json", "--target", "chat", str(rollout))
        assert code == 1
        assert [(d["rule"], d["call_id"]) for d in report["files"][0]["diagnostics"]] == [
            ("chat-adjacency", calls[0]), ("chat-adjacency", calls[1])
        ]

        for attempt in range(2):
            server.push([say("never sent")])
            refused = home.resume(OLD, session, f"continue, attempt {attempt}")
            assert refused.returncode != 0, refused.describe()
            assert server.model_requests[-1].status == 400
        assert len(server.refusals) == 2

        code, report = doctor("fix", "--format", "json", "--target", "chat", str(rollout))
        assert code == 0 and report["files"][0]["fix"]["written"], report
        assert {c["kind"] for c in report["files"][0]["fix"]["changes"]} == {"move"}, "no line added or lost"
        pairs = [(item["type"], item["call_id"]) for item in calls_and_outputs(response_items(rollout))]
        assert pairs == [("function_call", calls[0]), ("function_call_output", calls[0]),
                         ("function_call", calls[1]), ("function_call_output", calls[1])]

        for attempt in range(2):  # not once by luck: the session is unstuck
            server.push([say(f"after {attempt}")])
            after = home.resume(OLD, session, f"continue after the fix, attempt {attempt}")
            assert after.returncode == 0 and complaints(after) == [], after.describe()
            request = server.model_requests[-1]
            assert request.status == 200
            assert broker_contract_violations(items_of_chat(request.input)) == []
    assert len(server.refusals) == 2
