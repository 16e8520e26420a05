"""Never lose a byte, round two: handlers that run (SIGINT, SIGTERM), writes that fail half-way, the
backup store as an input, special files, memory, and the shell wrapper. Each test is one way the
promises were seen to break; store/__init__.py says what must hold instead."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from rollout_doctor.store import journal as store_journal
from rollout_doctor.store.journal import COMMITTED, RESTORED
from tests.support.cli import isolate, run
from tests.support.safety import (
    BROKEN,
    can_drop,
    cli_env,
    copy_into,
    holding,
    leftovers,
    rollout_bytes,
    run_cli,
    sha256,
)

STOP_AT = """
import os, signal, sys
from rollout_doctor.store import files
from rollout_doctor.cli.main import main
sig = getattr(signal, sys.argv[2])
files.STAGE_HOOK = lambda name: os.kill(os.getpid(), sig) if name == sys.argv[1] else None
sys.exit(main(sys.argv[3:]))
"""


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(tmp_path, monkeypatch)
    return tmp_path / "state"


def broken(tmp_path: Path) -> Path:
    return copy_into(BROKEN, tmp_path / "codex-home" / "sessions" / "2026" / "11" / "21")


def fixed_report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code, out, _ = run(capsys, "fix", "--format", "json", *argv)
    return code, orjson.loads(out)


# --- 1. a signal just after the replace ---------------------------------------------------------------


@pytest.mark.parametrize("command", ["fix", "guard"])
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("step", ["swapped", "replaced"])
def test_a_signal_right_after_the_replace_keeps_the_backup(command: str, sig: str, step: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """"swapped": the instant after os.replace, before anything records it (where Ctrl-C used to make the
    error path delete the backup of a file it had just replaced)."""
    path = broken(tmp_path)
    original = path.read_bytes()
    argv = [command, str(path)] if command == "fix" else [command, path.name[-42:-6]]
    env = cli_env(tmp_path / "state", tmp_path / "codex-home")
    done = subprocess.run([sys.executable, "-c", STOP_AT, step, sig, *argv], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 128 + getattr(signal, sig), done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert path.read_bytes() != original and leftovers(path.parent) == []
    code, out, err = run(capsys, "undo", str(path))
    assert code == 0 and "restored" in out, out + err
    assert path.read_bytes() == original


# --- 2. --force needs the kept file, or nothing is replaced ---------------------------------------------


def test_force_over_a_live_writer_with_a_long_name_keeps_what_it_writes_later(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    path = folder / ("a-session-saved-with-a-long-descriptive-name-" * 5 + ".jsonl")
    assert len(path.name) > 210
    path.write_bytes(rollout_bytes(BROKEN))
    with holding(path, "append") as holder:
        code, report = fixed_report(capsys, "--force", str(path))
        assert code == 0 and report["files"][0]["fix"]["written"]
        [kept] = list(folder.glob(".rollout-doctor-kept-*"))
        assert len(os.fsencode(kept.name)) <= 255
        holder.finish(write='{"late":"line"}')
    assert kept.read_bytes().endswith(b'{"late":"line"}\n')


def test_force_without_hard_links_refuses_rather_than_lose_later_writes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from rollout_doctor.store import files

    def no_links(*_args: object) -> None:
        raise OSError(errno.EPERM, "hard links not supported here")

    monkeypatch.setattr(files.os, "link", no_links)
    path = broken(tmp_path)
    original = path.read_bytes()
    with holding(path, "append"):
        code, report = fixed_report(capsys, "--force", str(path))
    assert code == 3 and "cannot make one" in report["files"][0]["fix"]["refused"]
    assert path.read_bytes() == original and not report["files"][0]["fix"]["written"]


# --- 3. what was written, told truthfully --------------------------------------------------------------


def disk_full(*_args: object, **_kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["temporary-file", "backup-copy", "journal"])
def test_a_full_disk_before_the_replace_is_an_error_and_nothing_is_said_to_be_fixed(
        where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from rollout_doctor.store import transaction

    # The temporary file is written, or (a fix's last pass on the rollout's file system) linked.
    targets = {"temporary-file": [(transaction, "write_temp"), (transaction, "temp_copy")],
               "backup-copy": [(transaction, "copy_private")], "journal": [(store_journal, "_write_json")]}[where]
    for target in targets:
        monkeypatch.setattr(*target, disk_full)
    path = broken(tmp_path)
    original = path.read_bytes()
    code, report = fixed_report(capsys, str(path))
    fix = report["files"][0]["fix"]
    assert code == 2 and "no space left" in report["files"][0]["error"]
    assert fix["written"] is False and fix["applied"] == [] and fix["remaining"] == report["files"][0]["diagnostics"]
    assert report["summary"]["remaining"] == len(report["files"][0]["diagnostics"]) > 0
    code, out, _ = run(capsys, "fix", str(path))
    assert "0 problem(s) remain" not in out
    assert path.read_bytes() == original and leftovers(path.parent) == []


def test_a_bad_backup_location_is_an_error_and_nothing_is_said_to_be_fixed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = broken(tmp_path)
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(path.parent / "state"))  # inside sessions/
    code, report = fixed_report(capsys, str(path))
    assert code == 2 and report["files"][0]["fix"]["written"] is False and report["summary"]["remaining"] == 1


@pytest.mark.skipif(not can_drop(), reason="needs root and setpriv to make a read-only folder bite")
def test_a_read_only_folder_is_an_error_and_nothing_is_said_to_be_fixed(tmp_path: Path) -> None:
    path = broken(tmp_path)
    original = path.read_bytes()
    os.chmod(path.parent, 0o555)
    try:
        done = run_cli(["fix", "--format", "json", str(path)], cli_env(tmp_path / "state", tmp_path / "codex-home"),
                       without=("dac_override", "dac_read_search", "fowner"))
    finally:
        os.chmod(path.parent, 0o755)
    report = orjson.loads(done.stdout)
    assert done.returncode == 2 and report["files"][0]["fix"]["written"] is False
    assert report["summary"]["remaining"] == 1 and path.read_bytes() == original


def test_a_full_store_after_the_replace_says_what_was_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The files are replaced; only the journal's last record fails: written, with a warning, exit 0;
    the next run records it, and undo still works."""
    path = broken(tmp_path)
    original = path.read_bytes()
    save = store_journal.Journal.save

    def full_when_done(self: store_journal.Journal) -> None:
        if self.state in (COMMITTED, RESTORED):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        save(self)

    with monkeypatch.context() as patch:
        patch.setattr(store_journal.Journal, "save", full_when_done)
        code, report = fixed_report(capsys, str(path))
        fix = report["files"][0]["fix"]
        assert code == 0 and fix["written"] and fix["remaining"] == [] and report["summary"]["remaining"] == 0
        assert any("could not be marked committed" in w for w in fix["warnings"])
    code, out, err = run(capsys, "undo", str(path))
    assert code == 0 and "interrupted run's transaction" in err and path.read_bytes() == original
    with monkeypatch.context() as patch:  # and the reverse: undo did its work, the record of it fails
        assert run(capsys, "fix", str(path))[0] == 0
        patch.setattr(store_journal.Journal, "save", full_when_done)
        code, _out, err = run(capsys, "undo", str(path))
        assert code == 0 and "could not be marked restored" in err and path.read_bytes() == original


# --- 4. a backup is the file's, not its bytes' -----------------------------------------------------------


def test_undo_of_a_copy_does_not_use_up_the_originals_backup(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = broken(tmp_path)
    original = path.read_bytes()
    assert run(capsys, "fix", str(path))[0] == 0
    copy = tmp_path / "elsewhere" / path.name
    copy.parent.mkdir()
    shutil.copyfile(path, copy)
    code, _out, err = run(capsys, "undo", str(copy))
    assert code == 2 and "no backup" in err and copy.read_bytes() == path.read_bytes()
    code, out, _ = run(capsys, "undo", "--list", str(path))
    assert "can be restored" in out
    assert run(capsys, "undo", str(path))[0] == 0 and path.read_bytes() == original


# --- 5. the store as untrusted input -----------------------------------------------------------------------


def test_damaged_backups_are_reported_in_one_line_and_the_others_stay_usable(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], private_state: Path) -> None:
    sessions = tmp_path / "codex-home" / "sessions" / "2026" / "11" / "21"
    paths = [copy_into(BROKEN, sessions / str(n)) for n in range(5)]
    for path in paths:
        assert run(capsys, "fix", str(path))[0] == 0
    folders = {Path(entry.path) for entry in os.scandir(private_state / "backups") if not entry.name.startswith(".")}
    by_path = {}
    for folder in folders:
        data = orjson.loads((folder / "journal.json").read_bytes())
        by_path[Path(data["files"][0]["path"])] = folder
    damages = [
        lambda f: (f / "journal.json").write_bytes(b"{not json"),
        lambda f: _edit(f, lambda d: d["files"][0].update(path_bytes="zz-not-hex")),
        lambda f: _edit(f, lambda d: d["files"][0].update(path_bytes=os.fsencode("/x\0y").hex(), state="pending")),
        lambda f: (f / orjson.loads((f / "journal.json").read_bytes())["files"][0]["copy"]).unlink(),
    ]
    for path, damage in zip(paths, damages):
        damage(by_path[Path(os.path.realpath(path))])
    code, out, err = run(capsys, "undo", "--list")
    assert code == 0 and "Traceback" not in err
    assert err.count("unusable backup:") == 4 and all("\n" not in line for line in err.splitlines())
    assert "is missing; that backup cannot be restored" in err
    assert str(os.path.realpath(paths[4])) in out and out.count("can be restored") == 1
    code, out, err = run(capsys, "undo", str(paths[4]))
    assert code == 0 and paths[4].read_bytes() == rollout_bytes(BROKEN)
    code, _out, err = run(capsys, "undo", str(paths[3]))
    assert code == 2 and "no backup" in err and "Traceback" not in err


def _edit(folder: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = orjson.loads((folder / "journal.json").read_bytes())
    change(data)
    (folder / "journal.json").write_bytes(orjson.dumps(data))


# --- 6, 7. the machine it runs on ----------------------------------------------------------------------


def test_an_existing_state_folder_keeps_its_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(shared))
    path = broken(tmp_path)
    assert run(capsys, "fix", str(path))[0] == 0
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777, "the sticky bit of a shared folder stays"
    assert stat.S_IMODE((shared / "backups").stat().st_mode) == 0o700


@pytest.mark.skipif(os.geteuid() != 0, reason="gives files groups this user is not in")
def test_a_set_group_id_folder_does_not_change_the_files_group(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The file keeps its own group (this user's), not the one a new file in the folder would get."""
    path = broken(tmp_path)
    os.chown(path.parent, -1, 4242)
    os.chmod(path.parent, 0o2775)
    os.chown(path, -1, os.getegid())
    os.chmod(path, 0o640)
    assert run(capsys, "fix", str(path))[0] == 0
    assert path.stat().st_gid == os.getegid() and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert run(capsys, "undo", str(path))[0] == 0
    assert path.stat().st_gid == os.getegid()


# --- 8. special files never block ---------------------------------------------------------------------------


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "fifo"])
def test_undo_of_a_special_file_answers_at_once(special: str, tmp_path: Path) -> None:
    target = special
    if special == "fifo":
        target = str(tmp_path / "rollout-2026-11-21T15-03-08-01a1fea1-f2f8-7331-9a10-ca85f30b2a96.jsonl")
        os.mkfifo(target)
    env = cli_env(tmp_path / "state", tmp_path / "codex-home")
    done = run_cli(["undo", target], env, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_a_fifo_config_toml_does_not_hang_the_guard(tmp_path: Path) -> None:
    path = broken(tmp_path)
    os.mkfifo(tmp_path / "codex-home" / "config.toml")
    env = cli_env(tmp_path / "state", tmp_path / "codex-home")
    done = run_cli(["guard", path.name[-42:-6]], env, timeout=60)
    assert done.returncode == 0 and "fixed 1 problem" in done.stderr


# --- 9. memory stays bounded -----------------------------------------------------------------------------


BOUNDED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]) << 20,) * 2)
from rollout_doctor.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def under_a_memory_limit(args: list[str], tmp_path: Path, mib: int = 700) -> subprocess.CompletedProcess[str]:
    env = cli_env(tmp_path / "state", tmp_path / "codex-home", TMPDIR=str(tmp_path))
    return subprocess.run([sys.executable, "-c", BOUNDED, str(mib), *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_a_line_of_two_gib_of_nul_bytes_is_reported_without_being_read(tmp_path: Path) -> None:
    """It took `check` to 6 GiB (killed); now the line is reported as too long, and the run stays small."""
    path = broken(tmp_path)
    head = path.read_bytes()
    with open(path, "r+b") as f:
        f.truncate(len(head) + (2 << 30))  # sparse: no disk is used for the NUL bytes
        f.seek(0, 2)
        f.write(b"\n" + head.split(b"\n")[1] + b"\n")
    done = under_a_memory_limit(["check", "--format", "json", str(path)], tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    [line] = [d for d in orjson.loads(done.stdout)["files"][0]["diagnostics"] if d["rule"] == "invalid-line"]
    assert "longer than" in line["message"] and "not read" in line["message"]
    assert line["fix"]["applicability"] == "unsafe", "never read, so its removal is a person's call"


def test_a_zstd_bomb_is_decompressed_in_bounded_memory(tmp_path: Path) -> None:
    import zstandard

    path = broken(tmp_path)
    head = path.read_bytes()
    packed = path.with_name(path.name + ".zst")
    with open(packed, "wb") as f, zstandard.ZstdCompressor().stream_writer(f) as out:
        out.write(head)
        zeros = bytes(64 << 20)
        for _ in range(16):  # 1 GiB of NUL bytes, a few kB compressed
            out.write(zeros)
        out.write(b"\n")
    path.unlink()
    assert packed.stat().st_size < 1 << 20
    done = under_a_memory_limit(["check", str(packed)], tmp_path)
    assert done.returncode == 1 and "longer than" in done.stdout, done.stderr[-2000:]


# --- questionable, decided: a read-only rollout, hard links, pruning -----------------------------------------


def test_a_read_only_rollout_is_not_rewritten_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = broken(tmp_path)
    original = path.read_bytes()
    os.chmod(path, 0o444)
    code, report = fixed_report(capsys, str(path))
    assert code == 3 and "read-only" in report["files"][0]["fix"]["refused"] and path.read_bytes() == original
    code, report = fixed_report(capsys, "--force", str(path))
    assert code == 0 and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert any("read-only" in w for w in report["files"][0]["fix"]["warnings"])


def test_a_rollout_with_another_hard_link_is_fixed_and_the_link_named(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = broken(tmp_path)
    original = path.read_bytes()
    other = tmp_path / "hardlinked.jsonl"
    os.link(path, other)
    code, report = fixed_report(capsys, str(path))
    assert code == 0 and any("other hard link" in w for w in report["files"][0]["fix"]["warnings"])
    assert other.read_bytes() == original and path.read_bytes() != original


def test_prune_removes_old_finished_backups_only(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 private_state: Path) -> None:
    path = broken(tmp_path)
    assert run(capsys, "fix", str(path))[0] == 0
    code, out, _ = run(capsys, "undo", "--prune", "1")
    assert code == 0 and "0 backup(s) removed" in out
    [folder] = [p for p in (private_state / "backups").iterdir() if not p.name.startswith(".")]
    _edit(folder, lambda d: d.update(created="2020-01-01T00:00:00Z"))
    code, out, _ = run(capsys, "undo", "--prune", "30")
    assert code == 0 and "1 backup(s) removed" in out and not folder.exists()
    assert run(capsys, "undo", str(path))[0] == 2


# --- 10-12. the shell wrapper -------------------------------------------------------------------------------


@pytest.fixture
def shell_home(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A fake `codex` that says what it was run with, and a rollout-doctor on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "codex").write_text('#!/bin/sh\necho "codex ran: $*"\n')
    (bin_dir / "rollout-doctor").write_text(f'#!/bin/sh\nexec {sys.executable} -m rollout_doctor "$@"\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = cli_env(tmp_path / "state", tmp_path / "codex-home")
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"
    return tmp_path, env


def bash(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    wrapper = subprocess.run([sys.executable, "-m", "rollout_doctor", "shell-init", "bash"], env=env,
                             capture_output=True, text=True, check=True).stdout
    return subprocess.run(["bash", "-c", wrapper + "\n" + script], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def test_under_set_e_the_wrapper_still_starts_codex(shell_home: tuple[Path, dict[str, str]]) -> None:
    root, env = shell_home
    done = bash("set -e\ncodex exec resume 01a1fea1-0000-7000-8000-000000000000 go\necho after", env, root)
    assert "codex ran: exec resume" in done.stdout and "after" in done.stdout, done.stderr
    assert "no rollout for session" in done.stderr  # the guard said its piece (exit 2), codex ran anyway


def test_ctrl_c_during_the_guard_cancels_the_resume(shell_home: tuple[Path, dict[str, str]]) -> None:
    root, env = shell_home
    slow = root / "bin" / "rollout-doctor"
    slow.write_text("#!/bin/sh\nexit 130\n")  # what the guard answers when Ctrl-C stops it
    done = bash("codex resume --last; echo \"status $?\"", env, root)
    assert "codex ran" not in done.stdout and "status 130" in done.stdout


def test_codex_cd_dir_resume_last_guards_dirs_session(shell_home: tuple[Path, dict[str, str]],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`codex -C DIR resume --last` resumes DIR's newest session: the guard must look there too."""
    root, env = shell_home
    project = root / "project"
    project.mkdir()
    path = copy_into(BROKEN, root / "codex-home" / "sessions" / "2026" / "11" / "21")
    (root / "codex-home" / "config.toml").write_text('model_provider = "judge"\n')  # as the session was recorded
    data = path.read_bytes()
    recorded_cwd = orjson.loads(data.split(b"\n", 1)[0])["payload"]["cwd"]
    # The TUI's `resume --last` offers interactive sessions only (0.169.0 and 0.171.0,
    # docs/codex-facts.md "Which session a resume opens"): this one was recorded by `codex exec`.
    data = data.replace(b'"source":"exec"', b'"source":"cli"')
    path.write_bytes(data.replace(recorded_cwd.encode(), str(project).encode()))
    before = sha256(path)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    done = bash(f"codex -C {project} resume --last", env, elsewhere)
    assert "codex ran: -C" in done.stdout
    assert "fixed 1 problem" in done.stderr and sha256(path) != before, done.stderr
    time.sleep(0)  # nothing else: the guard ran for the folder Codex was given, not the shell's
