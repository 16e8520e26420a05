"""The backup of a big rollout, copied while the fix is worked out (store/staging.py).

The copy is made ahead of the transaction, in ``<backups>/.staging``, and the commit takes it only when
its hash is the one the file was read with. These run the real ``fix`` with the threshold at 0, so
that every file is copied ahead, on real sessions (fixtures/real): the backup undo restores byte for
byte, a change made before the copy or while the fix runs is refused with nothing left behind, and a
copy that no transaction took is removed, by this run or, if it was killed, by a later one."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import orjson
import pytest

from rollout_doctor.cli.app import main
from rollout_doctor.store import files as writer
from rollout_doctor.store import staging
from rollout_doctor.store.backups import journals_of
from rollout_doctor.store.journal_reader import scan
from tests.support.safety import BROKEN_PAGINATED, copy_into, leftovers


@pytest.fixture(autouse=True)
def ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setattr(staging, "ADVANCE_FROM", 0)


def staged(tmp_path: Path) -> list[str]:
    folder = tmp_path / "state" / "backups" / ".staging"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def session(tmp_path: Path) -> Path:
    return copy_into(BROKEN_PAGINATED, tmp_path / "sessions" / "2026" / "11" / "21")


def test_the_copy_made_ahead_is_the_backup_and_undo_restores_it(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = session(tmp_path)
    original = path.read_bytes()
    made: list[tuple[Path, int]] = []
    real_copy = staging.copy_ahead

    def spy(real: Path) -> staging.Staged:
        result = real_copy(real)
        made.append((result.path, result.path.stat().st_ino))
        return result

    staging_copy = pytest.MonkeyPatch()
    staging_copy.setattr(staging, "copy_ahead", spy)
    try:
        assert main(["fix", "--format", "json", str(path)]) == 0
    finally:
        staging_copy.undo()
    folder = Path(orjson.loads(capsys.readouterr().out)["files"][0]["fix"]["backup"])
    [entry] = orjson.loads((folder / "journal.json").read_bytes())["files"]
    backup = folder / entry["copy"]
    [(copy, inode)] = made
    assert not copy.exists() and backup.stat().st_ino == inode  # moved into the transaction, not copied again
    assert backup.read_bytes() == original and entry["sha256_before"] == hashlib.sha256(original).hexdigest()
    assert oct(backup.stat().st_mode & 0o777) == oct(0o600)
    assert staged(tmp_path) == []
    assert [j.folder for j in scan(tmp_path / "state" / "backups")] == [folder]  # .staging is no transaction
    assert main(["undo", str(path)]) == 0
    assert path.read_bytes() == original


def test_a_change_before_the_copy_is_refused_and_the_copy_removed(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = session(tmp_path)
    real_copy = staging.copy_ahead

    line = b'{"timestamp":"2026-11-21T15:04:00.000Z","type":"event_msg","payload":{"type":"x"}}\n'

    def changed_first(real: Path) -> staging.Staged:
        with open(real, "ab") as f:
            f.write(line)
        return real_copy(real)

    monkeypatch.setattr(staging, "copy_ahead", changed_first)
    before = path.read_bytes()
    assert main(["fix", str(path)]) == 3
    assert path.read_bytes() == before + line
    assert journals_of(path) == []
    assert staged(tmp_path) == [] and leftovers(path.parent) == []


@pytest.mark.parametrize("stage", ["tmp-written", "backed-up"])
def test_an_append_while_the_fix_runs_is_refused_with_nothing_left(tmp_path: Path, stage: str) -> None:
    path = session(tmp_path)
    original = path.read_bytes()
    line = b'{"timestamp":"2026-11-21T15:04:00.000Z","type":"event_msg","payload":{"type":"x"}}\n'

    def hook(name: str) -> None:
        if name == stage:
            with open(path, "ab") as f:
                f.write(line)

    writer.STAGE_HOOK = hook
    try:
        assert main(["fix", str(path)]) == 3
    finally:
        writer.STAGE_HOOK = None
    assert path.read_bytes() == original + line
    assert journals_of(path) == [] and staged(tmp_path) == [] and leftovers(path.parent) == []


def test_a_dry_run_and_a_clean_file_copy_nothing(tmp_path: Path) -> None:
    path = session(tmp_path)
    assert main(["fix", "--dry-run", str(path)]) == 1
    assert main(["fix", str(path)]) == 0
    assert main(["fix", str(path)]) == 0  # clean now: nothing to back up
    assert staged(tmp_path) == [] and len(journals_of(path)) == 1


def test_copies_a_killed_run_left_are_swept_and_a_live_ones_kept(tmp_path: Path) -> None:
    folder = tmp_path / "staging"
    folder.mkdir()
    dead = folder / "999999999-1"
    dead.write_bytes(b"left by a killed fix")
    old = time.time() - 3600
    os.utime(dead, (old, old))
    mine = folder / f"{os.getpid()}-2"
    mine.write_bytes(b"being made")
    os.utime(mine, (old, old))
    staging.sweep_staging(folder)
    assert sorted(p.name for p in folder.iterdir()) == [mine.name]


def test_a_copy_that_is_not_the_file_read_is_not_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A copy whose bytes are not the ones read (the file changed and changed back while it was
    copied) is left aside: the commit copies the file itself, and the backup is the original."""
    path = session(tmp_path)
    original = path.read_bytes()
    real_copy = staging.copy_ahead

    def torn(real: Path) -> staging.Staged:
        result = real_copy(real)
        result.path.write_bytes(original[:-10])
        return staging.Staged(result.path, hashlib.sha256(original[:-10]).hexdigest())

    monkeypatch.setattr(staging, "copy_ahead", torn)
    assert main(["fix", "--format", "json", str(path)]) == 0
    folder = Path(orjson.loads(capsys.readouterr().out)["files"][0]["fix"]["backup"])
    [entry] = orjson.loads((folder / "journal.json").read_bytes())["files"]
    assert (folder / entry["copy"]).read_bytes() == original
    assert staged(tmp_path) == []
