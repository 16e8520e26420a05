"""Print the README's before/after demonstration: the two real stuck sessions, resumed by the real
Codex 0.77.0 before and after `rollout-doctor fix`.

    python scripts/demo_stuck_sessions.py

Each session (fixtures/real, see NOTES.md) is copied into a fresh HOME whose CODEX_HOME points Codex
at the loopback model API of the test suite (tests/support/loopback.py), which answers as the real API
does, refusals included. The commands shown are the ones run; paths under the throwaway HOME print as
`~`. tests/test_e2e_stuck.py asserts the same story.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # run as a plain script: make `tests.support` importable

from tests.support.codex_run import CodexHome, real_fixture, session_id_of
from tests.support.e2e import NOISE
from tests.support.loopback import LoopbackServer, Recorded, say

RELEASE = "0.77.0"


class Demo:
    def __init__(self, root: Path, wire: str) -> None:
        self.home = CodexHome.create(root)
        self.server = LoopbackServer().start()
        self.home.configure(self.server.base_url, wire=wire, model_catalog=False)

    def show(self, command: str, output: str, code: int) -> None:
        print(f"$ {command}")
        text = output.replace(str(self.home.home), "~").rstrip()
        if text:
            print(text)
        print(f"[exit {code}]\n")

    def doctor(self, *args: str) -> None:
        env = {**self.home.env(), "COLUMNS": "80", "PYTHONPATH": str(PROJECT_ROOT)}
        env.pop("NO_COLOR", None)
        done = subprocess.run([sys.executable, "-m", "rollout_doctor", *args], cwd=self.home.home, env=env,
                              capture_output=True, text=True, check=False)
        self.show(f"rollout-doctor {' '.join(args)}", done.stdout + done.stderr, done.returncode)

    def codex(self, session: str, prompt: str, answer: str | None) -> Recorded:
        """Resume; the model answers `answer` (None: the request is expected to be refused)."""
        if answer is not None:
            self.server.push([say(answer)])
        run = self.home.resume(RELEASE, session, prompt)
        said = [line for line in run.stderr.splitlines()
                if line.startswith("ERROR") and not any(noise in line for noise in NOISE)]
        self.show(f'codex exec resume {session} "{prompt}"', "\n".join([*said, run.stdout.strip()]), run.returncode)
        return self.server.model_requests[-1]

    def close(self) -> None:
        self.server.stop()


def interrupted_stream(root: Path) -> None:
    fixture = real_fixture(f"{RELEASE}-responses-interrupted-stream")
    session = session_id_of(fixture)
    demo = Demo(root, "responses")
    try:
        demo.home.install_rollout(fixture)
        print("### #16255: a call with no output (0.77.0, stream closed before response.completed)\n")
        demo.doctor("check")
        sent = demo.codex(session, "continue", "I see the command was aborted; running it again.")
        print("What Codex sent for that call (patched in memory, never written to the file):")
        print(json.dumps(sent.input[-2]) + "\n")
        demo.doctor("fix", "--diff")
        sent = demo.codex(session, "continue again", "Continuing.")
        call = next(i for i, item in enumerate(sent.input) if item.get("type") == "function_call")
        print("What Codex sent for that call now (read from the file):")
        print(json.dumps(sent.input[call + 1]) + "\n")
    finally:
        demo.close()


def parallel_calls_on_chat(root: Path) -> None:
    fixture = real_fixture(f"{RELEASE}-chat-parallel-calls")
    session = session_id_of(fixture)
    demo = Demo(root, "chat")
    try:
        demo.home.install_rollout(fixture)
        print("### #8479: parallel tool calls on the Chat wire (0.77.0), refused on every resume\n")
        demo.doctor("check", "--target", "chat")
        demo.codex(session, "continue", None)
        demo.codex(session, "please continue", None)
        demo.doctor("fix", "--target", "chat", "--diff")
        demo.codex(session, "continue", "Both commands ran: A and B.")
    finally:
        demo.close()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="rollout-doctor-demo-") as tmp:
        os.environ.pop("ROLLOUT_DOCTOR_HOME", None)  # backups go under the throwaway HOME
        interrupted_stream(Path(tmp) / "16255")
        parallel_calls_on_chat(Path(tmp) / "8479")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
