"""Scripted sessions against real Codex releases: what `scripts/record_fixtures.py` records and
what the harness tests replay live.

A scenario builds its script afresh on each run (fresh call ids), runs `codex exec`, optionally
`codex exec resume`, and reports what happened; it asserts nothing itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.codex_run import CodexHome, CodexRun, session_id_of
from tests.support.loopback import (
    Item,
    LoopbackServer,
    ScriptEntry,
    custom_call,
    function_call,
    interrupted,
    say,
)

NEW = "0.169.0"  # paginated envelope, exec_command, apply_patch as a custom tool
NEWEST = "0.171.0"  # the newest release: paginated too, the same tools, the same scenarios as NEW
OLD = "0.77.0"  # plain envelope, shell tool, last release with the Chat wire
PAGINATED = (NEW, NEWEST)  # the releases that write paginated rollouts and keep thread_history_1.sqlite


def is_paginated(release: str) -> bool:
    """Whether `release` writes paginated rollouts (ordinals, metadata, Codex's SQLite thread history)."""
    return release in PAGINATED


def command_call(release: str, cmd: str) -> Item:
    """The tool call each release offers for running a shell command (and really runs)."""
    if release == OLD:
        return function_call("shell", {"command": ["bash", "-lc", cmd]})
    return function_call("exec_command", {"cmd": cmd})


ADD_FILE_PATCH = "*** Begin Patch\n*** Add File: hello.txt\n+hello from apply_patch\n*** End Patch\n"


@dataclass(frozen=True)
class Scenario:
    name: str
    release: str
    wire: str
    prompt: str
    script: Callable[[], list[ScriptEntry]]
    shows: str
    expect_exit: int = 0
    resume_prompt: str | None = None
    resume_script: Callable[[], list[ScriptEntry]] = field(default=list)
    expect_resume_exit: int = 0


@dataclass
class Outcome:
    scenario: Scenario
    home: CodexHome
    server: LoopbackServer
    runs: list[CodexRun]
    rollout: Path | None
    exec_requests: int  # model requests made by the first run; the rest belong to the resume


def play(scenario: Scenario, root: Path) -> Outcome:
    """Run the scenario in a fresh home under `root` against a fresh loopback server."""
    home = CodexHome.create(root)
    with LoopbackServer(scenario.script()) as server:
        home.configure(server.base_url, wire=scenario.wire, model_catalog=is_paginated(scenario.release))
        runs = [home.exec(scenario.release, scenario.prompt)]
        exec_requests = len(server.model_requests)
        found = home.rollouts()
        rollout = found[-1] if found else None
        if scenario.resume_prompt is not None and rollout is not None:
            server.push(*scenario.resume_script())
            runs.append(home.resume(scenario.release, session_id_of(rollout), scenario.resume_prompt))
    return Outcome(scenario, home, server, runs, rollout, exec_requests)


def paginated_scenarios(release: str, interrupted_shows: str) -> list[Scenario]:
    """The six scenarios recorded with each paginated release (exec_command, apply_patch as a custom tool)."""
    return [
        Scenario(
            f"{release}-responses-single-call",
            release,
            "responses",
            "run echo hi",
            lambda: [[command_call(release, "echo hi")], [say("done")]],
            "one turn: one exec_command call (Codex runs `echo hi`), its output, a final message",
        ),
        Scenario(
            f"{release}-responses-sequential-calls",
            release,
            "responses",
            "run two commands, one after the other",
            lambda: [[command_call(release, "echo one")], [command_call(release, "echo two")], [say("done")]],
            "one user turn, three model requests: call, output, call, output, final message",
        ),
        Scenario(
            f"{release}-responses-parallel-calls",
            release,
            "responses",
            "run two commands at once",
            lambda: [[command_call(release, "echo A"), command_call(release, "echo B")], [say("done")]],
            "two function_calls in one response (parallel tool calls), then both outputs",
        ),
        Scenario(
            f"{release}-responses-custom-tool-call",
            release,
            "responses",
            "add hello.txt",
            lambda: [[custom_call("apply_patch", ADD_FILE_PATCH)], [say("done")]],
            "apply_patch as a custom (freeform) tool: custom_tool_call / custom_tool_call_output",
        ),
        Scenario(
            f"{release}-responses-resumed",
            release,
            "responses",
            "run echo first",
            lambda: [[command_call(release, "echo first")], [say("first done")]],
            "two user turns: `exec` (call, output, message) then `exec resume` appending a second turn",
            resume_prompt="now run echo second",
            resume_script=lambda: [[command_call(release, "echo second")], [say("second done")]],
        ),
        Scenario(
            f"{release}-responses-interrupted-stream",
            release,
            "responses",
            "run echo hi",
            lambda: [interrupted(command_call(release, "echo hi"))],
            interrupted_shows,
            expect_exit=1,
        ),
    ]


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        *paginated_scenarios(
            NEW,
            "the stream closes after a function_call, before response.completed: 0.169.0 still runs the "
            "command and persists call and output, task_complete carries the error, exit 1",
        ),
        Scenario(
            f"{OLD}-responses-single-call",
            OLD,
            "responses",
            "run echo hi",
            lambda: [[command_call(OLD, "echo hi")], [say("done")]],
            "one turn: one shell call (Codex runs it), its output, a final message",
        ),
        Scenario(
            f"{OLD}-responses-parallel-calls",
            OLD,
            "responses",
            "run two commands at once",
            lambda: [[command_call(OLD, "echo A"), command_call(OLD, "echo B")], [say("done")]],
            "two function_calls in one response, then both outputs",
        ),
        Scenario(
            f"{OLD}-responses-interrupted-stream",
            OLD,
            "responses",
            "run echo hi",
            lambda: [interrupted(command_call(OLD, "echo hi"))],
            "the stream closes after a function_call, before response.completed (#16255): 0.77.0 does "
            "not run the command, persists the call with no output, exit 1",
            expect_exit=1,
        ),
        Scenario(
            f"{OLD}-chat-parallel-calls",
            OLD,
            "chat",
            "run two commands at once",
            lambda: [[command_call(OLD, "echo A"), command_call(OLD, "echo B")], [say("done")]],
            "Chat wire, two tool_calls in one response: both run, the file holds call_A, call_B, out_A, out_B, "
            "and the very next request already sends them as two assistant messages and is refused (#8479)",
            expect_exit=1,
        ),
        *paginated_scenarios(
            NEWEST,
            "the stream closes after a function_call, before response.completed: 0.171.0, like 0.169.0, "
            "still runs the command and persists call and output, task_complete carries the error, exit 1",
        ),
    ]
}
