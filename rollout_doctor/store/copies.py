"""Copying and hashing files: backups are byte-exact copies, checked by sha256."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from rollout_doctor.store.reading import open_regular

CHUNK = 1 << 20


# A hash reads this much at a time into one buffer. It runs on a thread beside Python work (a fix
# hashes the original while it indexes it, and its backup while it works out the passes): each read
# and each update lets go of the interpreter and must take it back, which waits up to a switch
# interval every time. The fix shortens that interval while it runs (fixer.py: 0.5 ms for 5), so the
# steps may be many and the buffer small: at 8 MB, the backup's buffer was 8 MiB of a 1 GB fix's peak.
HASH_CHUNK = 1 << 20


def sha256_fd(fd: int) -> str:
    digest = hashlib.sha256()
    buffer = bytearray(HASH_CHUNK)
    view = memoryview(buffer)
    offset = 0
    while True:
        got = os.preadv(fd, [buffer], offset) if hasattr(os, "preadv") else _pread_into(fd, buffer, offset)
        if not got:
            return digest.hexdigest()
        digest.update(view[:got])
        offset += got


def _pread_into(fd: int, buffer: bytearray, offset: int) -> int:
    data = os.pread(fd, len(buffer), offset)  # where preadv is missing (macOS before 11)
    buffer[: len(data)] = data
    return len(data)


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
    """Copy ``src`` to a new 0600 file ``dst``, fsynced; the sha256 of the copy, read back (the kernel
    copies, store/ranges.py, so that the bytes hashed are those the copy holds)."""
    from concurrent.futures import ThreadPoolExecutor  # (6 ms to import: only where a copy is made)

    from rollout_doctor.store.ranges import RangeWriter, SourceEnded

    fd_in = open_regular(src)
    try:
        fd = os.open(dst, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            writer = RangeWriter(fd)
            try:
                writer.copy(fd_in, 0, os.fstat(fd_in).st_size)
            except SourceEnded:
                pass  # it shrank meanwhile: the copy's hash tells the caller it is not the file it read
            writer.close()
            # The copy goes to disk while it is hashed from the page cache: both wait on other things
            # than Python (the disk, OpenSSL), and both are done before this returns.
            with ThreadPoolExecutor(1) as pool:
                synced = pool.submit(os.fsync, fd)
                digest = sha256_fd(fd)
                synced.result()
            return digest
        finally:
            os.close(fd)
    finally:
        os.close(fd_in)


class HashBehind:
    """The sha256 of a file being written, taken on a thread just behind the writer, then its fsync:
    a gigabyte written by the kernel is hashed and synced while it is written rather than after.
    The writer says how far the file holds its final bytes (``reached``) and when it is done
    (``finish``); ``digest`` is then the hash of exactly those bytes."""

    def __init__(self, path: Path) -> None:
        import threading
        from concurrent.futures import Future

        self.fd = open_regular(path)
        self.frontier = 0
        self.size: int | None = None
        self.changed = threading.Condition()
        self.digest: Future[str] = Future()
        threading.Thread(target=self._run, name="hash-behind", daemon=True).start()

    def reached(self, position: int) -> None:
        with self.changed:
            self.frontier = position
            self.changed.notify()

    def finish(self, size: int | None) -> None:
        """The file is written: ``size`` bytes (None: it failed, and no hash is wanted)."""
        with self.changed:
            self.size = -1 if size is None else size
            self.frontier = max(self.frontier, self.size)
            self.changed.notify()

    def _run(self) -> None:
        digest = hashlib.sha256()
        buffer = bytearray(HASH_CHUNK)
        view = memoryview(buffer)
        done = 0
        try:
            while True:
                with self.changed:
                    while self.size is None and self.frontier - done < HASH_CHUNK:
                        self.changed.wait()
                    frontier, size = self.frontier, self.size
                if size == -1:
                    raise OSError("the file was not written whole")
                if size is not None and done >= size:
                    break
                want = min(HASH_CHUNK, frontier - done)
                got = (os.preadv(self.fd, [view[:want]], done) if hasattr(os, "preadv")
                       else _pread_into(self.fd, view[:want], done))  # type: ignore[arg-type]
                if got <= 0:
                    raise OSError("the file ended before the bytes written")
                digest.update(view[:got])
                done += got
            os.fsync(self.fd)
            self.digest.set_result(digest.hexdigest())
        except BaseException as exc:  # noqa: BLE001 - the commit hashes the file itself then
            self.digest.set_exception(exc)
        finally:
            os.close(self.fd)
