"""A real terminal for tests: tmux, driven as a person would (``send-keys``, ``capture-pane``).

Each ``Terminal`` is its own tmux server (a private socket), one window of a given width, a plain bash
in it. ``run`` types a command and waits for it to end; ``screen`` is what a person sees (wrapped rows
joined back into the lines printed, history included); ``raw`` is every byte the programs wrote to the
terminal, control sequences and all (tmux ``pipe-pane``), for what flashed by and was erased.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from pathlib import Path

TMUX = shutil.which("tmux")
DONE = "__rd_done__"


class Terminal:
    def __init__(self, width: int, height: int, workdir: Path, env: dict[str, str]) -> None:
        assert TMUX is not None
        self.width = width
        self.socket = f"rd-test-{uuid.uuid4().hex[:12]}"
        self.log = workdir / f"terminal-{self.socket}.raw"
        shell_env = {"HOME": env.get("HOME", str(workdir)), "PATH": env.get("PATH", os.environ["PATH"]),
                     "TERM": "xterm-256color", "LANG": "C.UTF-8", **env}
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in shell_env.items())
        self._tmux("new-session", "-d", "-x", str(width), "-y", str(height),
                   f"env -i {exports} bash --noprofile --norc")
        self._tmux("set-option", "-g", "history-limit", "50000")
        self._tmux("pipe-pane", "-o", f"cat >> {shlex.quote(str(self.log))}")
        self._tmux("send-keys", "PS1='$ '; clear", "Enter")
        time.sleep(0.2)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True, check=True)  # type: ignore[list-item]
        return done.stdout

    def run(self, command: str, timeout: float = 120) -> int:
        """Type ``command``, press Enter, and wait until it has ended; its exit status."""
        marker = f"{DONE}{uuid.uuid4().hex[:6]}"
        self._tmux("send-keys", "-l", f"{command}; echo {marker}=$?")
        self._tmux("send-keys", "Enter")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.screen().splitlines():
                if line.startswith(f"{marker}="):
                    return int(line.split("=", 1)[1])
            time.sleep(0.1)
        raise TimeoutError(f"{command!r} did not end within {timeout} s:\n{self.screen()}")

    def screen(self) -> str:
        """Every line on the screen and in its history, wrapped rows joined, trailing blanks dropped."""
        return self._tmux("capture-pane", "-p", "-J", "-S", "-").rstrip("\n")

    def rows(self) -> list[str]:
        """The screen as rows of the terminal's width (what wraps shows as two rows)."""
        return self._tmux("capture-pane", "-p", "-S", "-").rstrip("\n").split("\n")

    def styled(self) -> str:
        """The screen with its colour and style escapes."""
        return self._tmux("capture-pane", "-p", "-e", "-J", "-S", "-")

    def raw(self) -> bytes:
        time.sleep(0.2)  # pipe-pane writes through a pipe
        return self.log.read_bytes() if self.log.exists() else b""

    def clear(self) -> None:
        self._tmux("send-keys", "clear", "Enter")
        self._tmux("clear-history")
        time.sleep(0.2)

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True)  # type: ignore[list-item]
