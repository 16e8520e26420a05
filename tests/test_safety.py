"""What `fix` and `undo` promise about the user's files (README, "Safety").

Private backups and byte-exact undo; no backup where Codex looks for sessions; a file that changes
while it is fixed is never replaced and loses nothing (a real appender thread, and a write slipped
into the last instant before the replace); a rollout a running process writes to is left alone
(a child process holding it, a held thread lock, and real Codex releases mid-turn); temporary files
of killed runs are swept; mode, owner and extended attributes are kept; a scan never follows a link
out of its folder; unreadable files are reported and skipped; `.jsonl.zst` stays compressed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import zstandard

from rollout_doctor.cli.app import main
from rollout_doctor.core.discovery import discover
from rollout_doctor.formats.codex import CODEX
from rollout_doctor.store import files as writer
from rollout_doctor.store import liveness, state, tempfiles
from rollout_doctor.store.backups import journals_of
from rollout_doctor.store.location import state_home
from tests.support.safety import (
    BROKEN,
    BROKEN_PAGINATED,
    can_drop,
    cli_env,
    copy_into,
    holding,
    leftovers,
    real,
    rollout_bytes,
    run_cli,
    sha256,
)


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.delenv("ROLLOUT_DOCTOR_DEBUG", raising=False)


@pytest.fixture
def stage_hook() -> Iterator[None]:
    yield
    writer.STAGE_HOOK = None


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def broken_copy(tmp_path: Path, scenario: str = BROKEN) -> Path:
    return copy_into(scenario, tmp_path / "sessions" / "2026" / "11" / "21")


def fixed_bytes(tmp_path: Path, scenario: str = BROKEN) -> bytes:
    """What `fix` makes of the scenario, fixed in a scratch folder of its own."""
    scratch = broken_copy(tmp_path / "reference", scenario)
    assert main(["fix", str(scratch)]) == 0
    return scratch.read_bytes()


def appended_line(n: int) -> bytes:
    return orjson.dumps({"timestamp": "2026-11-21T15:04:00.000Z", "type": "event_msg",
                         "payload": {"type": "agent_message", "message": f"appended {n}"}}) + b"\n"


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


# --- backups and undo ------------------------------------------------------------------------------


def test_backup_is_private_and_its_manifest_holds_both_hashes(capsys: pytest.CaptureFixture[str],
                                                               tmp_path: Path) -> None:
    path = broken_copy(tmp_path)
    original = path.read_bytes()
    old_umask = os.umask(0)  # a careless umask must not make the backup readable by others
    try:
        code, out, _ = run(capsys, "fix", "--format", "json", str(path))
    finally:
        os.umask(old_umask)
    assert code == 0
    folder = Path(orjson.loads(out)["files"][0]["fix"]["backup"])
    state = tmp_path / "state"
    for d in (state, state / "backups", folder.parent, folder):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    for f in folder.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    journal = orjson.loads((folder / "journal.json").read_bytes())
    [entry] = journal["files"]
    assert entry["sha256_before"] == hashlib.sha256(original).hexdigest()
    assert entry["sha256_after"] == sha256(path) != entry["sha256_before"]
    assert journal["state"] == "committed"
    assert (folder / entry["copy"]).read_bytes() == original


def test_undo_restores_the_bytes_and_says_what_it_restored(capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    path = broken_copy(tmp_path, BROKEN_PAGINATED)
    original = path.read_bytes()
    assert run(capsys, "fix", str(path))[0] == 0
    assert path.read_bytes() != original
    code, out, _ = run(capsys, "undo", "--list", str(path))
    assert code == 0 and "can be restored, by the next undo" in out and f"{len(original)} bytes" in out
    code, out, _ = run(capsys, "undo", str(path))
    assert code == 0
    assert path.read_bytes() == original
    assert f"restored {path}" in out and f"{len(original)} bytes" in out
    assert hashlib.sha256(original).hexdigest()[:12] in out
    code, _out, err = run(capsys, "undo", str(path))
    assert code == 2 and "no backup to restore" in err


def test_undo_refuses_to_lose_lines_appended_after_the_fix(capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    path = broken_copy(tmp_path)
    original = path.read_bytes()
    assert run(capsys, "fix", str(path))[0] == 0
    append(path, appended_line(1))
    appended = path.read_bytes()
    code, out, err = run(capsys, "undo", str(path))
    assert code == 3 and "changed since rollout-doctor fixed it" in err
    assert path.read_bytes() == appended
    code, out, _ = run(capsys, "undo", "--force", str(path))
    assert code == 0 and path.read_bytes() == original
    saved = Path(out.split("the bytes it replaced are saved in ", 1)[1].strip())
    assert saved.read_bytes() == appended and stat.S_IMODE(saved.stat().st_mode) == 0o600


def test_undo_walks_back_through_several_fixes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = broken_copy(tmp_path)
    original = path.read_bytes()
    assert run(capsys, "fix", str(path))[0] == 0
    first_fix = path.read_bytes()
    # A new turn ends the same way: one more call with no output.
    call = next(line for line in original.splitlines(keepends=True) if b'"function_call"' in line)
    append(path, call.replace(b'"call_id":"call_', b'"call_id":"call_second_'))
    broken_again = path.read_bytes()
    assert run(capsys, "fix", str(path))[0] == 0
    _code, out, _ = run(capsys, "undo", "--list", str(path))
    assert out.count("can be restored") == 2 and out.count("by the next undo") == 1
    assert run(capsys, "undo", str(path))[0] == 0 and path.read_bytes() == broken_again
    # The first fix's result is no longer what is in the file: the newer lines would be lost.
    assert run(capsys, "undo", str(path))[0] == 3 and path.read_bytes() == broken_again
    assert first_fix != broken_again


def test_undo_follows_a_session_codex_archived_after_the_fix(capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path) -> None:
    """`codex archive` moves the rollout to archived_sessions/: the backup is found by its bytes."""
    path = broken_copy(tmp_path)
    original = path.read_bytes()
    assert run(capsys, "fix", str(path))[0] == 0
    archived = tmp_path / "archived_sessions" / path.name
    archived.parent.mkdir()
    path.rename(archived)
    code, out, _ = run(capsys, "undo", str(archived))
    assert code == 0 and f"restored {archived}" in out
    assert archived.read_bytes() == original


@pytest.mark.parametrize("where", [
    pytest.param(("ROLLOUT_DOCTOR_HOME", "codex-home/sessions/rd"), id="rd-home-in-sessions"),
    pytest.param(("ROLLOUT_DOCTOR_HOME", "codex-home/archived_sessions"), id="rd-home-is-archive"),
    pytest.param(("XDG_STATE_HOME", "codex-home/sessions"), id="xdg-in-sessions"),
    pytest.param(("ROLLOUT_DOCTOR_HOME", "link-into-sessions/rd"), id="symlink-into-sessions"),
    pytest.param(("ROLLOUT_DOCTOR_HOME", "other-home/sessions/state"), id="sessions-of-the-file-not-CODEX_HOME"),
])
def test_backups_never_go_where_codex_looks_for_sessions(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         where: tuple[str, str]) -> None:
    variable, relative = where
    home = tmp_path / "codex-home"
    sessions_of_file = (tmp_path / "other-home" if relative.startswith("other-home") else home) / "sessions"
    path = copy_into(BROKEN, sessions_of_file / "2026" / "11" / "21")
    (home / "archived_sessions").mkdir(parents=True, exist_ok=True)
    (tmp_path / "link-into-sessions").symlink_to(home / "sessions", target_is_directory=True)
    monkeypatch.delenv("ROLLOUT_DOCTOR_HOME")
    monkeypatch.setenv(variable, str(tmp_path / relative))
    before = sorted(p for p in tmp_path.rglob("*") if "sessions" in str(p))
    original = path.read_bytes()
    code, out, _ = run(capsys, "fix", str(path))
    assert code == 2
    assert "where Codex looks for sessions" in out
    assert path.read_bytes() == original
    assert sorted(p for p in tmp_path.rglob("*") if "sessions" in str(p)) == before


def test_a_relative_xdg_state_home_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROLLOUT_DOCTOR_HOME")
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state_home() == tmp_path / "home" / ".local" / "state" / "rollout-doctor"


# --- refuse rather than race ------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["tmp-written", "backed-up"])
def test_lines_appended_during_a_fix_are_kept_and_nothing_is_replaced(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, stage_hook: None, stage: str) -> None:
    """A thread appends like a live Codex, concurrently with the rest of the fix."""
    path = broken_copy(tmp_path)
    original = path.read_bytes()
    lines = [appended_line(n) for n in range(200)]
    started = threading.Event()

    def appender() -> None:
        for n, line in enumerate(lines):
            append(path, line)
            if n == 0:
                started.set()
            time.sleep(0.001)

    thread = threading.Thread(target=appender)

    def hook(name: str) -> None:
        if name == stage:
            thread.start()
            started.wait(10)

    writer.STAGE_HOOK = hook
    code, out, _ = run(capsys, "fix", str(path))
    thread.join()
    assert code == 3
    assert "changed since it was read" in out and "refused" in out
    assert path.read_bytes() == original + b"".join(lines)
    assert leftovers(path.parent) == []
    assert journals_of(path) == []


def test_a_write_in_the_last_instant_puts_the_original_inode_back(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, stage_hook: None) -> None:
    """Between the final check and os.replace: the original inode (with the new line) goes back."""
    path = broken_copy(tmp_path)
    original = path.read_bytes()
    inode = path.stat().st_ino
    writer.STAGE_HOOK = lambda name: append(path, appended_line(1)) if name == "checked" else None
    code, out, _ = run(capsys, "fix", str(path))
    assert code == 3 and "wrote to it while it was being replaced" in out
    assert path.read_bytes() == original + appended_line(1)
    assert path.stat().st_ino == inode  # a process still appending through its descriptor stays in the file
    assert leftovers(path.parent) == []


def test_the_last_instant_without_hard_links_puts_a_copy_back(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, stage_hook: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(*_args: object) -> None:
        raise OSError(errno.EPERM, "hard links not supported here")

    monkeypatch.setattr(writer.os, "link", no_links)
    path = broken_copy(tmp_path)
    original = path.read_bytes()
    writer.STAGE_HOOK = lambda name: append(path, appended_line(1)) if name == "checked" else None
    code, _out, _ = run(capsys, "fix", str(path))
    assert code == 3
    assert path.read_bytes() == original + appended_line(1)
    assert leftovers(path.parent) == []


@pytest.mark.parametrize("mode", ["append", "rdwr"])
def test_a_rollout_open_for_writing_is_not_modified(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                   mode: str) -> None:
    path = broken_copy(tmp_path)
    original = path.read_bytes()
    with holding(path, mode) as holder:
        code, out, _ = run(capsys, "fix", str(path))
        assert code == 3
        assert f"pid {holder.pid} (python" in out and "has it open for writing" in out and "--force" in out
        assert path.read_bytes() == original
        code, out, _ = run(capsys, "fix", "--format", "json", str(path))
        report = orjson.loads(out)
        assert code == 3 and report["summary"]["files_refused"] == 1
        assert f"pid {holder.pid}" in report["files"][0]["fix"]["refused"]
        assert report["files"][0]["fix"]["remaining"], "nothing was fixed: the problems remain"
        holder.finish()
    assert run(capsys, "fix", str(path))[0] == 0


def test_a_reader_does_not_block_a_fix(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = broken_copy(tmp_path)
    with holding(path, "read") as holder:
        assert run(capsys, "fix", str(path))[0] == 0
        holder.finish()


def test_a_held_thread_writer_lock_blocks_a_fix(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """0.169.0 flock-s $CODEX_HOME/thread-writer-locks/<thread>.lock while it has the thread loaded."""
    path = broken_copy(tmp_path)
    thread = path.name.removesuffix(".jsonl")[-36:]
    lock = tmp_path / "codex-home" / "thread-writer-locks" / f"{thread}.lock"
    lock.parent.mkdir(parents=True)
    lock.touch()
    with holding(lock, "read", lock=True) as holder:
        code, out, _ = run(capsys, "fix", str(path))
        assert code == 3 and f"pid {holder.pid}" in out and "writer lock" in out
        holder.finish()


def test_lsof_finds_the_same_writer(tmp_path: Path) -> None:
    """The path taken where /proc is missing (macOS, BSD)."""
    if shutil.which("lsof") is None:
        pytest.skip("lsof is not installed")
    path = broken_copy(tmp_path)
    with holding(path, "append") as holder:
        found = liveness._scan_lsof(path, [])
        holder.finish()
    assert [(h.pid, h.what) for h in found] == [(holder.pid, "has it open for writing")]


def test_force_rewrites_a_live_rollout_after_saying_what_it_risks(capsys: pytest.CaptureFixture[str],
                                                                   tmp_path: Path) -> None:
    path = broken_copy(tmp_path)
    expected = fixed_bytes(tmp_path)
    capsys.readouterr()
    with holding(path, "append") as holder:
        code, out, err = run(capsys, "fix", "--force", "--format", "json", str(path))
        assert code == 0
        assert "--force" in err and f"pid {holder.pid}" in err and "not to the session" in err
        [warning] = orjson.loads(out)["files"][0]["fix"]["warnings"]
        assert f"pid {holder.pid}" in warning and ".rollout-doctor-kept-" in warning
        assert path.read_bytes() == expected
        kept = next(path.parent.glob(".rollout-doctor-kept-*"))
        holder.finish(write='{"late":"line"}')
    # What the process wrote after the rewrite is not lost: it is in the kept original.
    assert kept.read_bytes().endswith(b'{"late":"line"}\n')
    assert path.read_bytes() == expected
    assert [f.path for f in discover([path.parent], [CODEX])] == [path]  # the kept file is not a session


def test_undo_leaves_a_live_rollout_alone_unless_forced(capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path) -> None:
    path = broken_copy(tmp_path)
    original = path.read_bytes()
    assert run(capsys, "fix", str(path))[0] == 0
    fixed = path.read_bytes()
    with holding(path, "append") as holder:
        code, _out, err = run(capsys, "undo", str(path))
        assert code == 3 and f"pid {holder.pid}" in err and path.read_bytes() == fixed
        code, _out, err = run(capsys, "undo", "--force", str(path))
        assert code == 0 and path.read_bytes() == original
        assert "warning" in err and ".rollout-doctor-kept-" in err
        holder.finish(write='{"late":"line"}')
    kept = next(path.parent.glob(".rollout-doctor-kept-*"))
    assert kept.read_bytes() == fixed + b'{"late":"line"}\n'


@pytest.mark.codex
@pytest.mark.parametrize("release", ["0.169.0", "0.171.0", "0.77.0"])
def test_a_real_codex_mid_turn_blocks_a_fix(tmp_path: Path, release: str) -> None:
    """Codex runs a slow command; its rollout holds the call but no output yet (an orphan for now)."""
    from tests.support.codex_bin import codex_binary
    from tests.support.codex_run import CodexHome
    from tests.support.loopback import LoopbackServer, function_call, say

    tool = (("shell", {"command": ["bash", "-lc", "sleep 30"]}) if release == "0.77.0"
            else ("exec_command", {"cmd": "sleep 30"}))
    with LoopbackServer([[function_call(*tool)], [say("done")]]) as server:
        home = CodexHome.create(tmp_path / "codex")
        home.configure(server.base_url)
        codex = subprocess.Popen([str(codex_binary(release)), "exec", "--skip-git-repo-check", "-s",
                                  "danger-full-access", "sleep"], cwd=home.workdir, env=home.env(),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while len(server.model_requests) < 1 or not home.rollouts() or \
                    b'"function_call"' not in home.rollout().read_bytes():
                assert time.monotonic() < deadline and codex.poll() is None, "Codex never started the command"
                time.sleep(0.2)
            rollout = home.rollout()
            before = rollout.read_bytes()
            done = run_cli(["fix", str(home.sessions)], cli_env(tmp_path / "state", home.codex_home))
            assert done.returncode == 3, done.stdout + done.stderr
            assert "a running process may still write to it" in done.stdout
            assert "(codex" in done.stdout  # the native binary, named by its pid and command
            assert rollout.read_bytes().startswith(before)
        finally:
            os.killpg(codex.pid, 9)
            codex.wait(timeout=30)


# --- temporary files ----------------------------------------------------------------------------------


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def aged(path: Path, seconds: float) -> Path:
    when = time.time() - seconds
    os.utime(path, (when, when))
    return path


def test_temp_files_of_killed_runs_are_swept_by_the_next_fix(capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path) -> None:
    path = broken_copy(tmp_path)
    folder = path.parent
    gone = dead_pid()

    def leftover(name: str, age: float) -> Path:
        (folder / name).write_bytes(b"partial copy")
        return aged(folder / name, age)

    stale = leftover(f".rollout-doctor-{gone}-abc.tmp", 11 * 60)  # its run is dead
    abandoned = leftover(".rollout-doctor-1-abc.tmp", 25 * 3600)  # pid 1 lives, but no fix runs a day
    fresh = leftover(f".rollout-doctor-{gone}-new.tmp", 0)  # could be a run on another machine
    live = leftover(".rollout-doctor-1-live.tmp", 11 * 60)  # its pid is alive
    kept = leftover(".rollout-doctor-kept-something", 25 * 3600)  # what --force kept: never swept
    assert sorted(f.path.name for f in discover([folder], [CODEX])) == [path.name]  # none looks like a session
    assert run(capsys, "check", str(folder))[0] == 1
    assert stale.exists(), "check writes nothing, not even a sweep"
    assert run(capsys, "fix", str(folder))[0] == 0
    assert not stale.exists() and not abandoned.exists()
    assert fresh.exists() and live.exists() and kept.exists()


def test_scratch_folders_of_killed_runs_are_swept(tmp_path: Path) -> None:
    gone = dead_pid()
    stale = tmp_path / f"rollout-doctor-fix-{gone}-x1"
    fresh = tmp_path / f"rollout-doctor-zst-{gone}-x2"
    mine = tmp_path / f"rollout-doctor-fix-{os.getpid()}-x3"
    other = tmp_path / "rollout-doctor-test-shared-x4"  # not a scratch name
    for d in (stale, fresh, mine, other):
        d.mkdir()
        (d / "plain").write_bytes(b"copy")
    for d in (stale, mine, other):
        aged(d, 11 * 60)
    assert tempfiles.sweep_scratch(root=tmp_path) == [stale]
    assert fresh.exists() and mine.exists() and other.exists()


def test_a_check_sweeps_the_temp_folder_at_most_once_a_minute_and_a_fix_every_time(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch, other_scratch = tmp_path / "tmp", tmp_path / "tmp2"
    for folder in (scratch, other_scratch):
        folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("ROLLOUT_DOCTOR_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir(mode=0o700)
    path = broken_copy(tmp_path)

    def left(folder: Path) -> Path:
        made = folder / f"rollout-doctor-fix-{dead_pid()}-x"
        made.mkdir()
        aged(made, 11 * 60)
        return made

    first = left(scratch)
    assert run(capsys, "check", str(path))[0] == 1
    assert not first.exists()
    second = left(scratch)
    assert run(capsys, "check", str(path))[0] == 1
    assert second.exists(), "swept again within the minute"
    monkeypatch.setattr(tempfile, "tempdir", str(other_scratch))  # another temp folder has a stamp of its own
    third = left(other_scratch)
    assert run(capsys, "check", str(path))[0] == 1
    assert not third.exists()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    stamps = [p for p in (tmp_path / "cache").iterdir() if p.name.startswith("swept")]
    assert len(stamps) == 2
    for stamp in stamps:
        aged(stamp, 61)
    assert run(capsys, "check", str(path))[0] == 1
    assert not second.exists(), "a minute later the check sweeps again"
    fourth = left(scratch)
    assert run(capsys, "fix", "--dry-run", str(path))[0] == 1
    assert not fourth.exists(), "a fix sweeps whenever it runs"


def test_a_run_leaves_no_scratch_behind(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = zst_copy(tmp_path)
    assert run(capsys, "check", str(path))[0] == 1
    assert run(capsys, "fix", str(path))[0] == 0
    assert list(scratch.iterdir()) == []
    assert leftovers(path.parent) == []


# --- attributes ---------------------------------------------------------------------------------------


def test_mode_owner_and_extended_attributes_are_kept(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = broken_copy(tmp_path)
    os.chmod(path, 0o640)
    if os.geteuid() == 0:
        os.chown(path, 1234, 5678)
    try:
        os.setxattr(path, "user.rollout-doctor-test", b"kept")
        xattr = True
    except OSError:
        xattr = False  # the file system has no user xattrs
    before = path.stat()
    assert run(capsys, "fix", str(path))[0] == 0
    after = path.stat()
    assert after.st_ino != before.st_ino  # it really was rewritten
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == \
        (0o640, before.st_uid, before.st_gid)
    if xattr:
        assert os.getxattr(path, "user.rollout-doctor-test") == b"kept"


@pytest.mark.skipif(not can_drop(), reason="needs root (and setpriv) to make a file owned by another user "
                    "that the run then cannot give away")
def test_an_owner_that_cannot_be_kept_means_no_rewrite(tmp_path: Path) -> None:
    path = broken_copy(tmp_path)
    os.chown(path, 1234, 1234)
    original = path.read_bytes()
    done = run_cli(["fix", str(path)], cli_env(tmp_path / "state", tmp_path / "codex-home"), without=("chown",))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "owned by uid 1234 gid 1234" in done.stdout and "cannot give a rewritten file the same owner" in done.stdout
    assert path.read_bytes() == original and path.stat().st_uid == 1234
    assert leftovers(path.parent) == []


def test_unreadable_files_are_reported_and_skipped(tmp_path: Path) -> None:
    """chmod 000 does not stop root: as root the CLI runs without the capabilities that let it through."""
    if os.geteuid() == 0 and not can_drop():
        pytest.skip("running as root without setpriv: chmod 000 cannot be made to bite")
    folder = tmp_path / "sessions"
    locked = copy_into(BROKEN, folder / "a")
    readable = copy_into(BROKEN_PAGINATED, folder / "b")
    closed = folder / "c"
    copy_into(BROKEN, closed)
    os.chmod(locked, 0o000)
    os.chmod(closed, 0o000)
    without = ("dac_override", "dac_read_search") if os.geteuid() == 0 else ()
    env = cli_env(tmp_path / "state", tmp_path / "codex-home")
    try:
        for command in ("check", "fix"):
            done = run_cli([command, str(folder)], env, without=without)
            assert done.returncode == 2, done.stdout + done.stderr
            assert "Traceback" not in done.stdout + done.stderr
            assert f"{locked}: Permission denied" in done.stdout
            assert f"{closed}: Permission denied" in done.stdout
            assert str(readable) in done.stdout  # the other files are still checked (and fixed)
        assert "fixed 1 file(s)" in done.stdout
    finally:
        os.chmod(closed, 0o755)


# --- links ------------------------------------------------------------------------------------------


def test_a_scan_never_follows_a_link_out_of_its_folder_or_into_a_loop(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    inside = copy_into(BROKEN, root / "2026" / "11" / "21")
    outside = copy_into(BROKEN_PAGINATED, tmp_path / "elsewhere")
    (root / "out").symlink_to(outside.parent, target_is_directory=True)
    (root / "2026" / "loop").symlink_to(root, target_is_directory=True)
    (root / "rollout-2026-01-01T00-00-00-00000000-0000-0000-0000-000000000000.jsonl").symlink_to(outside)
    (root / "rollout-2026-01-01T00-00-00-11111111-1111-1111-1111-111111111111.jsonl").symlink_to(inside)
    (root / "rollout-2026-01-01T00-00-00-22222222-2222-2222-2222-222222222222.jsonl").symlink_to(root / "nowhere")
    found = list(discover([root], [CODEX]))
    assert [f.error for f in found] == [None]
    assert [os.path.realpath(f.path) for f in found] == [str(inside)]


def test_a_linked_rollout_has_its_target_fixed_and_the_link_kept(capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path) -> None:
    target = broken_copy(tmp_path)
    original = target.read_bytes()
    link = tmp_path / "link" / target.name
    link.parent.mkdir()
    link.symlink_to(target)
    assert run(capsys, "fix", str(link))[0] == 0
    assert link.is_symlink() and target.read_bytes() == fixed_bytes(tmp_path)
    assert run(capsys, "undo", str(link))[0] == 0
    assert link.is_symlink() and target.read_bytes() == original


def test_a_fifo_named_like_a_rollout_is_an_error_not_a_hang(capsys: pytest.CaptureFixture[str],
                                                            tmp_path: Path) -> None:
    fifo = tmp_path / "rollout-2026-01-01T00-00-00-00000000-0000-0000-0000-000000000000.jsonl"
    os.mkfifo(fifo)
    code, out, _ = run(capsys, "check", str(fifo), str(real(BROKEN)))
    assert code == 2 and f"{fifo}: not a regular file" in out and "RD101" in out


# --- .jsonl.zst ---------------------------------------------------------------------------------------


def zst_copy(tmp_path: Path) -> Path:
    path = tmp_path / "sessions" / (real(BROKEN).name + ".zst")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zstandard.ZstdCompressor(level=19).compress(rollout_bytes(BROKEN)))
    return path


def test_a_compressed_rollout_is_written_back_compressed_and_undone_exactly(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = zst_copy(tmp_path)
    original = path.read_bytes()
    assert run(capsys, "fix", str(path))[0] == 0
    assert path.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # a zstd frame
    assert zstandard.ZstdDecompressor().stream_reader(path.read_bytes()).read() == fixed_bytes(tmp_path)
    assert run(capsys, "check", str(path))[0] == 0
    assert run(capsys, "undo", str(path))[0] == 0
    assert path.read_bytes() == original


def test_a_corrupt_compressed_rollout_is_an_error_and_the_rest_goes_on(capsys: pytest.CaptureFixture[str],
                                                                       tmp_path: Path) -> None:
    path = zst_copy(tmp_path)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    code, out, _ = run(capsys, "fix", str(path), str(broken_copy(tmp_path)))
    assert code == 2
    assert f"{path}:" in out and "internal error" not in out and "Traceback" not in out
    assert "1 fix(es) applied" in out


def settled(path: Path) -> None:
    """Give ``path`` a change time old enough to vouch for its bytes (store FileState.of_fd)."""
    time.sleep(state.SETTLED_NS / 1e9 + 0.05)


def test_a_same_size_rewrite_with_its_mtime_put_back_is_refused_at_the_replace(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, stage_hook: None) -> None:
    """The replace trusts a settled change time instead of hashing the file again: a program that
    rewrites bytes in place and sets the modification time back still moves the change time."""
    path = broken_copy(tmp_path)
    settled(path)
    original = path.read_bytes()
    tampered = original.replace(b"{", b"[", 1)
    assert len(tampered) == len(original) and tampered != original

    def rewrite_in_place(name: str) -> None:
        if name == "backed-up":
            st = path.stat()
            with open(path, "r+b") as f:
                f.write(tampered[:1])
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    writer.STAGE_HOOK = rewrite_in_place
    code, out, _ = run(capsys, "fix", str(path))
    assert code == 3 and "changed since it was read" in out
    assert path.read_bytes() == tampered
    assert leftovers(path.parent) == []


def test_a_change_time_vouches_for_the_bytes_only_once_settled(tmp_path: Path) -> None:
    path = tmp_path / "rollout.jsonl"
    path.write_bytes(b'{"a":1}\n')
    fresh = state.FileState.of(path)
    assert fresh.ctime_ns == 0 and not fresh.unchanged_since(path.stat())  # hashed again at the replace
    settled(path)
    vouched = state.FileState.of(path)
    assert vouched.unchanged_since(path.stat())
    os.chmod(path, 0o600)  # no byte changed, but the change time moved: read again, not trusted
    assert vouched.matches(path.stat()) and not vouched.unchanged_since(path.stat())
