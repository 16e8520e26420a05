"""Telling whether a file is still the one a cache entry describes: its attributes and a sample of its bytes.

Shared by the index cache, the report cache and the replay of a whole run (cli/run_cache.py, which uses
it before anything else of the engine is imported: this module imports nothing of it).
"""

from __future__ import annotations

import os

from rollout_doctor.core.blake import blake2b

BLOCK = 4096
SPOT = 1024
# Few spots: any write changes the ctime, which the identity compares first, and a line rewritten with
# another length moves the last block; the spots add a check of bytes for a filesystem whose times
# cannot be trusted. 30 of them were 1 280 of the 1 600 system calls of a replayed re-check of 40 files.
SPOTS = 8
# Seconds: a file changed this close to the writing of an entry cannot be told from one rewritten in the
# same clock tick, which keeps every time (git's "racily clean" index entries).
RACY = 2.0


def identity(st: os.stat_result) -> tuple[int, int, int, int, int]:
    """What a write, a touch, a chmod or a replacement changes: device, inode, size, mtime and ctime (the
    ctime cannot be set back by anyone but the clock)."""
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def racy(st: os.stat_result, now: float) -> bool:
    return now - max(st.st_mtime_ns, st.st_ctime_ns) / 1e9 < RACY


def sample_digest(fd: int, end: int) -> bytes:
    """A digest of a sample of the first ``end`` bytes of the open file ``fd``: all of them when few, else
    the first and last ``BLOCK`` and ``SPOTS`` spots of ``SPOT`` bytes spread evenly between. A line
    rewritten with another length moves every byte after it, which the spots after it and the last block
    see. Reads, not a mapping: a file cut short while mapped kills the process (SIGBUS); a read ends early."""
    digest = blake2b(end.to_bytes(8, "little"), digest_size=16)
    if end <= 2 * BLOCK + SPOTS * SPOT:
        digest.update(os.pread(fd, end, 0))
        return digest.digest()
    digest.update(os.pread(fd, BLOCK, 0))
    for k in range(1, SPOTS + 1):
        digest.update(os.pread(fd, SPOT, end * k // (SPOTS + 1)))
    digest.update(os.pread(fd, BLOCK, end - BLOCK))
    return digest.digest()
