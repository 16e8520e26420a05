"""rollout_doctor.formats.codex.projection without a Codex binary: finding the database, backing it up, deleting one
thread's projection rows and nothing else, and never raising. tests/test_e2e_paginated.py shows with
the real 0.169.0 why the rows are deleted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rollout_doctor.formats.codex import projection as codex_state
from rollout_doctor.formats.codex.projection import codex_home_of, forget_projection, history_database

THREAD = "01a1fe9f-a2fa-7091-8dab-b019fa49b280"
OTHER = "01a1fe9f-b3b8-72e0-abeb-763088c87467"

# The projection tables as Codex 0.169.0 creates them (sqlite3 thread_history_1.sqlite .schema), trimmed
# to the columns that matter here; the trigger is Codex's own.
SCHEMA = """
CREATE TABLE thread_items (thread_id TEXT NOT NULL, turn_id TEXT NOT NULL, item_id TEXT NOT NULL,
    rollout_ordinal INTEGER NOT NULL, item_json TEXT NOT NULL, PRIMARY KEY (thread_id, turn_id, item_id));
CREATE TABLE thread_turns (thread_id TEXT NOT NULL, turn_id TEXT NOT NULL, rollout_ordinal INTEGER NOT NULL,
    rollout_byte_offset INTEGER, PRIMARY KEY (thread_id, turn_id));
CREATE TABLE thread_history_projection_state (thread_id TEXT PRIMARY KEY,
    next_rollout_byte_offset INTEGER NOT NULL, next_rollout_ordinal INTEGER NOT NULL);
CREATE TABLE thread_realtime_items (thread_id TEXT NOT NULL, item_id TEXT NOT NULL,
    rollout_ordinal INTEGER NOT NULL, PRIMARY KEY (thread_id, item_id));
CREATE TRIGGER thread_realtime_items_projection_cleanup AFTER DELETE ON thread_history_projection_state
BEGIN DELETE FROM thread_realtime_items WHERE thread_id = OLD.thread_id; END;
"""


def make_home(root: Path, threads: tuple[str, ...] = (THREAD, OTHER)) -> tuple[Path, Path]:
    """A CODEX_HOME with one rollout and a history database projecting `threads`."""
    home = root / ".codex"
    rollout = home / "sessions" / "2026" / "11" / "21" / f"rollout-2026-11-21T15-00-37-{THREAD}.jsonl"
    rollout.parent.mkdir(parents=True)
    rollout.write_bytes(b"{}\n")
    db = sqlite3.connect(home / "thread_history_1.sqlite")
    db.executescript(SCHEMA)
    for thread in threads:
        db.execute("INSERT INTO thread_items VALUES (?, 't1', 'i1', 8, '{}')", (thread,))
        db.execute("INSERT INTO thread_items VALUES (?, 't1', 'i2', 11, '{}')", (thread,))
        db.execute("INSERT INTO thread_turns VALUES (?, 't1', 1, 756)", (thread,))
        db.execute("INSERT INTO thread_history_projection_state VALUES (?, 17646, 19)", (thread,))
        db.execute("INSERT INTO thread_realtime_items VALUES (?, 'r1', 12)", (thread,))
    db.commit()
    db.close()
    return home, rollout


def rows(database: Path, thread: str) -> int:
    db = sqlite3.connect(database)
    try:
        return sum(db.execute(f"SELECT count(*) FROM {t} WHERE thread_id = ?", (thread,)).fetchone()[0]
                   for t in codex_state.PROJECTION_TABLES)
    finally:
        db.close()


def test_finds_the_home_of_a_session_and_of_an_archived_one(tmp_path: Path) -> None:
    home, rollout = make_home(tmp_path)
    archived = home / "archived_sessions" / rollout.name
    archived.parent.mkdir()
    archived.write_bytes(b"{}\n")
    assert codex_home_of(rollout) == home.resolve()
    assert codex_home_of(archived) == home.resolve()
    assert codex_home_of(tmp_path / rollout.name) is None
    assert history_database(home) == home / "thread_history_1.sqlite"


def test_the_home_of_a_rollout_is_found_through_links_and_from_the_innermost_session_folder(tmp_path: Path) -> None:
    from rollout_doctor.formats.codex.home import home_of

    home = tmp_path / "real-home"
    inner = home / "sessions" / "2026" / "sessions" / "11"  # a folder named sessions inside one: the inner one counts
    inner.mkdir(parents=True)
    rollout = inner / f"rollout-2026-11-21T10-00-00-{THREAD}.jsonl"
    rollout.write_bytes(b"{}\n")
    assert home_of(rollout) == home / "sessions" / "2026"
    (tmp_path / "linked").symlink_to(home / "sessions" / "2026" / "sessions")
    assert home_of(tmp_path / "linked" / "11" / rollout.name) == home / "sessions" / "2026"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / rollout.name).symlink_to(rollout)  # a link to a rollout: where the file is
    assert home_of(tmp_path / "elsewhere" / rollout.name) == home / "sessions" / "2026"
    assert home_of(Path("/sessions") / rollout.name) == Path("/")
    assert home_of(home / "sessions") is None  # the folder itself is no rollout in it
    assert home_of(tmp_path / rollout.name) is None


def test_history_database_takes_the_newest_schema_and_ignores_an_empty_file(tmp_path: Path) -> None:
    home, _ = make_home(tmp_path)
    (home / "thread_history_2.sqlite").write_bytes(b"")  # what 0.169.0 leaves when it never projected
    assert history_database(home) == home / "thread_history_1.sqlite"
    (home / "thread_history_1.sqlite").rename(home / "thread_history_3.sqlite")
    assert history_database(home) == home / "thread_history_3.sqlite"


def test_forgets_one_thread_after_a_backup_and_leaves_the_others(tmp_path: Path) -> None:
    home, rollout = make_home(tmp_path)
    database = home / "thread_history_1.sqlite"
    backups = tmp_path / "backup"
    backups.mkdir()
    reset = forget_projection(rollout, THREAD, backups)
    assert reset is not None and reset.error is None
    assert reset.rows == 5 and reset.database == database.resolve()
    assert rows(database, THREAD) == 0
    assert rows(database, OTHER) == 5
    assert reset.backup == backups / f"codex-thread_history_1-{THREAD}.sqlite"
    assert rows(reset.backup, THREAD) == 5, "the backup holds what was deleted"
    assert rows(reset.backup, OTHER) == 0, "and only that: not a copy of the whole database"
    assert reset.backup.stat().st_mode & 0o777 == 0o600


def test_nothing_to_forget_means_no_backup(tmp_path: Path) -> None:
    home, rollout = make_home(tmp_path, threads=(OTHER,))
    backups = tmp_path / "backup"
    backups.mkdir()
    assert forget_projection(rollout, THREAD, backups) is None
    assert list(backups.iterdir()) == []
    (home / "thread_history_1.sqlite").unlink()
    assert forget_projection(rollout, THREAD, backups) is None


def test_a_database_without_the_projection_tables_is_left_alone(tmp_path: Path) -> None:
    home = tmp_path / ".codex"
    (home / "sessions").mkdir(parents=True)
    rollout = home / "sessions" / f"rollout-2026-11-21T15-00-37-{THREAD}.jsonl"
    rollout.write_bytes(b"{}\n")
    sqlite3.connect(home / "thread_history_1.sqlite").executescript("CREATE TABLE other (x);").close()
    assert forget_projection(rollout, THREAD, tmp_path) is None


def test_a_busy_database_gives_an_error_not_an_exception(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, rollout = make_home(tmp_path)
    monkeypatch.setattr(codex_state, "BUSY_TIMEOUT", 0.05)
    holder = sqlite3.connect(home / "thread_history_1.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a Codex in the middle of writing its projection
    try:
        backups = tmp_path / "backup"
        backups.mkdir()
        reset = forget_projection(rollout, THREAD, backups)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert reset is not None and reset.error is not None and "locked" in reset.error
    assert rows(home / "thread_history_1.sqlite", THREAD) == 5, "nothing deleted"
    assert list(backups.iterdir()) == [], "and no half-made backup left"


def test_undo_forgets_the_projection_of_the_fixed_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A resume between fix and undo leaves Codex projecting the fixed bytes; undo must forget them too."""
    from rollout_doctor.cli.app import main

    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    home, elsewhere = make_home(tmp_path)
    monkeypatch.setenv("CODEX_HOME", str(home))
    source = next((Path(__file__).parents[1] / "fixtures/real/0.77.0-responses-interrupted-stream").glob("*.jsonl"))
    rollout = elsewhere.parent / source.name
    thread = source.name[-len(".jsonl") - 36 : -len(".jsonl")]
    rollout.write_bytes(source.read_bytes())
    assert main(["fix", str(rollout)]) == 0
    database = home / "thread_history_1.sqlite"
    db = sqlite3.connect(database)  # what a resume of the fixed file would have projected
    db.execute("INSERT INTO thread_history_projection_state VALUES (?, 9999, 10)", (thread,))
    db.execute("INSERT INTO thread_items VALUES (?, 't1', 'i1', 9, '{}')", (thread,))
    db.commit()
    db.close()
    capsys.readouterr()
    assert main(["undo", str(rollout)]) == 0
    assert rollout.read_bytes() == source.read_bytes()
    assert rows(database, thread) == 0 and rows(database, OTHER) == 5 and rows(database, THREAD) == 5
    assert f"thread history of {thread} was reset" in capsys.readouterr().out
