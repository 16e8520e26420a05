"""Opening a file to read it without harm: never block on a FIFO, never touch its access time."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

ZSTD_SUFFIX = ".zst"


def is_compressed(path: Path) -> bool:
    return path.name.endswith(ZSTD_SUFFIX)


NOATIME = getattr(os, "O_NOATIME", 0)


def open_regular(path: Path | str) -> int:
    """Open for reading, refusing anything but a regular file: a FIFO or a device named like a
    rollout would block a read forever or never end.

    Reading leaves the access time alone where the system allows it (O_NOATIME: Linux, files this user
    owns): rollout-doctor keeps a session's times as they were (a fix puts them back after writing)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | NOATIME)
    except PermissionError:
        if not NOATIME:
            raise
        fd = os.open(path, flags)  # someone else's file: O_NOATIME is refused, read it all the same
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file")
    return fd
