"""Record real threads that span files into fixtures/threads/: forks and a revert branch, written by the
real Codex 0.169.0 and 0.171.0 against the loopback server (tests/support/loopback.py).

    python scripts/record_threads.py            # every scenario; overwrites fixtures/threads/<scenario>/

Each scenario folder holds a CODEX_HOME-like ``sessions/`` tree (so that lineage is resolved as Codex
resolves it) and NOTES.md says what was run. A session's own turns run a real command (`echo A`).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.codex_run import CodexHome, read_jsonl
from tests.support.loopback import LoopbackServer, function_call, say

OUT = ROOT / "fixtures" / "threads"
EXEC = ("exec", "--skip-git-repo-check", "-s", "danger-full-access")


def thread_of(path: Path) -> str:
    return read_jsonl(path)[0]["payload"]["id"]


def turn(server: LoopbackServer, command: str | None, answer: str) -> None:
    if command:
        server.push([function_call("exec_command", {"cmd": command})])
    server.push([say(answer)])


def record(name: str, release: str, steps: str, root: Path) -> list[str]:
    """Run the steps (a small script: "exec", "resume", "fork", "fork-child", "revert") and copy the
    sessions into fixtures/threads/<name>/. Returns what was run, for NOTES.md."""
    home = CodexHome.create(root / name)
    done = []
    with LoopbackServer() as server:
        home.configure(server.base_url)
        turn(server, "echo A", "did A")
        run = home.exec(release, "first prompt")
        assert run.returncode == 0, run.describe()
        parent = home.rollout()
        done.append(f"`codex exec \"first prompt\"` (a tool call, `echo A`, then a message) -> {parent.name}")
        turn(server, None, "second")
        assert home.resume(release, thread_of(parent), "second prompt").returncode == 0
        done.append("`codex exec resume <parent> \"second prompt\"`")
        if "fork" in steps:
            turn(server, None, "forked")
            run = home.run(release, *EXEC, "fork", thread_of(parent), "fork prompt")
            assert run.returncode == 0, run.describe()
            (child,) = [p for p in home.rollouts() if p != parent]
            done.append(f"`codex exec fork <parent> \"fork prompt\"` -> {child.name}")
            if "fork-child" in steps:
                turn(server, "echo B", "did B")
                assert home.resume(release, thread_of(child), "child prompt").returncode == 0
                done.append("`codex exec resume <child> \"child prompt\"` (a tool call, `echo B`)")
                turn(server, None, "grandchild")
                run = home.run(release, *EXEC, "fork", thread_of(child), "grandchild prompt")
                assert run.returncode == 0, run.describe()
                (grandchild,) = [p for p in home.rollouts() if p not in (parent, child)]
                done.append(f"`codex exec fork <child> \"grandchild prompt\"` -> {grandchild.name}")
        if "revert" in steps:
            from tests.support.appserver import AppServer

            turn(server, None, "third")
            assert home.resume(release, thread_of(parent), "third prompt").returncode == 0
            turns = [line["payload"]["turn_id"] for line in read_jsonl(parent)
                     if line["type"] == "event_msg" and line["payload"]["type"] == "task_started"]
            with AppServer(home, release) as app:
                app.request("thread/resume", {"threadId": thread_of(parent), "excludeTurns": True})
                app.request("thread/revert", {"threadId": thread_of(parent), "beforeTurnId": turns[2]})
            (branch,) = [p for p in home.rollouts() if p != parent]
            done.append("`codex exec resume <parent> \"third prompt\"`, then app-server `thread/revert` before the "
                        f"third turn -> {branch.name}")
            turn(server, None, "after revert")
            assert home.resume(release, thread_of(parent), "after the revert").returncode == 0
            done.append("`codex exec resume <thread> \"after the revert\"` (appends to the branch)")
    target = OUT / name
    shutil.rmtree(target, ignore_errors=True)
    for path in home.rollouts():
        copy = target / path.relative_to(home.codex_home)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
    return done


SCENARIOS = {
    "0.169.0-fork": ("0.169.0", "fork"),
    "0.171.0-fork": ("0.171.0", "fork"),
    "0.171.0-fork-of-fork": ("0.171.0", "fork fork-child"),
    "0.171.0-revert": ("0.171.0", "revert"),
}


def main() -> int:
    import tempfile

    notes = ["# Threads that span files, recorded from real Codex", "",
             "Written by `python scripts/record_threads.py` (real binaries against the loopback server of",
             "tests/support/loopback.py). Each folder is a CODEX_HOME's `sessions/` tree.", ""]
    with tempfile.TemporaryDirectory() as scratch:
        for name, (release, steps) in SCENARIOS.items():
            done = record(name, release, steps, Path(scratch))
            notes += [f"## {name} (Codex {release})", "", *(f"- {line}" for line in done), ""]
    (OUT / "NOTES.md").write_text("\n".join(notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
