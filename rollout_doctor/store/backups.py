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
    Journal,
)
from rollout_doctor.store.journal_reader import Unreadable, scan
from rollout_doctor.store.location import backup_root
from rollout_doctor.store.runs import Run, group


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


def runs() -> list[Run]:
    """Every run that wrote something, oldest first (undo --list, --last-run)."""
    good, _bad = journals()
    return group(good)


def journals_under(folder: Path) -> list[Journal]:
    """The transactions that wrote a file inside ``folder``, oldest first."""
    real = Path(os.path.realpath(folder))
    good, _bad = journals()
    return [j for j in good if any(real in e.path.parents for e in j.entries)]


def size() -> int:
    """The bytes the backup store takes."""
    total = 0
    for folder, _dirs, files in os.walk(backup_root()):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def prune(older_than_days: float | None = None, keep: int | None = None, now: float | None = None) -> list[Journal]:
    """Remove finished transactions (undone, or committed and kept): those created more than
    ``older_than_days`` ago, and those of every run but the newest ``keep``. An unfinished one is never
    removed. What was removed."""
    import calendar
    import time

    now = time.time() if now is None else now
    finished = [r for r in runs() if all(j.state not in (PREPARED, RESTORING) for j in r.journals)]
    doomed: list[Journal] = []
    if keep is not None:
        doomed.extend(j for r in finished[: max(0, len(finished) - keep)] for j in r.journals)
    if older_than_days is not None:
        for journal in (j for r in finished for j in r.journals if j not in doomed):
            try:
                created = calendar.timegm(time.strptime(journal.created, "%Y-%m-%dT%H:%M:%SZ"))
            except ValueError:
                continue
            if now - created > older_than_days * 86400:
                doomed.append(journal)
    for journal in doomed:
        shutil.rmtree(journal.folder, ignore_errors=True)
    return doomed


def describe_state(journal: Journal) -> str:
    return {COMMITTED: "can be restored", RESTORED: "restored", PREPARED: "interrupted",
            RESTORING: "undo interrupted", ROLLED_BACK: "interrupted, rolled back",
            ABANDONED: "interrupted before it wrote anything"}.get(journal.state, journal.state)
