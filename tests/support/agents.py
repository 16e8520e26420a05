"""A loopback model that drives Codex 0.171.0's multi-agent tools (v1, the default, or v2 with
``[features] multi_agent_v2``): the root agent spawns a worker with ``spawn_agent``, waits for it with
``wait_agent`` and answers; the worker answers its task. Parent and worker share one loopback, and their requests interleave, so each answer is
chosen by what the request holds rather than by the order of a script.

    with AgentsServer() as server:
        home.configure(server.base_url)
        home.run("0.171.0", "exec", *MULTI_AGENT_V2, "--skip-git-repo-check", "-s", "danger-full-access",
                 ROOT_PROMPT)
"""

from __future__ import annotations

import json
import re

from tests.support.loopback import LoopbackServer, Turn, function_call, say

MULTI_AGENT_V2 = ("-c", "features.multi_agent_v2=true")
# The namespace 0.171.0 gives each version's tools: a call without it is "unsupported call: spawn_agent".
NAMESPACES = {1: "multi_agent_v1", 2: "collaboration"}
ROOT_PROMPT = "hello parent"
TASK = "child task"
AGENT_ID = re.compile(r'"agent_id\\?":\\?"([0-9a-f-]{36})')  # v1's spawn_agent output names the worker so


class AgentsServer(LoopbackServer):
    def __init__(self, version: int = 2) -> None:
        super().__init__()
        self.version = version

    def _call(self, name: str, arguments: dict[str, object]) -> Turn:
        return Turn(({**function_call(name, arguments), "namespace": NAMESPACES[self.version]},))

    def _take_turn(self) -> Turn:
        with self._lock:
            request = self.requests[-1]
        items = request.input
        said = json.dumps([i for i in items if i.get("role") == "user" or i.get("type") == "agent_message"])
        if TASK in said and ROOT_PROMPT not in said:
            return Turn((say("child done"),))  # the worker
        calls = [i.get("name") for i in items if i.get("type") == "function_call"]
        if "spawn_agent" not in calls:
            if self.version == 1:
                return self._call("spawn_agent", {"message": TASK})
            return self._call("spawn_agent", {"task_name": "worker", "message": TASK, "fork_turns": "none"})
        if "wait_agent" not in calls:
            if self.version == 1:
                worker = AGENT_ID.search(json.dumps(items))
                return self._call("wait_agent", {"targets": [worker[1] if worker else "?"], "timeout_ms": 20000})
            return self._call("wait_agent", {"timeout_ms": 20000})
        return Turn((say("parent done"),))
