"""How the interpreter is set while a fix works: no cyclic collection, a short switch interval.

A fix holds a record a line and frees none until its end, and the cyclic collector walked them all
again and again (half a second of a 1 GB fix) for no cycle. The hashes of the original, its backup
and the new version are taken on threads beside the passes, a step of store/copies.HASH_CHUNK at a
time, and each step waits for the interpreter up to a switch interval: 5 ms by default, seconds of
waits a gigabyte in steps of a MiB; at 0.5 ms the steps can be small (their buffers are memory at a
1 GB fix's peak) and the passes are interrupted only when a hash asks.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL = 0.0005  # seconds: how long a hashing thread may wait for the interpreter


@contextmanager
def set_for_fixing() -> Iterator[None]:
    """The collector off and the switch interval short while the block runs; both as they were after."""
    collecting = gc.isenabled()
    gc.disable()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        if collecting:
            gc.enable()
