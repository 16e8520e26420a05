"""Byte-exact access to the lines of a rollout file.

A line is everything up to and including its ``\\n`` (the last line may have none). Nothing here
decodes text: CRLF endings, a byte order mark, NUL bytes and invalid UTF-8 all survive a round trip.
A ``.jsonl.zst`` rollout is decompressed once into a private temporary file so that every later read
is a plain positional read and memory stays flat whatever the size of the session.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
ZSTD_SUFFIX = ".zst"


def is_compressed(path: Path) -> bool:
    return path.name.endswith(ZSTD_SUFFIX)


def open_regular(path: Path) -> int:
    """Open for reading, refusing anything but a regular file: a FIFO or a device named like a
    rollout would block a read forever or never end."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file")
    return fd


def decompress_whole_frames(src: BinaryIO, dst: BinaryIO) -> None:
    """Decompress every zstd frame of ``src`` into ``dst``; raise on a frame cut short.

    zstandard's ``copy_stream`` and ``stream_reader`` (0.25) quietly return what a truncated frame
    held: a cut ``.jsonl.zst`` would read as a shorter session, and ``fix`` would write that back."""
    import zstandard

    decompressor = zstandard.ZstdDecompressor()
    frame, fed = decompressor.decompressobj(), False
    while chunk := src.read(CHUNK):
        while chunk:
            fed = True
            dst.write(frame.decompress(chunk))
            if not frame.eof:
                break
            chunk = frame.unused_data
            frame, fed = decompressor.decompressobj(), False
    if fed:
        raise zstandard.ZstdError("the compressed data ends in the middle of a zstd frame (a truncated .zst)")


@dataclass
class Source:
    """An open, seekable view of a rollout's uncompressed bytes."""

    path: Path
    compressed: bool
    _fd: int = -1
    _tmpdir: str | None = field(default=None, repr=False)

    @classmethod
    def open(cls, path: Path) -> Source:
        fd = open_regular(path)
        if not is_compressed(path):
            return cls(path, False, fd)
        from rollout_doctor.tempfiles import scratch_dir  # named so a later run can sweep it if we are killed

        try:
            tmpdir = str(scratch_dir("zst"))
        except BaseException:
            os.close(fd)
            raise
        plain = os.path.join(tmpdir, "plain")
        try:
            with os.fdopen(fd, "rb") as src, open(plain, "wb") as dst:
                decompress_whole_frames(src, dst)
            return cls(path, True, os.open(plain, os.O_RDONLY), tmpdir)
        except BaseException:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise

    @property
    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        end = self.size if end is None else end
        pos = start
        while pos < end:
            data = os.pread(self._fd, min(CHUNK, end - pos), pos)
            if not data:
                return
            pos += len(data)
            yield data

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_lines(source: Source, start: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes]]:
    """Yield ``(offset, line)`` for each line, terminator included, in file order."""
    pending: list[bytes] = []
    pending_start = start
    pos = start
    for chunk in source.chunks(start, end):
        begin = 0
        while True:
            nl = chunk.find(b"\n", begin)
            if nl < 0:
                break
            piece = chunk[begin : nl + 1]
            if pending:
                pending.append(piece)
                piece = b"".join(pending)
                pending = []
            yield pending_start, piece
            pending_start = pos + nl + 1
            begin = nl + 1
        if begin < len(chunk):
            pending.append(chunk[begin:])
        pos += len(chunk)
    if pending:
        yield pending_start, b"".join(pending)


def iter_views(source: Source, start: int = 0, end: int | None = None) -> Iterator[tuple[int, memoryview]]:
    """Like ``iter_lines``, without a copy per line: each line is a view into one reused buffer, valid
    only until the next line is asked for. The buffer grows to hold the longest line, no further, so
    memory stays flat on a file of any size; ``bytes(view)`` keeps a line."""
    end = source.size if end is None else end
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    base, filled = start, 0  # buf[:filled] holds the file's bytes from offset `base`
    preadv = getattr(os, "preadv", None)
    while True:
        want = min(len(buf) - filled, end - base - filled)
        if want <= 0:
            got = 0
        elif preadv is not None:
            got = preadv(source._fd, [view[filled : filled + want]], base + filled)
        else:
            data = os.pread(source._fd, want, base + filled)
            got = len(data)
            buf[filled : filled + got] = data
        filled += got
        pos = 0
        find = buf.find
        while True:
            nl = find(b"\n", pos, filled)
            if nl < 0:
                break
            yield base + pos, view[pos : nl + 1]
            pos = nl + 1
        if got == 0:  # the end of the range (or of a file that shrank under us)
            if pos < filled:
                yield base + pos, view[pos:filled]
            return
        tail = filled - pos
        if pos == 0 and filled == len(buf):  # one line fills the buffer: a bigger one takes it whole
            bigger = bytearray(2 * len(buf))
            bigger[:filled] = buf[:filled]
            buf, view = bigger, memoryview(bigger)
        elif tail:
            buf[:tail] = buf[pos:filled]  # same length: allowed while earlier views are still held
        base, filled = base + pos, tail


def split_terminator(line: bytes) -> tuple[bytes, bytes]:
    """Split a raw line into its content and its terminator (``\\r\\n``, ``\\n`` or nothing)."""
    if line.endswith(b"\r\n"):
        return line[:-2], b"\r\n"
    if line.endswith(b"\n"):
        return line[:-1], b"\n"
    return line, b""
