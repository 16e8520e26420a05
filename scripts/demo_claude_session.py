"""The README's Claude Code before/after: a transcript recorded by the real 2.1.332 (fixtures/claude/single.jsonl)
whose call lost its result, resumed by that binary before and after `rollout-doctor fix`, against the
loopback Messages API (tests/support/messages_api.py); what the client sends is printed from the
requests the stand-in recorded.

    python scripts/demo_claude_session.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rollout_doctor.formats.claude.home import project_folder
from tests.support.claude_breaks import BREAKERS
from tests.support.claude_run import ClaudeHome
from tests.support.messages_api import MessagesServer, text


def sent(server: MessagesServer) -> list[str]:
    """The conversation of the first request, a block a line (without Claude Code's reminders)."""
    out = []
    for message in server.model_requests[0].messages:
        content = message["content"]
        if message["role"] == "system":
            continue
        for block in [{"type": "text", "text": content}] if isinstance(content, str) else content:
            if block.get("type") == "text" and block["text"].startswith("<system-reminder>"):
                continue
            if block["type"] == "tool_use":
                what = f"{block['name']} {json.dumps(block['input'])} ({block['id']})"
            elif block["type"] == "tool_result":
                what = f"{block['tool_use_id']}: {str(block.get('content'))[:58]!r}…"
            else:
                what = repr(block.get("text"))
            out.append(f"  {message['role']:9} {block['type']}: {what}")
    return out


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        home = ClaudeHome.make(Path(scratch))
        source = ROOT / "fixtures" / "claude" / "single.jsonl"
        session = json.loads(source.read_bytes().split(b"\n", 1)[0])["sessionId"]
        path = home.projects / project_folder(home.project) / f"{session}.jsonl"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"\n".join(BREAKERS["unanswered-call"](source.read_bytes().split(b"\n")[:-1])) + b"\n")
        broken = path.read_bytes()
        shown = f"~/.claude/projects/…/{path.name}"
        env = {**os.environ, "CLAUDE_CONFIG_DIR": str(home.home / ".claude"),
               "ROLLOUT_DOCTOR_HOME": str(Path(scratch) / "state"), "COLUMNS": "100"}
        for stage in ("before", "after"):
            if stage == "after":
                path.write_bytes(broken)  # the resume before appended its turn
                for command in (["check", str(path)], ["fix", str(path)]):
                    done = subprocess.run(["rollout-doctor", *command], capture_output=True, text=True, env=env, check=False)
                    print(f"$ rollout-doctor {command[0]} {shown}")
                    print(done.stdout.replace(str(path), shown).replace(scratch, "…").rstrip())
            with MessagesServer([[text("Carrying on.")]]) as server:
                done = home.run(server, "-p", "--resume", session, "carry on")
            print(f"$ claude -p --resume {session[:8]}… \"carry on\"   # exit {done.returncode}; the request it sends:")
            print("\n".join(sent(server)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
