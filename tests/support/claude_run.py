"""Running the real `claude` binary against the loopback Messages API, in a home of its own.

    home = ClaudeHome.make(tmp_path)
    with MessagesServer([[tool_use("Bash", {"command": "echo hi"})], [text("done")]]) as server:
        done = home.run(server, "-p", "say hi")
    home.transcripts()      # ~/.claude/projects/<project>/<session id>.jsonl

As root the permission-bypass flags are refused (2.1.332), so tools are allowed by name.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.claude_bin import claude_binary
from tests.support.messages_api import MessagesServer

ALLOWED_TOOLS = "Bash"
RUN_TIMEOUT = 120  # seconds; a run against the loopback API takes about 1.5 s


@dataclass(frozen=True)
class ClaudeHome:
    home: Path  # $HOME: Claude Code keeps ~/.claude and ~/.claude.json there
    project: Path  # the working directory the sessions belong to

    @classmethod
    def make(cls, root: Path) -> ClaudeHome:
        home, project = root / "home", root / "project"
        home.mkdir(parents=True, exist_ok=True)
        project.mkdir(parents=True, exist_ok=True)
        return cls(home, project)

    @property
    def projects(self) -> Path:
        return self.home / ".claude" / "projects"

    def env(self, server: MessagesServer, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_"))}
        env.update(HOME=str(self.home), ANTHROPIC_BASE_URL=server.base_url, ANTHROPIC_API_KEY="sk-ant-loopback",
                   DISABLE_TELEMETRY="1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1")
        env.update(extra)
        return env

    def run(self, server: MessagesServer, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        command = [str(claude_binary()), *args, "--allowedTools", ALLOWED_TOOLS]
        return subprocess.run(command, cwd=self.project, env=self.env(server, **extra_env), capture_output=True,
                              text=True, timeout=RUN_TIMEOUT, check=False)

    def transcripts(self) -> list[Path]:
        return sorted(self.projects.glob("*/*.jsonl"))

    def transcript(self) -> Path:
        [path] = self.transcripts()
        return path
