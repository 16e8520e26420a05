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
# A file whose bytes were read less than a clock tick after its last change may be rewritten, in the
# same tick, after the read: the rewrite keeps every time and size (git's "racily clean" index entries).
# Such a file is "racy": no cache keeps it as unchanged. The window is a tick of the clock that stamps
# the file, from when the run began to look at it:
# * FINE for a file on a local file system known to stamp from the kernel's coarse clock, one tick of at
#   most 10 ms behind (HZ >= 100): ext4, XFS, btrfs, tmpfs, ... (``FINE_FILE_SYSTEMS``), with times that
#   have a fraction of a second. Ten ticks, so that a run begun a moment after Codex wrote (a guard
#   right after a turn) keeps the session, where 2 s had the next run index it again from the first byte.
# * RACY for every other file: times in whole seconds (ext3, HFS+, FAT, whose modification time counts
#   in 2 s), and a file system stamped by another machine's clock (NFS, SMB, FUSE, a VM's shared folder),
#   which may run behind this one's; or one this process cannot name (no /proc: macOS).
RACY = 2.0
FINE = 0.1
FINE_FILE_SYSTEMS = frozenset({"ext4", "xfs", "btrfs", "tmpfs", "zfs", "f2fs", "bcachefs", "overlay", "ramfs"})
_SECOND = 1_000_000_000
_fine_devices: dict[int, bool] = {}


def identity(st: os.stat_result) -> tuple[int, int, int, int, int]:
    """What a write, a touch, a chmod or a replacement changes: device, inode, size, mtime and ctime (the
    ctime cannot be set back by anyone but the clock)."""
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def racy_times(dev: int, mtime_ns: int, ctime_ns: int, started: float) -> bool:
    """Whether a file on device ``dev`` last changed at these times could have been rewritten, keeping
    them, after a read that began at ``started`` (time.time(), taken before the file was first looked at)."""
    age = started - max(mtime_ns, ctime_ns) / 1e9
    if age >= RACY:
        return False
    if age < min(RACY, FINE):  # min: tests set RACY to 0 to keep what they have just written
        return True
    whole = mtime_ns % _SECOND == 0 or ctime_ns % _SECOND == 0
    return whole or not fine_clock(dev)


def racy(st: os.stat_result, started: float) -> bool:
    return racy_times(st.st_dev, st.st_mtime_ns, st.st_ctime_ns, started)


def fine_clock(dev: int) -> bool:
    """Whether the file system of device ``dev`` is one of ``FINE_FILE_SYSTEMS``, as /proc/self/mountinfo
    names it; False when it cannot be told. Read once per process, and only for a file changed between
    ``FINE`` and ``RACY`` seconds before a run: never on the way of a replayed run."""
    if not _fine_devices:
        try:
            with open("/proc/self/mountinfo", "rb") as f:
                _fine_devices.update(fine_devices(f.read().decode(errors="replace")))
        except OSError:
            pass
        _fine_devices[-1] = False  # read once, even when there was nothing to read
    return _fine_devices.get(dev, False)


def fine_devices(mountinfo: str) -> dict[int, bool]:
    """Each mounted device, and whether its file system is one of ``FINE_FILE_SYSTEMS`` (a device mounted
    twice counts as fine only if every mount of it is): /proc/self/mountinfo's lines are
    ``id parent major:minor root point options [optional...] - type source super-options``."""
    out: dict[int, bool] = {}
    for mount in mountinfo.splitlines():
        fields, _, tail = mount.partition(" - ")
        numbers = fields.split(" ")
        if not tail or len(numbers) < 3:
            continue
        major, _, minor = numbers[2].partition(":")
        if major.isdigit() and minor.isdigit():
            device = os.makedev(int(major), int(minor))
            out[device] = out.get(device, True) and tail.split(" ", 1)[0] in FINE_FILE_SYSTEMS
    return out


# The samples taken during one command (``remembered``), by the file's identity and the sample's end: a
# re-check samples each file when it looks up its report, and again when it records the run for a replay
# (cli/run_cache.py), moments apart: 400 of the reads of a re-check of 40 files after 3 grew. None outside
# a command, so that a process that lives on (a library caller, the tests) reads the bytes every time.
_taken: dict[tuple[int, ...], bytes] | None = None


class remembered:  # used as a function: ``with sampling.remembered():``
    """Within this block, a file sampled again with the same identity gives the digest taken before.
    A class, not contextlib's decorator: the replay of a run imports nothing it can do without."""

    def __enter__(self) -> None:
        global _taken
        self.saved = _taken
        if _taken is None:
            _taken = {}

    def __exit__(self, *exc: object) -> None:
        global _taken
        _taken = self.saved


def sample_of(fd: int, st: os.stat_result, end: int) -> bytes:
    """``sample_digest(fd, end)``; ``st`` is the open file's fstat, the key of a digest remembered."""
    if _taken is None:
        return sample_digest(fd, end)
    key = (*identity(st), end)
    digest = _taken.get(key)
    if digest is None:
        digest = _taken[key] = sample_digest(fd, end)
    return digest


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
