"""`undo` by what the user knows: a session id or a unique prefix of one, a folder, the last run, a file;
`undo --list` by run, and pruning by count. Real Codex sessions (fixtures/real, fixtures/threads) in an
isolated CODEX_HOME, the CLI run in-process; every undo is checked byte for byte."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.breakers import BREAKERS
from tests.support.cli import isolate, run
from tests.support.threads import break_before_fork, copy_thread

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "fixtures" / "real"
STUCK = "0.77.0-responses-interrupted-stream"  # session 01a1fea1-…: an orphan call
CHAT = "0.77.0-chat-parallel-calls"  # session 01a1fe9f-f08a-…: parallel calls, stuck on the Chat wire
CLEAN = "0.77.0-responses-single-call"  # session 01a1fe9f-bd67-…: clean; shares its first 8 digits with CHAT
DAY = Path("sessions/2026/11/21")
TORN = b'{"timestamp":"2026-11-29T06:52:00.000Z","type":"respo\n'  # what a crash mid-write leaves


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A CODEX_HOME holding three real 0.77.0 sessions, two of them broken."""
    codex_home = isolate(tmp_path, monkeypatch)
    (codex_home / DAY).mkdir(parents=True)
    for name in (STUCK, CHAT, CLEAN):
        for rollout in (REAL / name).glob("rollout-*.jsonl"):
            shutil.copyfile(rollout, codex_home / DAY / rollout.name)
    return codex_home


def rollout(home: Path, thread_prefix: str) -> Path:
    [found] = (home / DAY).glob(f"rollout-*-{thread_prefix}*.jsonl")
    return found


def snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("rollout-*.jsonl"))}


def test_undo_by_a_unique_id_prefix_restores_that_session_only(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(home)
    assert run(capsys, "fix", "--target", "chat")[0] == 0
    fixed = snapshot(home)
    code, out, _err = run(capsys, "undo", "01a1fea1")
    assert code == 0, out
    stuck = rollout(home, "01a1fea1")
    assert stuck.read_bytes() == before[stuck]
    assert "undid 1 fix(es) of session 01a1fea1-f2f8-7331-9a10-ca85f30b2a96: 1 file(s) restored" in out
    chat = rollout(home, "01a1fe9f-f08a")
    assert chat.read_bytes() == fixed[chat] != before[chat], "the other session keeps its fix"


def test_an_ambiguous_prefix_is_an_error_naming_the_candidates(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "fix", "--target", "chat")[0] == 0
    fixed = snapshot(home)
    code, _out, err = run(capsys, "undo", "01a1fe9f")
    assert code == 2 and "'01a1fe9f' starts 2 session ids; give more of it" in err
    assert "01a1fe9f-bd67-7d81-89fd-e54529c40133" in err and "01a1fe9f-f08a-7b52-b5d9-f7fe77a29caa" in err
    assert snapshot(home) == fixed
    code, _out, err = run(capsys, "guard", "01a1fe9f")
    assert code == 2 and "give more of it" in err


def test_guard_takes_a_prefix_and_undo_last_run_undoes_what_it_wrote(home: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(home)
    code, _out, err = run(capsys, "guard", "01a1fea1-f2f8")
    assert code == 0 and "session 01a1fea1-f2f8-7331-9a10-ca85f30b2a96" in err and "ready to resume" in err
    assert snapshot(home) != before
    code, out, _err = run(capsys, "undo", "--last-run")
    assert code == 0 and "(guard, " in out
    assert snapshot(home) == before


def test_undo_of_a_folder_restores_every_fix_of_a_file_in_it_newest_first(home: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(home)
    assert run(capsys, "fix")[0] == 0  # the orphan call
    assert run(capsys, "fix", "--target", "chat")[0] == 0  # then the Chat adjacency: a second run
    code, out, _err = run(capsys, "undo", str(home / "sessions"))
    assert code == 0, out
    assert "undid 2 fix(es) of folder" in out and "2 file(s) restored" in out
    assert snapshot(home) == before
    code, _out, err = run(capsys, "undo", str(home / "sessions"))
    assert code == 2 and "is undone already" in err


def test_undo_last_run_restores_a_threads_multi_file_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    isolate(tmp_path, monkeypatch)
    thread = copy_thread(tmp_path, "0.171.0-fork")  # real 0.171.0 files: a session and its fork
    parent, child = thread.files
    break_before_fork(parent, [child], BREAKERS["orphan-call"])
    before = snapshot(thread.sessions)
    assert run(capsys, "fix", str(thread.sessions))[0] == 0
    after_first = snapshot(thread.sessions)
    assert after_first[parent] != before[parent] and after_first[child] != before[child]
    code, out, _err = run(capsys, "undo", "--list")
    [run_line] = [line for line in out.splitlines() if line.startswith("run ")]
    assert " fix " in run_line and "2 file(s)" in run_line and "by the next `undo --last-run`" in run_line
    code, out, _err = run(capsys, "undo", "--last-run")
    assert code == 0 and f"restored {parent}" in out and f"restored {child}" in out
    assert snapshot(thread.sessions) == before


def test_undo_of_a_session_finds_its_revert_branch_after_codex_archived_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    codex_home = isolate(tmp_path, monkeypatch)
    thread = copy_thread(tmp_path, "0.171.0-revert")  # a thread's file and its revert branch's
    for path in thread.files:
        path.write_bytes(path.read_bytes() + TORN)
    before = {p.name: p.read_bytes() for p in thread.files}
    assert run(capsys, "fix")[0] == 0
    archived = codex_home / "archived_sessions"
    archived.mkdir()
    for path in thread.files:  # Codex archives a session by moving its files, names kept
        path.rename(archived / path.name)
    code, out, _err = run(capsys, "undo", "01a22612-dfe0")
    assert code == 0 and "2 file(s) restored" in out, out
    assert {p.name: p.read_bytes() for p in archived.iterdir()} == before


def test_a_file_changed_since_the_fix_stops_the_whole_undo_before_anything_is_restored(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "fix", "--target", "chat")[0] == 0
    stuck = rollout(home, "01a1fea1")
    stuck.write_bytes(stuck.read_bytes() + b'{"type":"event_msg","payload":{"type":"turn_started"}}\n')
    changed = snapshot(home)
    code, _out, err = run(capsys, "undo", "--last-run")
    assert code == 3 and "changed since rollout-doctor fixed it" in err and "nothing restored" in err
    assert snapshot(home) == changed, "the other file of the run is not restored either"


def test_undo_list_groups_by_run_and_shows_the_size(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "fix")[0] == 0
    assert run(capsys, "fix", "--target", "chat")[0] == 0
    code, out, _err = run(capsys, "undo", "--list")
    assert code == 0
    runs = [line for line in out.splitlines() if line.startswith("run ")]
    transactions = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(runs) == 2 and len(transactions) == 2 and all(" fix " in line for line in runs)
    assert "by the next `undo --last-run`" in runs[1] and "by the next `undo --last-run`" not in runs[0]
    assert out.splitlines()[-1].startswith("2 run(s), 2 transaction(s): ") and " kB in " in out
    code, out, _err = run(capsys, "undo", "--list", "01a1fe9f-f08a")
    assert len([line for line in out.splitlines() if line.startswith("run ")]) == 1


def test_prune_keep_keeps_the_newest_runs_and_they_still_undo(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(home)
    assert run(capsys, "fix")[0] == 0
    assert run(capsys, "fix", "--target", "chat")[0] == 0
    code, out, _err = run(capsys, "undo", "--prune-keep", "1")
    assert code == 0 and "1 backup(s) removed" in out and "freed" in out
    code, out, _err = run(capsys, "undo", "--list")
    assert len([line for line in out.splitlines() if line.startswith("run ")]) == 1
    assert run(capsys, "undo", "--last-run")[0] == 0
    chat = rollout(home, "01a1fe9f-f08a")
    assert chat.read_bytes() == before[chat]
    assert run(capsys, "undo", "--last-run")[0] == 2, "the pruned run cannot be undone"


@pytest.mark.parametrize("argv", [
    pytest.param(["undo"], id="nothing"),
    pytest.param(["undo", "--last-run", "x.jsonl"], id="both"),
    pytest.param(["undo", "--prune-keep", "-1"], id="negative"),
])
def test_undo_usage_errors_exit_2(home: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _out, err = run(capsys, *argv)
    assert code == 2 and "Traceback" not in err


def test_a_session_fixed_outside_the_codex_home_is_found_in_the_backups(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    isolate(tmp_path, monkeypatch)  # an empty CODEX_HOME
    stuck = next((REAL / STUCK).glob("rollout-*.jsonl"))
    copy = tmp_path / "elsewhere" / stuck.name
    copy.parent.mkdir()
    shutil.copyfile(stuck, copy)
    assert run(capsys, "fix", str(copy))[0] == 0
    code, out, _err = run(capsys, "undo", "01a1fea1")
    assert code == 0 and f"restored {copy}" in out
    assert copy.read_bytes() == stuck.read_bytes()
    code, _out, err = run(capsys, "undo", "01a1fe9f")
    assert code == 2 and "no session id starts with '01a1fe9f'" in err and "nor in the backups" in err
