"""Runs in the backup store: every transaction of one invocation is found, undone and pruned together,
byte for byte (tests/support/toy/ is the format: nothing here depends on Codex)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rollout_doctor.core.fixer import fix_files
from rollout_doctor.core.rules import Options
from rollout_doctor.store import backups, runs, undo
from rollout_doctor.store.files import RefusedToWrite
from tests.support.toy import TOY

BROKEN = b'{"t":"head"}\n{"t":"call","id":"%s"}\n'


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    for name in "abc":
        (sessions / f"{name}.toy.jsonl").write_bytes(BROKEN % name.encode())
    return sessions


def fix(paths: list[Path]) -> str:
    run = runs.start_run()
    assert all(r.written for r in fix_files(TOY, paths, Options(target=None)))
    return run


def test_a_run_groups_the_transactions_of_one_invocation_and_undo_of_it_restores_them_all(folder: Path) -> None:
    a, b, c = sorted(folder.iterdir())
    first = fix([a])
    second = fix([b, c])  # two sessions: two transactions, one run
    listed = backups.runs()
    assert [r.id for r in listed] == [first, second]
    assert [len(r.journals) for r in listed] == [1, 2] and listed[1].command == "fix"
    restored = undo.restore_run(listed[-1])
    assert sorted(p for r in restored for p in r.files) == [b, c]
    assert b.read_bytes() == BROKEN % b"b" and c.read_bytes() == BROKEN % b"c"
    assert a.read_bytes() != BROKEN % b"a"  # the earlier run is left alone
    assert undo.restore_run(backups.runs()[-1]) == []  # undone already: nothing to do


def test_backups_are_found_by_the_folder_they_wrote_in(folder: Path, tmp_path: Path) -> None:
    a, b, _c = sorted(folder.iterdir())
    fix([a, b])
    assert {j.entries[0].path for j in backups.journals_under(folder)} == {a, b}
    assert backups.journals_under(tmp_path / "elsewhere") == []


def test_pruning_by_count_keeps_the_newest_runs_and_the_size_shrinks(folder: Path) -> None:
    a, b, c = sorted(folder.iterdir())
    for path in (a, b, c):
        fix([path])
    before = backups.size()
    assert before > 0
    removed = backups.prune(keep=1)
    assert sorted(j.entries[0].path for j in removed) == [a, b]
    assert [r.journals[0].entries[0].path for r in backups.runs()] == [c]
    assert backups.size() < before
    undo.restore(c)
    assert c.read_bytes() == BROKEN % b"c"  # what is kept is still whole


def test_pruning_never_removes_an_unfinished_transaction(folder: Path) -> None:
    a, _b, _c = sorted(folder.iterdir())
    fix([a])
    [journal] = backups.runs()[-1].journals
    journal.state = "prepared"
    journal.save()
    assert backups.prune(keep=0) == [] and backups.prune(older_than_days=0, now=4e9) == []


def test_undoing_several_fixes_checks_them_all_before_touching_any(folder: Path) -> None:
    a, b, _c = sorted(folder.iterdir())
    fix([a])
    fix([b])
    b.write_bytes(b.read_bytes() + b'{"t":"late"}\n')  # its client wrote on after the fix
    before = {path: path.read_bytes() for path in (a, b)}
    newest_first = list(reversed(backups.journals()[0]))
    with pytest.raises(RefusedToWrite, match="nothing restored"):
        undo.restore_all(newest_first)
    assert {path: path.read_bytes() for path in (a, b)} == before, "a is not restored either"


def test_a_file_changed_between_two_fixes_is_refused_and_forced_back_to_the_first_bytes(folder: Path) -> None:
    a, _b, _c = sorted(folder.iterdir())
    fix([a])
    a.write_bytes(a.read_bytes() + b'{"t":"call","id":"late"}\n')  # appended between the two fixes
    fix([a])
    newest_first = list(reversed(backups.journals()[0]))
    with pytest.raises(RefusedToWrite):
        undo.restore_all(newest_first)
    restored = undo.restore_all(newest_first, force=True)
    assert len(restored) == 2 and a.read_bytes() == BROKEN % b"a"
    assert restored[1].saved, "what the older undo replaced is kept beside its backup"
