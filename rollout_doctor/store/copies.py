"""Copying and hashing files: backups are byte-exact copies, checked by sha256."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from rollout_doctor.store.reading import open_regular

CHUNK = 1 << 20


def sha256_fd(fd: int) -> str:
    digest = hashlib.sha256()
    offset = 0
    while True:
        data = os.pread(fd, CHUNK, offset)
        if not data:
            return digest.hexdigest()
        digest.update(data)
        offset += len(data)


def sha256_of(path: Path) -> str:
    fd = open_regular(path)  # never a FIFO or a device: either would block or never end
    try:
        return sha256_fd(fd)
    finally:
        os.close(fd)


def current_sha(path: Path) -> str | None:
    try:
        return sha256_of(path)
    except OSError:
        return None


def copy_private(src: Path, dst: Path) -> str:
    """Copy ``src`` to a new 0600 file ``dst``, fsynced; the sha256 of the bytes copied."""
    digest = hashlib.sha256()
    fd_in = open_regular(src)
    try:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            offset = 0
            while data := os.pread(fd_in, CHUNK, offset):
                digest.update(data)
                out.write(data)
                offset += len(data)
            out.flush()
            os.fsync(out.fileno())
    finally:
        os.close(fd_in)
    return digest.hexdigest()
