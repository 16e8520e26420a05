"""The backup store as a whole: listing its transactions, finding those of a file, pruning old ones."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from rollout_doctor.store.journal import (
    ABANDONED,
    COMMITTED,
    PREPARED,
    RESTORED,
    RESTORING,
    ROLLED_BACK,
    Entry,
    Journal,
)
from rollout_doctor.store.journal_reader import Unreadable, scan
from rollout_doctor.store.location import backup_root


def journals() -> tuple[list[Journal], list[Unreadable]]:
    """Every transaction in the store, oldest first, and the folders that could not be read."""
    good: list[Journal] = []
    bad: list[Unreadable] = []
    for found in scan(backup_root()):
        (good if isinstance(found, Journal) else bad).append(found)
    return good, bad


def journals_of(path: Path) -> list[Journal]:
    """The transactions that wrote ``path``, oldest first: by its path, or, for a file Codex has since
    moved (archived), by the inode the fix gave it. Never by its bytes alone: a copy of a session is
    another file, and its undo must not use up the original's backup."""
    real = Path(os.path.realpath(path))
    try:
        st = os.stat(real)
        identity: tuple[int, int] | None = (st.st_dev, st.st_ino)
    except OSError:
        identity = None
    good, _bad = journals()
    by_path = [j for j in good if any(e.path == real for e in j.entries)]
    if by_path:
        return by_path
    return [j for j in good if identity is not None
            and any(e.ino_after and (e.dev, e.ino_after) == identity for e in j.entries)]


def entry_for(journal: Journal, path: Path) -> Entry:
    real = Path(os.path.realpath(path))
    for entry in journal.entries:
        if entry.path == real:
            return entry
    st = os.stat(real)
    return next(e for e in journal.entries if (e.dev, e.ino_after) == (st.st_dev, st.st_ino))


def prune(older_than_days: float, now: float | None = None) -> list[Journal]:
    """Remove the finished transactions (undone, or committed and kept) created more than
    ``older_than_days`` ago; an unfinished one is never removed. What was removed."""
    import calendar
    import time

    now = time.time() if now is None else now
    removed = []
    good, _bad = journals()
    for journal in good:
        if journal.state in (PREPARED, RESTORING):
            continue
        try:
            created = calendar.timegm(time.strptime(journal.created, "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:
            continue
        if now - created > older_than_days * 86400:
            shutil.rmtree(journal.folder, ignore_errors=True)
            removed.append(journal)
    return removed


def describe_state(journal: Journal) -> str:
    return {COMMITTED: "can be restored", RESTORED: "restored", PREPARED: "interrupted",
            RESTORING: "undo interrupted", ROLLED_BACK: "interrupted, rolled back",
            ABANDONED: "interrupted before it wrote anything"}.get(journal.state, journal.state)
