"""Recording real Claude Code transcripts: the real binary against the loopback Messages API.

    python -m tests.support.claude_record fixtures/claude [NAME...]   # what fixtures/claude/NOTES.md says was run

Each session is a scripted conversation (messages_api.py), run with `claude -p` in a home of its own
(claude_run.py); `resumed` is taken up again with `claude -p --resume ID`.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from tests.support.claude_run import ClaudeHome
from tests.support.messages_api import MessagesServer, text, tool_use


def bash(command: str) -> dict[str, object]:
    return tool_use("Bash", {"command": command, "description": command})


def single(home: ClaudeHome) -> Path:
    """One call and its result, then a closing answer."""
    with MessagesServer([[text("Let me look."), bash("echo one")], [text("It printed one.")]]) as server:
        _ran(home.run(server, "-p", "run echo one"))
    return home.transcript()


def parallel(home: ClaudeHome) -> Path:
    """Two calls in one response (one assistant line per block; one result off the chain)."""
    with MessagesServer([[text("Both at once."), bash("echo one"), bash("echo two")], [text("Both ran.")]]) as server:
        _ran(home.run(server, "-p", "run echo one and echo two"))
    return home.transcript()


def resumed(home: ClaudeHome) -> Path:
    """``single``, then taken up again with --resume for one more call."""
    path = single(home)
    with MessagesServer([[bash("echo three")], [text("It printed three.")]]) as server:
        _ran(home.run(server, "-p", "--resume", path.stem, "now run echo three"))
    return home.transcript()


def compacted(home: ClaudeHome) -> Path:
    """``single``, then ``/compact`` (a compact boundary, its summary, a preserved segment), then one more turn."""
    path = single(home)
    with MessagesServer(fallback_text="<summary>The user ran echo one; it printed one.</summary>") as server:
        _ran(home.run(server, "-p", "--resume", path.stem, "/compact"))
    with MessagesServer([[text("After compaction.")]]) as server:
        _ran(home.run(server, "-p", "--resume", path.stem, "go on"))
    return home.transcript()


SESSIONS: dict[str, Callable[[ClaudeHome], Path]] = {"single": single, "parallel": parallel, "resumed": resumed,
                                                      "compacted": compacted}


def _ran(done: object) -> None:
    if getattr(done, "returncode", 1) != 0:
        raise RuntimeError(f"claude failed: {getattr(done, 'stderr', '')[-2000:]}")


def record(name: str, root: Path) -> Path:
    return SESSIONS[name](ClaudeHome.make(root / name))


def main(argv: list[str]) -> int:
    import tempfile

    dest = Path(argv[0])
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for name in argv[1:] or SESSIONS:
            shutil.copyfile(record(name, Path(scratch)), dest / f"{name}.jsonl")
            print(dest / f"{name}.jsonl")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
