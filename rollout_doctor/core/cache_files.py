"""The cache folder and its entry files: where they live, how one is written and read, and pruning.

Entries of three kinds share the folder (``index_cache.py``: what indexing learned about a file;
``report_cache.py``: a whole report of a file left unchanged; cli/run_cache.py: a whole run, in its own
layout). The first two are untrusted input when read back: an entry is one or more chunks, then a header that gives each chunk's
place and digest (a grown file's index is appended as a chunk: ``append``). Anything else, a file
cut short, garbage, another version of the tool or of the code, a folder that is not this user's,
reads as "no entry", never as an error, and the entry is written again.

Writes are atomic (a temporary file in the cache folder, then ``os.replace``; an appended chunk and its
header in one write at the end, checked on reading), so concurrent runs cannot leave a half-written
entry that reads as whole. Durability is not
needed (an entry lost in a crash is rebuilt), so nothing is fsynced.

Payloads are pickled: a format's records are its own classes, which core does not know. Pickle runs
code named in the data it loads, so an entry is only read from a folder that belongs to this user and
that no one else may write to (``_private``), and only when its digest matches.
"""

from __future__ import annotations

import marshal
import os
import time
from pathlib import Path
from typing import Any

from rollout_doctor.core import cache_place
from rollout_doctor.core.blake import blake2b
from rollout_doctor.core.cache_place import SCHEMA, _checked, disable, fingerprint, key_name

__all__ = ["SCHEMA", "_checked", "disable", "fingerprint", "key_name"]

MAGIC = b"rollout-doctor cache\n"
PRUNE_EVERY = 24 * 3600  # seconds between two prunes of the folder
MAX_AGE = 30 * 24 * 3600  # an entry not used for this long is removed
MAX_BYTES = 512 << 20  # beyond this, the least recently used entries go
# An entry used again is touched (its mtime is "last used", for pruning) at most this often.
TOUCH_EVERY = 24 * 3600


def folder() -> Path | None:
    """The cache folder (cache_place.folder), None when the cache is off."""
    root = cache_place.folder()
    return None if root is None else Path(root)


def _private(path: Path, create: bool) -> bool:
    return cache_place.private(os.fspath(path), create)


def read(kind: str, name: str) -> tuple[dict[str, Any], list[Any], int] | None:
    """An entry's header, the values of its chunks (digests checked) and its length in bytes; None for no
    entry, or one not to be trusted."""
    root = folder()
    if root is None or not _private(root / kind, create=False):
        return None
    path = root / kind / name
    try:
        with open(path, "rb") as f:
            data = f.read()
            used = os.fstat(f.fileno()).st_mtime
    except OSError:
        return None
    try:
        header = _header(data)
        if header is None or header.get("schema") != SCHEMA or header.get("code") != fingerprint():
            return None
        import pickle

        values = []
        for start, length, digest in header["chunks"]:
            chunk = memoryview(data)[start : start + length]
            if _digest(chunk) != digest:
                return None
            values.append(pickle.loads(chunk))  # noqa: S301 - see the module docstring
    except Exception:  # noqa: BLE001 - whatever is wrong with an entry, it is no entry
        return None
    if time.time() - used > TOUCH_EVERY:
        try:
            os.utime(path)
        except OSError:
            pass
    return header, values, len(data)


def read_header(kind: str, name: str) -> tuple[dict[str, Any], int] | None:
    """An entry's header and length, its chunks left unread (an index entry of a 500 MB session is 7 MB):
    enough to ``append`` to it. Its chunks are checked by whoever reads them next."""
    root = folder()
    if root is None or not _private(root / kind, create=False):
        return None
    try:
        with open(root / kind / name, "rb") as f:
            length = os.fstat(f.fileno()).st_size
            head = f.read(len(MAGIC))
            f.seek(max(0, length - HEADER_TAIL))
            tail = f.read()
    except OSError:
        return None
    try:
        size = int.from_bytes(tail[-4:], "little")
        if head != MAGIC or len(tail) < 4 + size:
            return None
        header = marshal.loads(tail[len(tail) - 4 - size : -4])
        if not isinstance(header, dict) or header.get("schema") != SCHEMA or header.get("code") != fingerprint():
            return None
        if _chunks_end(header.get("chunks")) != length - 4 - size:
            return None
    except Exception:  # noqa: BLE001 - whatever is wrong with an entry, it is no entry
        return None
    return header, length


HEADER_TAIL = 1 << 16  # more than a header of MAX_CHUNKS chunks


def _chunks_end(chunks: object) -> int | None:
    """Where a header's chunks end, when they lie in order from just after ``MAGIC``; None otherwise."""
    if not isinstance(chunks, list) or not chunks or chunks[0][0] != len(MAGIC):
        return None
    end = len(MAGIC)
    for start, size, _digest in chunks:
        if not (isinstance(start, int) and isinstance(size, int) and end <= start and size >= 0):
            return None
        end = start + size
    return end


def _header(data: bytes) -> dict[str, Any] | None:
    """The header at the end of an entry: ``MAGIC``, chunks (an appended chunk follows the header written
    before it), the header, the header's length (4 bytes). The chunks lie in order between ``MAGIC`` and
    the header, the last one just before it."""
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 4:
        return None
    length = int.from_bytes(data[-4:], "little")
    at = len(data) - 4 - length
    if at < len(MAGIC):
        return None
    header = marshal.loads(data[at:-4])
    if not isinstance(header, dict):
        return None
    return header if _chunks_end(header.get("chunks")) == at else None


class _Hashing:
    """A file that hashes what is written to it (the payload is streamed, never held twice)."""

    def __init__(self, out: Any) -> None:
        self.out, self.hash, self.length = out, blake2b(digest_size=16), 0

    def write(self, data: Any) -> int:
        self.hash.update(data)
        self.length += len(data)
        return self.out.write(data)


def write(kind: str, name: str, header: dict[str, Any], value: Any) -> None:
    """Write an entry atomically; a cache that cannot be written is no error (it is only a cache)."""
    root = folder()
    if root is None or not _private(root / kind, create=True):
        return
    import pickle

    target = root / kind / name
    tmp = target.with_name(f".{name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC)
            hashing = _Hashing(f)
            pickle.dump(value, hashing, protocol=pickle.HIGHEST_PROTOCOL)
            chunks = [(len(MAGIC), hashing.length, hashing.hash.digest())]
            head = marshal.dumps(dict(header, schema=SCHEMA, code=fingerprint(), chunks=chunks))
            f.write(head + len(head).to_bytes(4, "little"))
        os.replace(tmp, target)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return
    prune_now_and_then(root)


def pickled(value: Any) -> bytes:
    import pickle

    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def append(kind: str, name: str, length: int, chunks: list[Any], header: dict[str, Any], blob: bytes) -> None:
    """Add a chunk (pickled value ``blob``) and a new header to an entry of ``length`` bytes, written in one
    call at its end: a reader sees the old entry, or the new one, or one whose last header does not parse
    (no entry). Nothing is written if the entry changed since it was read; two runs appending at once
    leave chunks whose places or digests do not match (no entry), never a wrong one."""
    root = folder()
    if root is None or not _private(root / kind, create=False):
        return
    try:
        fd = os.open(root / kind / name, os.O_WRONLY | os.O_APPEND)
    except OSError:
        return
    try:
        if os.fstat(fd).st_size != length:
            return
        chunks = [*chunks, (length, len(blob), _digest(blob))]
        head = marshal.dumps(dict(header, schema=SCHEMA, code=fingerprint(), chunks=chunks))
        data = memoryview(blob + head + len(head).to_bytes(4, "little"))
        while data:
            data = data[os.write(fd, data) :]
    except OSError:
        return
    finally:
        os.close(fd)


def remove(kind: str, name: str) -> None:
    root = folder()
    if root is not None:
        try:
            os.unlink(root / kind / name)
        except OSError:
            pass


def _digest(payload: Any) -> bytes:
    return blake2b(payload, digest_size=16).digest()


def prune_now_and_then(root: Path) -> None:
    """Prune at most once a day (a stamp file says when it last was)."""
    stamp = root / "last-prune"
    try:
        if time.time() - os.stat(stamp).st_mtime < PRUNE_EVERY:
            return
    except FileNotFoundError:
        pass
    except OSError:
        return
    try:
        stamp.touch()
    except OSError:
        return
    prune(root)


def prune(root: Path, now: float | None = None, max_bytes: int = MAX_BYTES) -> list[Path]:
    """Remove the entries of files that no longer exist, those not used for ``MAX_AGE``, temporary
    files a killed run left, then the least recently used until the folder holds ``max_bytes`` or less.
    What was removed."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    kept: list[tuple[float, int, Path]] = []
    for kind in ("index", "reports", "runs"):  # (cli/run_cache.py keeps its runs here too)
        try:
            entries = list(os.scandir(root / kind))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            path = Path(entry.path)
            stale_tmp = entry.name.endswith(".tmp") and now - st.st_mtime > 3600
            if stale_tmp or now - st.st_mtime > MAX_AGE or _source_gone(path):
                try:
                    os.unlink(path)
                    removed.append(path)
                except OSError:
                    pass
                continue
            kept.append((st.st_mtime, st.st_size, path))
    total = sum(size for _used, size, _path in kept)
    for _used, size, path in sorted(kept):
        if total <= max_bytes:
            break
        try:
            os.unlink(path)
            removed.append(path)
            total -= size
        except OSError:
            pass
    return removed


def _source_gone(path: Path) -> bool:
    """Whether the session file an entry describes is gone (its header names it)."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(MAGIC))
            f.seek(max(0, os.fstat(f.fileno()).st_size - (1 << 16)))
            tail = f.read()
        length = int.from_bytes(tail[-4:], "little")
        header = marshal.loads(tail[len(tail) - 4 - length : -4])
        source = header["path"] if head == MAGIC else None
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        return False  # unreadable: left to age out
    return isinstance(source, str) and not os.path.exists(source)
