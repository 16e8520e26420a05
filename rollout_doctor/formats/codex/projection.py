"""Codex's SQLite projection of a rollout's history, and forgetting it after a fix.

Codex 0.169.0 keeps, next to ``sessions/``, a database ``thread_history_1.sqlite``: for each paginated
thread, the items and turns it read from the rollout (``thread_items``, ``thread_turns``), each row
keyed by the line's ordinal and byte offset, and a cursor (``thread_history_projection_state``:
``next_rollout_byte_offset``, ``next_rollout_ordinal``). On every resume it reads the rollout from the
cursor's byte offset to the end, expecting the line there to carry the cursor's ordinal.

A fix that inserts, removes or moves a line shifts bytes the cursor and the rows point at. What each
way of handling that does was found by running Codex 0.169.0 (``RUST_LOG=warn``) on a real session
that had already been resumed once, so that the projection existed (tests/test_e2e_paginated.py):

* renumber the later lines and leave the database alone: Codex resumes and projects the new turn, but
  warns ``skipping malformed rollout line during projection`` (the cursor now points into the middle of
  a line) or ``skipping missing rollout ordinal range during projection`` (after #41566's renumbering),
  and every row projected before keeps the old ordinals and byte offsets, no longer those of the file;
* neither renumber nor reset (the inserted line repeats its neighbour's ordinal, or has none): the
  ordinals no longer strictly increase, and every rebuild warns ``skipping duplicate or regressed
  rollout ordinal`` or ``skipping paginated rollout line without an ordinal`` and leaves the line out;
* renumber, and delete the thread's projection rows after a backup of the database: at the next resume
  Codex rebuilds the projection from the first line, with no warning, the resumed turn is projected,
  and the rebuilt rows of the lines the fix did not touch are identical to the ones it had.

So ``fix`` renumbers (items.renumber) and then calls ``forget_projection``. A thread with no rows (an
envelope rollout, which 0.169.0 does not project, or a session never resumed by a 2026 release) is left
alone and no backup is made. The rows are derived data: Codex rebuilds them from the rollout, so
deleting them loses nothing; a copy of just those rows goes into the transaction's backup folder, so
that a person can compare or put them back (a copy of the whole database, hundreds of MB in a busy
home, for each fix was what rollout-doctor 0.1 did).

Rows are keyed by the rollout id of the file (home.py): for a 0.171.0 revert branch
``rollout-…-<thread>_<rollout>.jsonl`` that is the uuid after ``_``, not the thread id in its
session_meta (seen in thread_history_1.sqlite after a ``thread/revert``).
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

from rollout_doctor.core.reports import IndexReset as ProjectionReset
from rollout_doctor.formats.codex import home as codex_home

# thread_history_1.sqlite in 0.169.0; a later schema would get a new number, as state_5 did.
HISTORY_DB = re.compile(r"^thread_history_(\d+)\.sqlite$")
CURSOR_TABLE = "thread_history_projection_state"
# Every table holding rows of one thread's projection. thread_realtime_items is also emptied by a
# trigger on the cursor table in 0.169.0; deleting it explicitly keeps this right without the trigger.
PROJECTION_TABLES = ("thread_items", "thread_turns", "thread_realtime_items", CURSOR_TABLE)
BUSY_TIMEOUT = 5.0  # seconds to wait for a Codex writing the same database


def reset_failed(rollout: Path, database: Path, thread_id: str, error: str) -> ProjectionReset:
    return ProjectionReset(database, thread_id, error=error,
                           warning=f"{rollout} was fixed, but Codex's thread history of it could not be reset "
                                   f"({error}); Codex will log projection warnings")


def codex_home_of(rollout: Path) -> Path | None:
    """The CODEX_HOME holding ``rollout`` (``<home>/sessions/Y/M/D/`` or ``<home>/archived_sessions/``)."""
    return codex_home.home_of(rollout)


def history_database(codex_home: Path) -> Path | None:
    """The newest ``thread_history_<n>.sqlite`` in ``codex_home`` that is a real, non-empty file."""
    found: list[tuple[int, Path]] = []
    try:
        entries = list(os.scandir(codex_home))
    except OSError:
        return None
    for entry in entries:
        match = HISTORY_DB.match(entry.name)
        if match and entry.is_file(follow_symlinks=False) and entry.stat().st_size > 0:
            found.append((int(match[1]), Path(entry.path)))
    return max(found)[1] if found else None


def _connect(database: Path) -> sqlite3.Connection:
    # isolation_level=None: transactions are spelled out, so the delete is one BEGIN IMMEDIATE … COMMIT.
    return sqlite3.connect(database, timeout=BUSY_TIMEOUT, isolation_level=None)


def _tables_with_thread_rows(db: sqlite3.Connection) -> list[str]:
    names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    tables = []
    for table in PROJECTION_TABLES:
        if table in names and "thread_id" in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
            tables.append(table)
    return tables


def projection_rows(database: Path, thread_id: str) -> int:
    """How many projection rows ``database`` holds for ``thread_id`` (0 when it has none or no such tables)."""
    db = _connect(database)
    try:
        return sum(
            db.execute(f"SELECT count(*) FROM {table} WHERE thread_id = ?", (thread_id,)).fetchone()[0]
            for table in _tables_with_thread_rows(db)
        )
    finally:
        db.close()


def backup_rows(db: sqlite3.Connection, tables: list[str], thread_id: str) -> None:
    """The thread's rows of ``tables``, copied into the attached database ``saved``, inside the caller's
    transaction so that what is copied is exactly what is then deleted."""
    for table in tables:
        db.execute(f"CREATE TABLE saved.{table} AS SELECT * FROM main.{table} WHERE thread_id = ?", (thread_id,))


def forget_projection(rollout: Path, thread_id: str, backup_folder: Path) -> ProjectionReset | None:
    """Delete ``thread_id``'s projection rows from the history database of the CODEX_HOME holding
    ``rollout``, after copying them into ``backup_folder``; Codex rebuilds them from the rollout at the
    next resume. None when there is nothing to forget. Never raises: the rollout is already written when
    this runs, and a failure here only leaves the warnings described above."""
    home = codex_home_of(rollout)
    database = history_database(home) if home is not None else None
    if database is None:
        return None
    try:
        if projection_rows(database, thread_id) == 0:
            return None
        backup = backup_folder / f"codex-{database.stem}-{thread_id}.sqlite"
        os.close(os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        db = _connect(database)
        try:
            db.execute("ATTACH DATABASE ? AS saved", (str(backup),))
            db.execute("BEGIN IMMEDIATE")
            tables = _tables_with_thread_rows(db)
            deleted = 0
            for table in tables:
                deleted += db.execute(f"SELECT count(*) FROM {table} WHERE thread_id = ?", (thread_id,)).fetchone()[0]
            backup_rows(db, tables, thread_id)
            for table in tables:
                db.execute(f"DELETE FROM {table} WHERE thread_id = ?", (thread_id,))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()
    except (OSError, sqlite3.Error) as exc:
        if "backup" in locals():
            backup.unlink(missing_ok=True)
        return reset_failed(rollout, database, thread_id, f"{database}: {exc}")
    return ProjectionReset(database, thread_id, backup, deleted)


def projection_key(rollout: Path) -> str | None:
    """The id Codex files a rollout's projection rows under: its rollout id (home.py), else the
    session_meta id of a file whose name says nothing."""
    name = codex_home.parse_name(rollout)
    if name is not None:
        return name.rollout_id
    from rollout_doctor.formats.codex.lineage import read_head

    meta = read_head(rollout)
    return meta.id.lower() if meta is not None and isinstance(meta.id, str) else None


def forget_projections(rollouts: list[Path], backup_folder: Path) -> list[ProjectionReset]:
    """``forget_projection`` for each rollout a transaction wrote; what was done."""
    out = []
    for rollout in rollouts:
        key = projection_key(rollout)
        reset = forget_projection(rollout, key, backup_folder) if key else None
        if reset is not None:
            out.append(reset)
    return out
