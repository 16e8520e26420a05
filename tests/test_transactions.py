"""A fix that rewrites a thread (a parent and its fork) is one transaction: killed, interrupted or
terminated at any step of its commit, it leaves both sessions as they were, or both fixed, or a state the
next run completes (store/__init__.py). Each run here is a real `rollout-doctor fix` in a child process,
stopped at a named step (store.files.STAGE_HOOK) by SIGKILL, SIGINT (Ctrl-C) or SIGTERM.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from rollout_doctor.cli.app import main
from tests.support.breakers import BREAKERS
from tests.support.safety import cli_env, leftovers
from tests.support.threads import Home, break_before_fork, copy_thread, last_ordinal

# The steps of a two-file commit, in order; "checked" and "replaced" happen once per file.
STEPS = ["tmp-written", "backed-up", "checked#1", "swapped#1", "replaced#1", "checked#2", "swapped#2", "replaced#2",
         "committed"]
STOP_AT = """
import os, signal, sys
from rollout_doctor.store import files
from rollout_doctor.cli.app import main
want, count = sys.argv[1].split("#") if "#" in sys.argv[1] else (sys.argv[1], "1")
sig = getattr(signal, sys.argv[2])
seen = {}
def hook(name):
    seen[name] = seen.get(name, 0) + 1
    if name == want and seen[name] == int(count):
        os.kill(os.getpid(), sig)
files.STAGE_HOOK = hook
sys.exit(main(sys.argv[3:]))
"""


class Scene:
    """A fork whose parent has lost a tool output: `fix` inserts a line in the parent before the cut, so
    the child is rewritten with it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home: Home = copy_thread(root, "0.171.0-fork")
        self.parent, self.child = self.home.files
        break_before_fork(self.parent, [self.child], BREAKERS["orphan-call"])
        self.env = cli_env(root / "state", self.home.path, TMPDIR=str(root))

    def state(self) -> tuple[bytes, bytes]:
        return self.parent.read_bytes(), self.child.read_bytes()

    def run(self, step: str, sig: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", STOP_AT, step, sig, "fix", str(self.home.sessions)],
                              env=self.env, capture_output=True, text=True, timeout=120, check=False)

    def main(self, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
        with monkeypatch.context() as patch:
            for name in ("ROLLOUT_DOCTOR_HOME", "CODEX_HOME"):
                patch.setenv(name, self.env[name])
            return main(list(argv))


def consistent(parent: bytes, child: bytes) -> bool:
    base = orjson.loads(child.split(b"\n", 1)[0])["payload"]["history_base"]
    end = base["end_byte_offset"]
    return end <= len(parent) and parent[end - 1] == 0x0A and base["end_ordinal_exclusive"] == last_ordinal(parent[:end]) + 1


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[tuple[bytes, bytes], tuple[bytes, bytes]]:
    scene = Scene(tmp_path_factory.mktemp("reference"))
    old = scene.state()
    done = subprocess.run([sys.executable, "-m", "rollout_doctor", "fix", str(scene.home.sessions)], env=scene.env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    new = scene.state()
    assert new[0] != old[0] and new[1] != old[1] and consistent(*new) and consistent(*old)
    return old, new


@pytest.mark.parametrize("step", STEPS)
def test_killed_at_each_step_the_next_run_completes_the_thread(
        step: str, tmp_path: Path, versions: tuple[tuple[bytes, bytes], tuple[bytes, bytes]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = versions
    scene = Scene(tmp_path)
    done = scene.run(step, "SIGKILL")
    assert done.returncode == -signal.SIGKILL
    parent, child = scene.state()
    assert parent in (old[0], new[0]) and child in (old[1], new[1]), "no file torn"
    before_replace = STEPS.index(step) < STEPS.index("swapped#1")
    assert (parent, child) == old if before_replace else parent == new[0]
    # The next run completes the transaction (or finds nothing to complete), then fixes what is left.
    assert scene.main(monkeypatch, "fix", str(scene.home.sessions)) == 0
    assert scene.state() == new and consistent(*new)
    assert scene.main(monkeypatch, "check", str(scene.home.sessions)) == 0
    assert scene.main(monkeypatch, "undo", str(scene.parent)) == 0
    assert scene.state() == old, "and the undo still restores both files"


def test_a_transaction_cut_short_rolls_back_when_its_temporary_files_are_gone(
        tmp_path: Path, versions: tuple[tuple[bytes, bytes], tuple[bytes, bytes]],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = versions
    scene = Scene(tmp_path)
    assert scene.run("replaced#1", "SIGKILL").returncode == -signal.SIGKILL
    assert scene.state() == (new[0], old[1]), "the parent replaced, its child not: inconsistent until completed"
    for name in leftovers(scene.parent.parent):  # a sweep (or a person) removed the new child's temporary file
        (scene.parent.parent / name).unlink()
    assert scene.main(monkeypatch, "undo", "--list") == 0
    assert "rolled back" in capsys.readouterr().err
    assert scene.state() == old and consistent(*old)


def test_a_transaction_cut_short_rolls_forward_from_its_temporary_files(
        tmp_path: Path, versions: tuple[tuple[bytes, bytes], tuple[bytes, bytes]],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _old, new = versions
    scene = Scene(tmp_path)
    assert scene.run("replaced#1", "SIGKILL").returncode == -signal.SIGKILL
    assert scene.main(monkeypatch, "undo", "--list") == 0
    assert "committed" in capsys.readouterr().err
    assert scene.state() == new and leftovers(scene.parent.parent) == []


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("step", STEPS)
def test_a_signal_during_the_commit_waits_for_the_thread_to_be_whole(
        sig: str, step: str, tmp_path: Path, versions: tuple[tuple[bytes, bytes], tuple[bytes, bytes]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C or SIGTERM before the journal exists stops the run and removes what it made; from the
    journal on, the transaction finishes first, the backup stays, the report says what was written."""
    old, new = versions
    scene = Scene(tmp_path)
    done = scene.run(step, sig)
    code = 128 + getattr(signal, sig)
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    state = scene.state()
    if step == "tmp-written":
        assert state == old and leftovers(scene.parent.parent) == []
        assert not (tmp_path / "state" / "backups").exists() or not any(
            p.name != ".pending" for p in (tmp_path / "state" / "backups").iterdir())
    else:
        assert state == new and leftovers(scene.parent.parent) == []
        assert "fixed" in done.stdout and "interrupted" in done.stderr
        assert scene.main(monkeypatch, "undo", str(scene.child)) == 0, "the backup was kept"
        assert scene.state() == old
