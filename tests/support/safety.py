"""Helpers for the tests that try to make rollout-doctor lose data: real rollouts to break, the CLI in a
child process (so it can be killed, or run as another user), and processes that hold a file open."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "fixtures" / "real"
HOSTILE = ROOT / "fixtures" / "hostile"
# An envelope rollout (0.77.0) ending in a function_call with no output: `fix` inserts one line.
BROKEN = "0.77.0-responses-interrupted-stream"
# The same in the paginated generation (0.169.0): made by dropping the output from a real session, so
# the fix inserts a line with an ordinal and renumbers the ones after it.
BROKEN_PAGINATED = "0.169.0-responses-single-call:no-output"


def real(scenario: str) -> Path:
    return next((REAL / scenario.split(":")[0]).glob("rollout-*.jsonl"))


def rollout_bytes(scenario: str) -> bytes:
    """A real rollout's bytes; ``<scenario>:no-output`` drops its function_call_output line."""
    data = real(scenario).read_bytes()
    if scenario.endswith(":no-output"):
        data = b"".join(line for line in data.splitlines(keepends=True) if b'"function_call_output"' not in line)
    return data


def real_rollouts() -> list[Path]:
    return sorted(REAL.glob("*/rollout-*.jsonl"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_into(scenario: str, folder: Path) -> Path:
    """Write the scenario's rollout (see ``rollout_bytes``) into ``folder`` under its real name."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / real(scenario).name
    target.write_bytes(rollout_bytes(scenario))
    return target


def leftovers(folder: Path) -> list[str]:
    """Files rollout-doctor made in a session folder and did not clean up."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".rollout-doctor-"))


def cli_env(state: Path, codex_home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_STATE_HOME", "ROLLOUT_DOCTOR_DEBUG")}
    env.update(ROLLOUT_DOCTOR_HOME=str(state), CODEX_HOME=str(codex_home), PYTHONPATH=str(ROOT),
               NO_COLOR="1", COLUMNS="400")
    env.update(extra)
    return env


def cli_command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "rollout_doctor", *argv]


def run_cli(argv: list[str], env: dict[str, str], without: tuple[str, ...] = (),
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a child process; ``without`` names capabilities it runs without (see ``can_drop``)."""
    command = cli_command(*argv)
    if without:
        command = ["setpriv", "--bounding-set=" + ",".join(f"-{cap}" for cap in without), "--", *command]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def can_drop() -> bool:
    """Whether a child can run as root without some capabilities: how a test run as root makes
    ``chmod 000`` (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) or a foreign owner (CAP_CHOWN) bite."""
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


HOLDER = r"""
import fcntl, os, sys
path, mode, lock = sys.argv[1], sys.argv[2], sys.argv[3] == "lock"
fd = os.open(path, {"append": os.O_WRONLY | os.O_APPEND, "rdwr": os.O_RDWR | os.O_APPEND, "read": os.O_RDONLY}[mode])
if lock:
    fcntl.flock(fd, fcntl.LOCK_EX)
print("ready", flush=True)
line = sys.stdin.readline()
if line.strip():
    os.write(fd, line.encode())
print("done", flush=True)
"""


@dataclass
class Holder:
    """A child process holding a file open (and optionally flock-ed) until told to write and go."""

    process: subprocess.Popen[str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def finish(self, write: str = "") -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(write + "\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "done"
        self.process.wait(timeout=30)


@contextmanager
def holding(path: Path, mode: str = "append", lock: bool = False) -> Iterator[Holder]:
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), mode, "lock" if lock else "-"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    holder = Holder(process)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield holder
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
