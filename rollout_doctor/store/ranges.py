"""Writing a file out of byte ranges of another and new bytes, without carrying the ranges through Python.

A fix rewrites a few lines of a rollout that may hold a gigabyte; every other byte is the original's.
Those ranges are copied by the kernel: ``os.copy_file_range`` (Linux; a reflink or a server-side copy
where the file system has one), else ``os.sendfile`` (Linux, and the BSDs and macOS for sockets only:
there it fails and the next one is used), else a buffered read and write. The bytes are the same
whichever copies them; only the time differs (1 GB: 0.7 s, 0.9 s and 2.7 s here).
"""

from __future__ import annotations

import os

CHUNK = 1 << 20
BUFFERED = 1 << 20  # new bytes are gathered up to this much before they are written
KERNEL_STEP = 1 << 30  # the most one copy_file_range or sendfile call is asked to move


class SourceEnded(OSError):
    """The source holds fewer bytes than the range asked for (it shrank)."""


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _buffered_copy(src: int, dst: int, offset: int, length: int) -> int:
    done = 0
    while done < length:
        data = os.pread(src, min(CHUNK, length - done), offset + done)
        if not data:
            break
        _write_all(dst, data)
        done += len(data)
    return done


class RangeWriter:
    """Appends new bytes and byte ranges of other open files to ``fd`` (open for writing, at its end).

    ``position`` is the number of bytes written so far. A range the source no longer holds (the file
    shrank) raises SourceEnded after copying what there was: a copy must never pass for a whole one."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.position = 0
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._kernel = hasattr(os, "copy_file_range")
        self._sendfile = hasattr(os, "sendfile")

    def write(self, data: bytes) -> None:
        self._pending.append(data)
        self._pending_size += len(data)
        self.position += len(data)
        if self._pending_size >= BUFFERED:
            self.flush()

    @property
    def settled(self) -> int:
        """How many of the bytes written so far are in the file (the rest wait in the buffer)."""
        return self.position - self._pending_size

    def flush(self) -> None:
        if self._pending:
            _write_all(self.fd, b"".join(self._pending))
            self._pending, self._pending_size = [], 0

    def copy(self, src: int, offset: int, length: int) -> None:
        """Append ``length`` bytes of ``src`` from ``offset`` (the descriptor's own position is not used)."""
        if length <= 0:
            return
        if length < 4096:  # a short range costs more as a system call of its own than as a write
            data = os.pread(src, length, offset)
            if len(data) != length:
                self.write(data)
                raise SourceEnded(f"the source ended {length - len(data)} bytes early while it was copied")
            self.write(data)
            return
        self.flush()
        done = 0
        while done < length:
            step = min(KERNEL_STEP, length - done)
            got = self._copy_step(src, offset + done, step)
            if got == 0:
                self.position += done
                raise SourceEnded(f"the source ended {length - done} bytes early while it was copied")
            done += got
        self.position += length

    def _copy_step(self, src: int, offset: int, length: int) -> int:
        if self._kernel:
            try:
                return os.copy_file_range(src, self.fd, length, offset)
            except OSError:
                # EXDEV (two file systems, before Linux 5.3 or after 5.19), EINVAL, ENOSYS, EOPNOTSUPP:
                # this kernel or this pair of file systems cannot; the next way can.
                self._kernel = False
        if self._sendfile:
            try:
                return os.sendfile(self.fd, src, offset, length)
            except OSError:
                self._sendfile = False  # not to a regular file on this system (macOS, the BSDs)
        return _buffered_copy(src, self.fd, offset, length)

    def close(self) -> None:
        self.flush()
