"""What a file was when it was read, and whether it still is: the check before a replace."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from rollout_doctor.store.copies import sha256_fd
from rollout_doctor.store.reading import open_regular

# How long before its bytes are hashed a file's change time must lie to vouch for them: above the tick
# of the kernel's coarse clock that stamps it (10 ms at most on Linux), and, on a file system that keeps
# whole seconds (FAT, some network ones: 2 s steps), above that step.
SETTLED_NS = 50_000_000
SETTLED_WHOLE_SECONDS_NS = 3_000_000_000


@dataclass(frozen=True)
class FileState:
    """What a file was when it was read: enough to tell that it is still the same, byte for byte."""

    size: int
    mtime_ns: int
    sha256: str
    ino: int = 0
    atime_ns: int = 0  # as it was before rollout-doctor read the file: a rewrite puts both times back
    dev: int = 0
    # The change time the bytes hashed had, or 0 when it does not vouch for them (see ``of_fd``).
    ctime_ns: int = 0

    @classmethod
    def of(cls, path: Path) -> FileState:
        fd = open_regular(path)
        try:
            return cls.of_fd(fd)
        finally:
            os.close(fd)

    @classmethod
    def of_fd(cls, fd: int) -> FileState:
        """The file's state and the sha256 of its bytes. Its change time vouches for those bytes later
        (``unchanged_since``) only when it was the same before and after they were hashed and lay
        a clock step before the hash began: a write that had just happened, or one in the same tick of
        the kernel's coarse clock, could otherwise leave the change time as it was."""
        st = os.fstat(fd)
        began = time.time_ns()
        digest = sha256_fd(fd)
        after = os.fstat(fd)
        step = SETTLED_WHOLE_SECONDS_NS if st.st_ctime_ns % 1_000_000_000 == 0 else SETTLED_NS
        settled = after.st_ctime_ns == st.st_ctime_ns and began - st.st_ctime_ns >= step
        return cls(st.st_size, st.st_mtime_ns, digest, st.st_ino, st.st_atime_ns, st.st_dev,
                   st.st_ctime_ns if settled and cls._same(st, after) else 0)

    @staticmethod
    def _same(a: os.stat_result, b: os.stat_result) -> bool:
        return (a.st_size, a.st_mtime_ns, a.st_ino) == (b.st_size, b.st_mtime_ns, b.st_ino)

    def matches(self, st: os.stat_result) -> bool:
        return (st.st_size, st.st_mtime_ns) == (self.size, self.mtime_ns) and (not self.ino or st.st_ino == self.ino)

    def unchanged_since(self, st: os.stat_result) -> bool:
        """Whether ``st`` proves the file holds the bytes hashed without reading them again: no program
        can set a change time (every write, ``utime``, ``chmod`` moves it to the kernel's clock), so the
        same settled change time, size, mtime and inode mean the same bytes. False means "read them"."""
        return bool(self.ctime_ns) and self.matches(st) and st.st_ctime_ns == self.ctime_ns
