"""``blake2b``, without importing ``hashlib``.

The replay of an unchanged ``check`` run (cli/run_cache.py) must cost little more than Python's start-up,
and ``import hashlib`` loads OpenSSL (``_hashlib``) for the algorithms it might be asked for: 2 to 3 ms
here (python -X importtime, CPython 3.11.7, 2026-11-29), a tenth of the whole replay. ``hashlib.blake2b``
is ``_blake2.blake2b`` in every CPython since 3.6; the fallback covers an interpreter built without it.
"""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - CPython always has _blake2
    from hashlib import blake2b

__all__ = ["blake2b"]
