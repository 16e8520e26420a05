"""Byte-exact access to the lines of a rollout file.

A line is everything up to and including its ``\\n`` (the last line may have none). Nothing here
decodes text: CRLF endings, a byte order mark, NUL bytes and invalid UTF-8 all survive a round trip.
A ``.jsonl.zst`` rollout is decompressed once into a private temporary file so that every later read
is a plain positional read and memory stays flat whatever the size of the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from rollout_doctor.core.plain import Plain
from rollout_doctor.store.reading import is_compressed, open_regular

CHUNK = 1 << 20
# A line longer than this is not read whole: it is reported as one Codex cannot use and its bytes stay
# on disk. No Codex release writes one (tool outputs are truncated, a compacted history is bounded by
# the context window); a run of NUL bytes or a binary file named like a rollout would otherwise take
# memory in proportion (2 GiB of NULs took 6 GiB before this limit).
LINE_LIMIT = 64 << 20
# Compressed bytes given to the zstd decompressor at a time: a block can expand 32768-fold (RLE), so this
# bounds what one call returns to 32 MiB, whatever the file (a "zstd bomb" otherwise fills memory).
ZSTD_FEED = 1 << 10


def decompress_whole_frames(src: BinaryIO, dst: BinaryIO) -> None:
    """Decompress every zstd frame of ``src`` into ``dst``; raise on a frame cut short.

    zstandard's ``copy_stream`` and ``stream_reader`` (0.25) quietly return what a truncated frame
    held: a cut ``.jsonl.zst`` would read as a shorter session, and ``fix`` would write that back."""
    import zstandard

    decompressor = zstandard.ZstdDecompressor()
    frame, fed = decompressor.decompressobj(), False
    while block := src.read(CHUNK):
        for at in range(0, len(block), ZSTD_FEED):
            chunk = block[at : at + ZSTD_FEED]
            while chunk:
                fed = True
                dst.write(frame.decompress(chunk))
                if not frame.eof:
                    break
                chunk = frame.unused_data
                frame, fed = decompressor.decompressobj(), False
    if fed:
        raise zstandard.ZstdError("the compressed data ends in the middle of a zstd frame (a truncated .zst)")


def _remove_tree(path: str) -> None:
    import shutil  # (and the bz2 and lzma it imports) only for a .zst: check FILE's start-up is a user's wait

    shutil.rmtree(path, ignore_errors=True)


class Source(Plain):
    """An open, seekable view of a rollout's uncompressed bytes."""

    FIELDS = ("path", "compressed", "_fd", "_tmpdir")

    def __init__(self, path: Path, compressed: bool, _fd: int = -1, _tmpdir: str | None = None) -> None:
        self.path = path
        self.compressed = compressed
        self._fd = _fd
        self._tmpdir = _tmpdir

    def __repr__(self) -> str:
        return f"Source(path={self.path!r}, compressed={self.compressed!r}, _fd={self._fd!r})"

    @classmethod
    def open(cls, path: Path) -> Source:
        fd = open_regular(path)
        if not is_compressed(path):
            return cls(path, False, fd)
        from rollout_doctor.store.tempfiles import (
            scratch_dir,  # named so a later run can sweep it if we are killed
        )

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
            _remove_tree(tmpdir)
            raise

    @property
    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def stat(self) -> os.stat_result:
        """The open file's attributes (of the decompressed copy, for a .zst)."""
        return os.fstat(self._fd)

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)

    def fileno(self) -> int:
        """The descriptor of the uncompressed bytes (a ``.zst``'s private plain copy), for range copies."""
        return self._fd

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._tmpdir:
            _remove_tree(self._tmpdir)
            self._tmpdir = None

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Spliced:
    """Several files' bytes read as one: each ``(start, length, source)`` holds the bytes from ``start``
    on. A fork's model reads its parents' inherited lines and its own through one of these; no line
    straddles two sources."""

    def __init__(self, segments: list[tuple[int, int, Source]]) -> None:
        self.segments = segments
        self.starts = [start for start, _length, _source in segments]

    @property
    def size(self) -> int:
        start, length, _source = self.segments[-1]
        return start + length

    def read(self, offset: int, length: int) -> bytes:
        import bisect

        start, _length, source = self.segments[bisect.bisect_right(self.starts, offset) - 1]
        return source.read(offset - start, length)

    def close(self) -> None:
        for _start, _length, source in self.segments:
            source.close()


def iter_blocks(source: Source, start: int = 0, end: int | None = None,
                limit: int = LINE_LIMIT) -> Iterator[tuple[int, bytearray | None, int]]:
    """Yield ``(base, buffer, length)``: ``buffer[:length]`` holds whole lines of the file from offset
    ``base`` (only the last block of the file may end without a newline). The buffer is reused and valid
    only until the next block is asked for; it grows to hold the longest line, up to ``limit``. A line
    longer than that comes as ``(base, None, length)``, its bytes never held: the scan only looks for
    its end. A block is what ``index.index_range`` hands a format's fast path whole."""
    end = source.size if end is None else end
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    base, filled = start, 0  # buf[:filled] holds the file's bytes from offset `base`
    preadv = getattr(os, "preadv", None)
    fd = getattr(source, "_fd", -1)  # none for a fix pass not written yet (core/planned.py): read()
    while True:
        want = min(len(buf) - filled, end - base - filled)
        if want <= 0:
            got = 0
        elif fd < 0:
            data = source.read(base + filled, want)
            got = len(data)
            buf[filled : filled + got] = data
        elif preadv is not None:
            got = preadv(fd, [view[filled : filled + want]], base + filled)
        else:
            data = os.pread(fd, want, base + filled)
            got = len(data)
            buf[filled : filled + got] = data
        filled += got
        if got == 0:  # the end of the range (or of a file that shrank under us)
            if filled:
                yield base, buf, filled
            return
        whole = buf.rfind(b"\n", 0, filled) + 1
        if whole:
            yield base, buf, whole
        elif filled == len(buf) and len(buf) >= limit:  # a line past the limit: find its end, keep nothing
            stop = _line_end(source, base + filled, end)
            yield base, None, stop - base
            base, filled = stop, 0
            continue
        elif filled == len(buf):  # one line fills the buffer: a bigger one takes it whole
            bigger = bytearray(min(2 * len(buf), max(limit, len(buf))))
            bigger[:filled] = buf[:filled]
            buf, view = bigger, memoryview(bigger)
            continue
        tail = filled - whole
        if tail and whole:
            buf[:tail] = buf[whole:filled]  # same length: allowed while earlier views are still held
        base, filled = base + whole, tail


def _line_end(source: Source, pos: int, end: int) -> int:
    """The offset just after the next newline at or after ``pos`` (``end`` if there is none)."""
    while pos < end:
        chunk = source.read(pos, min(CHUNK, end - pos))
        if not chunk:
            return pos
        at = chunk.find(b"\n")
        if at >= 0:
            return pos + at + 1
        pos += len(chunk)
    return end


def split_terminator(line: bytes) -> tuple[bytes, bytes]:
    """Split a raw line into its content and its terminator (``\\r\\n``, ``\\n`` or nothing)."""
    if line.endswith(b"\r\n"):
        return line[:-2], b"\r\n"
    if line.endswith(b"\n"):
        return line[:-1], b"\n"
    return line, b""
