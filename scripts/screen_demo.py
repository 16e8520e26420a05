"""Print the README's "Sessions on the screen" examples: `check` and `list` at 80 columns, in a home of
four sessions (a rule case Codex refuses, one it drops records of, and two sessions real Codex 0.77.0
wrote: one with an interrupted call, one clean).

    python scripts/screen_demo.py

The home is a throwaway CODEX_HOME under a throwaway HOME (shown as `~`), with the sessions' project
folders and names set as a user's would be; the times are fixed, in UTC, so the output is the same at
every run. tests/test_sessions_screen.py asserts the same layout; tests/test_readme_demo.py that the
README shows what this prints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "fixtures" / "cases"
REAL = ROOT / "fixtures" / "real"
# (file, last change, project folder under ~, name given in Codex)
SESSIONS = [
    (next((REAL / "0.77.0-responses-single-call").glob("rollout-*.jsonl")), 1_795_337_160, "src/app", "say hi"),
    (next((REAL / "0.77.0-responses-interrupted-stream").glob("rollout-*.jsonl")), 1_795_423_560, "src/app",
     "run the migration"),
    (next((CASES / "misplaced-output" / "output-first" / "envelope").glob("rollout-*.jsonl")), 1_795_581_960,
     "src/api", "parallel race after the refactor of the session store"),
    (next((CASES / "bad-output-shape" / "object-output-unsafe" / "envelope").glob("rollout-*.jsonl")),
     1_795_599_360, "src/api", None),
]


def install(home: Path, me: Path, source: Path, mtime: int, folder: str, name: str | None) -> None:
    """``source`` as a session of ``home``, working in ``~/folder`` (its newest turn_context, else its
    session_meta, says so), named ``name`` in session_index.jsonl."""
    target = home / "sessions" / "2026" / "11" / "21" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = source.read_bytes().splitlines(keepends=True)
    last = max((n for n, line in enumerate(lines) if b'"type":"turn_context"' in line), default=0)
    record = json.loads(lines[last])
    record["payload"]["cwd"] = str(me / folder)
    lines[last] = json.dumps(record, separators=(",", ":")).encode() + b"\n"
    target.write_bytes(b"".join(lines))
    os.utime(target, (mtime, mtime))
    if name:
        thread = json.loads(lines[0])["payload"]["id"]
        with open(home / "session_index.jsonl", "a") as index:
            index.write(json.dumps({"id": thread, "thread_name": name, "updated_at": "2026-11-21T15:00:00Z"}) + "\n")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        me = Path(scratch) / "me"
        home = me / ".codex"
        for session in SESSIONS:
            install(home, me, *session)
        env = {**os.environ, "HOME": str(me), "CODEX_HOME": str(home), "COLUMNS": "80", "TZ": "UTC",
               "ROLLOUT_DOCTOR_HOME": str(Path(scratch) / "state")}
        env.pop("NO_COLOR", None)
        for command in (["check"], ["list"]):
            done = subprocess.run([sys.executable, "-m", "rollout_doctor", *command], env=env, cwd=scratch,
                                  capture_output=True, text=True, check=False)
            print("```console")
            print(f"$ rollout-doctor {' '.join(command)}")
            for line in done.stdout.rstrip().replace(str(me), "~").splitlines():
                print(line.rstrip())  # rich pads table cells to the column's width
            print(f"[exit {done.returncode}]")
            print("```\n")


if __name__ == "__main__":
    main()
