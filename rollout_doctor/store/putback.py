"""Putting one file back to the bytes a backup holds: for undo, and for a transaction that failed or was killed halfway."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from rollout_doctor.store import tempfiles
from rollout_doctor.store.files import (
    FileState,
    RefusedToWrite,
    copy_from,
    ensure_not_live,
    fsync_dir,
    replace_checked,
    write_temp,
)
from rollout_doctor.store.journal import Entry, Journal


def regular_stat(path: Path) -> os.stat_result:
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise RefusedToWrite(f"{path}: not a regular file; not replaced")
    return st


def restore_entry(journal: Journal, entry: Entry, current: FileState | None, force: bool) -> list[str]:
    """Put one file back to its original bytes, keeping its current times (or the recorded ones when
    it is missing). Returns warnings (what --force over a live writer risked)."""
    real = entry.path
    copy = journal.copy_of(entry)
    if current is None:
        restore_missing(entry, copy)
        return []
    warnings = ensure_not_live(real, force)
    like = regular_stat(real)
    tmp = write_temp(real.parent, copy_from(copy, False), like, real, real)
    try:
        kept = replace_checked(real, tmp, current, keep=bool(warnings))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return [w + f"; it is kept as {kept}" for w in warnings] if kept else warnings


def restore_missing(entry: Entry, copy: Path) -> None:
    real = entry.path
    fd, tmp = tempfiles.session_tmp(real.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            copy_from(copy, False)(out)
            out.flush()
            try:
                os.fchown(out.fileno(), entry.uid, entry.gid)
            except (PermissionError, OverflowError):
                pass  # the file is gone; better ours than not back at all
            os.fchmod(out.fileno(), entry.mode)
            os.fsync(out.fileno())
        if os.path.lexists(real):
            raise RefusedToWrite(f"{real}: appeared while it was being restored; not replaced")
        os.replace(tmp, real)
        if entry.mtime_ns:
            os.utime(real, ns=(entry.atime_ns or entry.mtime_ns, entry.mtime_ns))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(real.parent)
