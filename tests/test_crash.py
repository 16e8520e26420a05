"""SIGKILL at any moment during a fix leaves the rollout either as it was or fixed: never torn, short
or missing. Temporary files never look like sessions, the next run sweeps them, and `undo` still
gives back the original bytes.

`rollout-doctor fix` runs in a child process on a 10 MB rollout (a real 0.77.0 session ending in a
call with no output, padded with real-shaped events) and is killed:

* at each step of the commit (writer.STAGE_HOOK, set by a tiny driver script), and
* at random moments while it commits (from when its temporary file appears until it would have
  finished, measured on an unkilled run), and at random moments over the whole run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import pytest

from rollout_doctor.cli.app import main
from rollout_doctor.core.discovery import discover
from rollout_doctor.formats.codex import CODEX
from tests.support.safety import BROKEN, cli_command, cli_env, leftovers, real, rollout_bytes

STAGES = ("tmp-written", "backed-up", "checked", "replaced", "committed")
KILL_AT_STAGE = """
import os, signal, sys
from rollout_doctor.store import files as writer
from rollout_doctor.store.backups import journals_of
from rollout_doctor.cli.app import main
writer.STAGE_HOOK = lambda name: os.kill(os.getpid(), signal.SIGKILL) if name == sys.argv[1] else None
sys.exit(main(sys.argv[2:]))
"""
RANDOM_DURING_COMMIT = 12
RANDOM_ANYWHERE = 6
SEED = 20261121


def big_broken_rollout() -> bytes:
    lines = rollout_bytes(BROKEN).splitlines(keepends=True)
    padding = [orjson.dumps({"timestamp": "2026-11-21T15:03:08.000Z", "type": "event_msg",
                             "payload": {"type": "agent_message", "message": f"{n} " + "lorem ipsum " * 850}}) + b"\n"
               for n in range(1000)]
    return b"".join(lines[:-1]) + b"".join(padding) + lines[-1]  # the call with no output stays last


class Scene:
    """One killed run: a fresh folder holding the big rollout, and what to expect of it."""

    def __init__(self, root: Path, original: bytes) -> None:
        self.folder = root / "sessions" / "2026" / "11" / "21"
        self.folder.mkdir(parents=True)
        self.path = self.folder / real(BROKEN).name
        self.path.write_bytes(original)
        os.chmod(self.path, 0o640)
        self.scratch = root / "tmp"  # the run's private scratch folders go here, not to the shared /tmp
        self.scratch.mkdir()
        self.env = cli_env(root / "state", root / "codex-home", TMPDIR=str(self.scratch))

    def check_after_kill(self, original: bytes, fixed: bytes) -> str:
        data = self.path.read_bytes()
        assert data in (original, fixed), f"torn: {len(data)} bytes, neither the original nor the fixed version"
        assert self.path.stat().st_mode & 0o777 == 0o640
        assert [f.path for f in discover([self.folder], [CODEX])] == [self.path], "a temporary file looks like a session"
        return "original" if data == original else "fixed"

    def recover(self, original: bytes, fixed: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
        """The next run sweeps what the killed one left (once stale), fixes, and undo gives the bytes back.
        It runs in this process (the same code as the CLI child): a second and third child per kill
        would double the time this file takes."""
        stale = time.time() - 11 * 60
        for left in [*(self.folder / name for name in leftovers(self.folder)), *self.scratch.iterdir()]:
            os.utime(left, (stale, stale))
        with monkeypatch.context() as patch:
            for name in ("ROLLOUT_DOCTOR_HOME", "CODEX_HOME"):
                patch.setenv(name, self.env[name])
            patch.setattr(tempfile, "tempdir", str(self.scratch))
            assert main(["fix", str(self.folder)]) == 0
            assert self.path.read_bytes() == fixed
            assert leftovers(self.folder) == [] and list(self.scratch.iterdir()) == []
            assert main(["undo", str(self.path)]) == 0
            assert self.path.read_bytes() == original


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes, float, float]:
    """The original, the fixed version, and how long an unkilled run takes: in all, and from its
    temporary file's appearance to its end."""
    original = big_broken_rollout()
    scene = Scene(tmp_path_factory.mktemp("reference"), original)
    started = time.monotonic()
    child = subprocess.Popen(cli_command("fix", str(scene.path)), env=scene.env, stdout=subprocess.DEVNULL)
    commit_started = None
    while child.poll() is None:
        if commit_started is None and leftovers(scene.folder):
            commit_started = time.monotonic()
        time.sleep(0.0005)
    ended = time.monotonic()
    assert child.returncode == 0 and commit_started is not None
    fixed = scene.path.read_bytes()
    assert fixed != original and fixed.startswith(original[: len(original) // 2])
    return original, fixed, ended - started, ended - commit_started


@pytest.mark.parametrize("stage", STAGES)
def test_killed_at_each_step_of_the_commit(tmp_path: Path, versions: tuple[bytes, bytes, float, float],
                                           stage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    original, fixed, _, _ = versions
    scene = Scene(tmp_path, original)
    done = subprocess.run([sys.executable, "-c", KILL_AT_STAGE, stage, "fix", str(scene.path)], env=scene.env,
                          capture_output=True, check=False, timeout=120)
    assert done.returncode == -signal.SIGKILL
    outcome = scene.check_after_kill(original, fixed)
    assert outcome == ("original" if STAGES.index(stage) < STAGES.index("replaced") else "fixed")
    if stage in ("tmp-written", "backed-up", "checked"):
        assert leftovers(scene.folder), "the kill should have left the temporary file behind"
    scene.recover(original, fixed, monkeypatch)


def kill_later(child: subprocess.Popen[bytes], delay: float, folder: Path | None) -> bool:
    """Kill ``child`` ``delay`` seconds after it starts its commit (``folder`` given) or after now;
    False when it finished first."""
    if folder is not None:
        while not leftovers(folder):
            if child.poll() is not None:
                return False
            time.sleep(0.0002)
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:
        if child.poll() is not None:
            return False
        time.sleep(0.0002)
    child.send_signal(signal.SIGKILL)
    child.wait()
    return True


@pytest.mark.parametrize("where", ["during-commit", "anywhere"])
def test_killed_at_random_moments(tmp_path: Path, versions: tuple[bytes, bytes, float, float], where: str,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    original, fixed, whole, commit = versions
    rng = random.Random(f"{SEED}-{where}")
    runs = RANDOM_DURING_COMMIT if where == "during-commit" else RANDOM_ANYWHERE
    outcomes = []
    for n in range(runs):
        scene = Scene(tmp_path / str(n), original)
        child = subprocess.Popen(cli_command("fix", str(scene.path)), env=scene.env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if where == "during-commit":
            killed = kill_later(child, rng.uniform(0, commit), scene.folder)
        else:
            killed = kill_later(child, rng.uniform(0, whole), None)
        outcome = scene.check_after_kill(original, fixed)
        outcomes.append(outcome if killed else "finished")
        scene.recover(original, fixed, monkeypatch)
    # The kills must have landed on both sides of the replace, or this test proved nothing.
    assert "original" in outcomes, outcomes
    if where == "during-commit":
        assert "fixed" in outcomes or "finished" in outcomes, outcomes
