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
"""

from __future__ import annotations

import os
import sys

HUGE = 256 << 20  # bytes: a file at least this big is checked with the threshold fixed
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
_THRESHOLD = 128 << 10  # glibc's default, no longer raised by what is freed
_fixed = False


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
