"""A real multi-agent session (Codex 0.171.0, multi-agent v2) and what rollout-doctor makes of it.

The root agent spawns a worker and waits for it (tests/support/agents.py). 0.171.0 writes the worker's
task and its final answer as ``agent_message`` response items (``amsg_…`` ids, after an
``inter_agent_communication_metadata`` line), which it sends as model input and counts as turn
boundaries. rollout-doctor must report nothing on either rollout, and must judge a rollback on the
history Codex rebuilds: rolling back one turn of the parent cuts at the worker's answer, not at the
user's prompt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex import check_file
from rollout_doctor.formats.codex.history import effective_history
from rollout_doctor.formats.codex.rollout import read_rollout
from tests.support.agents import MULTI_AGENT_V2, ROOT_PROMPT, AgentsServer
from tests.support.codex_run import CodexHome, read_jsonl, session_id_of
from tests.support.loopback import say

RELEASE = "0.171.0"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[CodexHome, Path, Path]:
    home = CodexHome.create(tmp_path_factory.mktemp("agents"), rust_log="warn")
    with AgentsServer() as server:
        home.configure(server.base_url)
        run = home.run(RELEASE, "exec", *MULTI_AGENT_V2, "--skip-git-repo-check", "-s", "danger-full-access",
                       ROOT_PROMPT, timeout=120)
    assert run.returncode == 0, run.describe()
    rollouts = home.rollouts()
    assert len(rollouts) == 2, rollouts
    parent, child = sorted(rollouts, key=lambda p: "parent_thread_id" in p.read_text().splitlines()[0])
    return home, parent, child


def agent_messages(path: Path) -> list[dict[str, Any]]:
    return [line["payload"] for line in read_jsonl(path)
            if line["type"] == "response_item" and line["payload"]["type"] == "agent_message"]


@pytest.mark.codex
def test_a_v1_session_checks_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default multi-agent tools: the worker's result comes back as a <subagent_notification> user
    message (injected context, not a turn), and nothing is reported on either rollout."""
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    home = CodexHome.create(tmp_path / "agents", rust_log="warn")
    with AgentsServer(version=1) as server:
        home.configure(server.base_url)
        run = home.exec(RELEASE, ROOT_PROMPT, timeout=120)
    assert run.returncode == 0, run.describe()
    rollouts = home.rollouts()
    assert len(rollouts) == 2, rollouts
    parent = next(p for p in rollouts if "parent_thread_id" not in p.read_text().splitlines()[0])
    assert "<subagent_notification>" in parent.read_text()
    outputs = [line["payload"]["output"] for line in read_jsonl(parent)
               if line["type"] == "response_item" and line["payload"]["type"] == "function_call_output"]
    assert len(outputs) == 2 and not any("unsupported call" in str(output) for output in outputs), outputs
    for path in rollouts:
        assert check_file(path, Options()).diagnostics == [], path


@pytest.mark.codex
def test_both_rollouts_hold_agent_messages_and_check_clean(recorded: tuple[CodexHome, Path, Path],
                                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    _home, parent, child = recorded
    assert [m["author"] for m in agent_messages(parent)] == ["/root/worker"]
    assert [m["recipient"] for m in agent_messages(child)] == ["/root/worker"]
    assert all(m["id"].startswith("amsg_") for m in agent_messages(parent) + agent_messages(child))
    for path in (parent, child):
        assert check_file(path, Options()).diagnostics == [], path


def pairing(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(i["type"], i["call_id"]) for i in items if "call_id" in i]


@pytest.mark.codex
def test_a_rollback_cuts_at_the_agents_message_as_codex_does(recorded: tuple[CodexHome, Path, Path]) -> None:
    home, parent, _child = recorded
    lines = read_jsonl(parent)
    lines.append({"timestamp": lines[-1]["timestamp"], "ordinal": lines[-1]["ordinal"] + 1, "type": "event_msg",
                  "payload": {"type": "thread_rolled_back", "num_turns": 1}})
    parent.write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))

    model = read_rollout(parent)
    try:
        ours = effective_history(model)
    finally:
        model.close()
    # rollout-doctor's history: the spawn and wait calls with their outputs survive; the worker's answer
    # and the reply after it are rolled back.
    kinds = [(i.type, i.role) for i in ours if i.type in ("message", "agent_message")]
    assert ("agent_message", "agent") not in kinds
    assert [i.type for i in ours if i.call_id] == ["function_call", "function_call_output"] * 2

    with AgentsServer() as server:
        home.configure(server.base_url)
        server.push([say("again")])
        run = home.resume(RELEASE, session_id_of(parent), "go on")
    assert run.returncode == 0, run.describe()
    sent = server.model_requests[0].input
    assert pairing(sent) == [(i.type, i.call_id) for i in ours if i.call_id]
    assert not [i for i in sent if i.get("type") == "agent_message"]
