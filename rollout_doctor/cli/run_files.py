"""Whether the files a recorded ``check`` run read are still as it saw them (cli/run_cache.py): which of
them changed, and whether a process holds one. Part of a replay, so it imports nothing of the engine, nor
``typing`` or ``pathlib``."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def changed_files(entry: dict[str, Any]) -> list[str] | None:
    """The files of the entry that changed since (none: the run may be replayed), when no folder it walked
    and no input did; None when one did."""
    from rollout_doctor.core.sampling import identity, sample_of

    if any(os.path.lexists(path) for path in entry["absent"]):
        return None
    for folder, ident in entry["dirs"]:
        st = os.stat(folder)
        if (st.st_ino, st.st_mtime_ns, st.st_ctime_ns) != ident:
            return None
    for other, ident in entry["inputs"]:
        try:
            now = identity(os.stat(other))
        except OSError:
            now = None
        if now != ident:
            return None
    changed = []
    for file, ident, sample in entry["files"]:
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
        try:
            st = os.fstat(fd)
            if identity(st) != tuple(ident) or sample_of(fd, st, st.st_size) != sample:
                changed.append(file)  # in place: a file replaced, added or removed changes its folder
        finally:
            os.close(fd)
    return changed


def held(entry: dict[str, Any]) -> bool:
    """Whether any process has one of the files or their writer locks open (/proc, Linux)."""
    wanted = {tuple(ident[:2]) for _file, ident, _sample in entry["files"]}
    for lock in entry["locks"]:
        try:
            st = os.stat(lock)
            wanted.add((st.st_dev, st.st_ino))
        except OSError:
            pass
    me = str(os.getpid())
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or pid == me:
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                st = os.stat(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in wanted:
                return True
    return False
