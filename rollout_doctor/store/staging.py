"""A backup copy made ahead of its transaction, while the fix is still being worked out.

Copying a gigabyte rollout, syncing the copy to disk and hashing it takes seconds that wait on the
kernel, the disk and OpenSSL, not on the interpreter. A fix starts that copy on another thread as soon
as it knows the file will need one (its check found fixes to apply), so that it runs beside the fix's
passes instead of after them. The copy goes to ``<backups>/.staging/`` (the store's file system, 0600,
named after this process so that a later run removes what a killed one left), and the commit moves it
into the transaction's folder (``prepare``) once its hash is the one the file had when it was read; a
fix that writes nothing removes it. Nothing else reads ``.staging``: it holds no transaction.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rollout_doctor.store.copies import copy_private
from rollout_doctor.store.journal import STAGING
from rollout_doctor.store.location import backup_root, make_private_root
from rollout_doctor.store.tempfiles import stale

ADVANCE_FROM = 16 << 20  # a copy this big or bigger is worth a thread of its own ahead of the commit


@dataclass(frozen=True)
class Staged:
    path: Path
    sha256: str  # of the copy's bytes, read back


def staging_folder(root: Path) -> Path:
    folder = root / STAGING
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def copy_ahead(real: Path) -> Staged:
    """A private copy of ``real`` in the store's staging folder, fsynced, and its hash."""
    root = backup_root([real])
    make_private_root(root)
    folder = staging_folder(root)
    sweep_staging(folder)
    name = folder / f"{os.getpid()}-{time.time_ns()}"
    try:
        return Staged(name, copy_private(real, name))
    except BaseException:
        name.unlink(missing_ok=True)
        raise


def start_copy(real: Path) -> Future[Staged] | None:
    """``copy_ahead`` of ``real`` on a thread of its own, for a file big enough to gain from it."""
    try:
        if os.stat(real).st_size < ADVANCE_FROM:
            return None
    except OSError:
        return None
    pool = ThreadPoolExecutor(1, thread_name_prefix="backup-ahead")
    try:
        return pool.submit(copy_ahead, real)
    finally:
        pool.shutdown(wait=False)


def take(future: Future[Staged] | None) -> Staged | None:
    """The copy, once made; None when it could not be (the commit then copies the file itself)."""
    if future is None:
        return None
    try:
        return future.result()
    except Exception:  # noqa: BLE001 - any failure here only means the commit makes its own copy
        return None


def discard(future: Future[Staged] | None) -> None:
    """Remove a copy the commit did not take (it moved the ones it took into a transaction)."""
    staged = take(future)
    if staged is not None:
        staged.path.unlink(missing_ok=True)


def sweep_staging(folder: Path, now: float | None = None) -> None:
    """Remove copies that a run which is gone left in the staging folder."""
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        pid, _dash, _rest = entry.name.partition("-")
        try:
            if pid.isdigit() and stale(int(pid), entry.stat(follow_symlinks=False).st_mtime, now):
                os.unlink(entry.path)
        except OSError:
            continue
