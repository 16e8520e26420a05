"""Freed block buffers given back to the system while a huge file is checked (glibc).

Indexing reads a file a block of lines at a time and frees each block's buffers (the lines joined for
simdjson, about a megabyte) as the index grows between them. glibc raises its mmap threshold to the
size of the largest mapped chunk freed so far (a resized dict or array of the index, several MB), so
after the first such free the block buffers come from the heap, among the records that stay, and what
they leave free cannot be returned. On the benchmark's 1 GB rollout that was 12 MB of a 112 MB peak
(`python bench/benchmark.py --only big`, 2026-11-29). Fixing the threshold at glibc's default keeps
every buffer of 128 KiB or more in a mapping of its own, unmapped when freed: the peak fell to 98 MiB,
for 0.3 to 0.5 s more of page faults on that file's 3.2 s. Only ``check`` of a file this big pays it
(a folder of ordinary sessions keeps glibc's default). ``fix`` fixes it once the original is indexed
(fixer.py): its passes' arrays and tables are what it keeps from the heap.

While ``fix`` indexes the original, the freed block buffers are given back instead (``Trimming``):
``malloc_trim`` every ``TRIM_EVERY`` bytes indexed returns the whole free pages among the records.
On that rollout the index then peaks at 77 MiB of RSS, not 86, and ends at 69 (18 of them Python's),
where its buffers' holes kept 85; 61 trims take 15 ms of the 2.4 s, where mapping every buffer cost
0.2 to 0.5 s of page faults.
"""

from __future__ import annotations

import os
import sys
from typing import Any

HUGE = 256 << 20  # bytes: a file at least this big is checked with the threshold fixed
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
_THRESHOLD = 128 << 10  # glibc's default, no longer raised by what is freed
_fixed = False
TRIM_EVERY = 16 << 20  # bytes indexed between two trims


def lean_for(path: os.PathLike[str] | str) -> None:
    """Fix the mmap threshold for the rest of the process when ``path`` is ``HUGE`` or bigger (Linux,
    glibc; elsewhere, or when the size cannot be read, nothing changes)."""
    global _fixed
    if _fixed or not sys.platform.startswith("linux"):
        return
    try:
        if os.stat(path).st_size < HUGE:
            return
    except OSError:
        return
    _fixed = True
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, _THRESHOLD)
    except (OSError, AttributeError):  # not glibc (musl has no mallopt to speak of): nothing to fix
        pass


def give_back() -> None:
    """Return the heap's free pages to the system, when ``lean_for`` found the file huge: a fix calls
    it between the stages of its passes, whose lists, sets and dicts (of 512 bytes to 128 KiB, below
    the mmap threshold) leave holes among the records that stay (3 MiB of a 1 GB fix's peak; 1 ms a
    call)."""
    if _fixed:
        libc = _libc()
        if libc is not None:
            libc.malloc_trim(0)


def trimming_for(path: os.PathLike[str] | str) -> Trimming | None:
    """A ``Trimming`` for indexing ``path`` when it is ``HUGE`` or bigger and the system can trim."""
    try:
        if os.stat(path).st_size < HUGE:
            return None
    except OSError:
        return None
    trimming = Trimming()
    return trimming if trimming.libc is not None else None


class Trimming:
    """A progress callback (core/index.py) that gives the heap's free pages back to the system every
    ``TRIM_EVERY`` bytes indexed, and once more at ``done`` (Linux, glibc; elsewhere it does nothing)."""

    def __init__(self) -> None:
        self.libc: Any = _libc()
        self.since = 0
        self.trims = 0

    def __call__(self, length: int) -> None:
        self.since += length
        if self.since >= TRIM_EVERY:
            self.done()

    def done(self) -> None:
        self.since = 0
        if self.libc is not None:
            self.libc.malloc_trim(0)
            self.trims += 1


def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.malloc_trim  # noqa: B018 - musl has none: nothing to trim with
    except (OSError, AttributeError):
        return None
    return libc
