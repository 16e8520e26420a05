"""Sessions real Codex wrote with nothing wrong in them come out of `rollout-doctor fix` exactly as they
went in: same bytes, same inode, same mtime, no backup, and Codex's thread history untouched."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.support.codex_run import CodexHome, real_fixture, session_id_of
from tests.support.e2e import doctor
from tests.support.loopback import LoopbackServer, say
from tests.support.scenarios import OLD, PAGINATED, SCENARIOS

pytest_plugins = ["tests.support.fixtures"]

# The one recorded session with a defect on the Responses wire: #16255's call without output.
STUCK = f"{OLD}-responses-interrupted-stream"
CLEAN = [name for name in SCENARIOS if name != STUCK]
OLD_TIME = 1_700_000_000_000_000_000  # ns; any mtime a rewrite would not keep


def snapshot(path: Path) -> tuple[bytes, int, int]:
    st = path.stat()
    return path.read_bytes(), st.st_ino, st.st_mtime_ns


def test_every_clean_recorded_session_is_left_alone(tmp_path: Path, doctor_home: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    home = CodexHome.create(tmp_path / "codex")
    installed = []
    for name in CLEAN:
        path = home.install_rollout(real_fixture(name))
        os.utime(path, ns=(OLD_TIME, OLD_TIME))
        installed.append(path)
    before = {path: snapshot(path) for path in installed}
    monkeypatch.setenv("CODEX_HOME", str(home.codex_home))
    code, report = doctor("fix", "--format", "json")  # no PATH: every session under $CODEX_HOME
    assert code == 0, report
    assert sorted(f["path"] for f in report["files"]) == sorted(str(p) for p in installed)
    assert [f for f in report["files"] if f["diagnostics"] or f["fix"]["written"] or f["fix"]["backup"]] == []
    assert {path: snapshot(path) for path in installed} == before
    assert not doctor_home.exists(), "no backup, not even a backup folder"
    assert sorted(p for p in home.sessions.rglob("*") if p.is_file()) == sorted(installed), (
        "no temporary file left next to the sessions"
    )


def test_the_stuck_session_is_the_only_one_fix_would_change() -> None:
    assert STUCK in SCENARIOS and len(CLEAN) == len(SCENARIOS) - 1


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.codex
@pytest.mark.parametrize("release", PAGINATED)
def test_a_clean_session_codex_resumed_keeps_its_bytes_and_codex_history(
    release: str, tmp_path: Path, doctor_home: Path
) -> None:
    """0.169.0 or 0.171.0 appended a turn and projected the thread; fix changes neither the file nor the
    database."""
    fixture = real_fixture(f"{release}-responses-resumed")
    home = CodexHome.create(tmp_path / "codex")
    with LoopbackServer() as server:
        home.configure(server.base_url)
        path = home.install_rollout(fixture)
        server.push([say("resumed")])
        run = home.resume(release, session_id_of(fixture), "go on")
    assert run.returncode == 0, run.describe()
    databases = sorted(home.codex_home.glob("thread_history_*.sqlite*"))
    assert databases, "Codex keeps a thread history for the session"
    before = snapshot(path), {db: sha256(db) for db in databases}
    code, report = doctor("fix", "--format", "json", str(path))
    assert code == 0 and not report["files"][0]["fix"]["written"], report
    assert report["files"][0]["fix"]["codex_history"] is None
    assert (snapshot(path), {db: sha256(db) for db in databases}) == before
