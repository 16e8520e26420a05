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

import hashlib
import marshal
import os
import stat
import time
from pathlib import Path
from typing import Any

SCHEMA = 1  # the layout of an entry; bump it when a header or a payload changes shape
MAGIC = b"rollout-doctor cache\n"
PRUNE_EVERY = 24 * 3600  # seconds between two prunes of the folder
MAX_AGE = 30 * 24 * 3600  # an entry not used for this long is removed
MAX_BYTES = 512 << 20  # beyond this, the least recently used entries go
# An entry used again is touched (its mtime is "last used", for pruning) at most this often.
TOUCH_EVERY = 24 * 3600

_fingerprint: str | None = None
_checked: dict[Path, bool] = {}


def folder() -> Path | None:
    """The cache folder: ``$ROLLOUT_DOCTOR_CACHE_DIR``, else the platform's cache folder for this user
    (platformdirs: ``~/.cache/rollout-doctor`` on Linux, ``~/Library/Caches/rollout-doctor`` on macOS).
    None when the cache is off (``--no-cache``, or ``ROLLOUT_DOCTOR_NO_CACHE`` set)."""
    if os.environ.get("ROLLOUT_DOCTOR_NO_CACHE"):
        return None
    override = os.environ.get("ROLLOUT_DOCTOR_CACHE_DIR")
    if override:
        return Path(os.path.abspath(os.path.expanduser(override)))
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("rollout-doctor", appauthor=False))


def disable() -> None:
    """Turn the cache off for this process and the workers it starts (``--no-cache``)."""
    os.environ["ROLLOUT_DOCTOR_NO_CACHE"] = "1"


def fingerprint() -> str:
    """The tool's version and the schema, and the size and mtime of every module of core/,
    formats/ and store/: what a report and an index are made by. A release bumps the version, but a development
    checkout or an editable install changes its code under the same version; a record class with a new
    field read from an old pickle would otherwise be a wrong report."""
    global _fingerprint
    if _fingerprint is None:
        import rollout_doctor

        package = Path(rollout_doctor.__file__).parent
        digest = hashlib.blake2b(f"{rollout_doctor.__version__}/{SCHEMA}".encode(), digest_size=12)
        for sub in ("core", "formats", "store"):
            for root, dirs, files in os.walk(package / sub):
                dirs.sort()
                for name in sorted(files):
                    if name.endswith(".py"):
                        st = os.stat(os.path.join(root, name))
                        digest.update(f"{root}/{name}:{st.st_size}:{st.st_mtime_ns};".encode())
        _fingerprint = digest.hexdigest()
    return _fingerprint


def key_name(*parts: str) -> str:
    return hashlib.blake2b("\0".join(parts).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def _private(path: Path, create: bool) -> bool:
    """Whether ``path`` is a folder of this user's that no one else can write to (made, 0700, when
    ``create``)."""
    known = _checked.get(path)
    if known is not None:
        return known
    try:
        if create:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.stat(path)
    except OSError:
        return False
    ok = stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022
    if ok or create:  # a missing folder may be made later in this run
        _checked[path] = ok
    return ok


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
    chunks = header.get("chunks") if isinstance(header, dict) else None
    if not isinstance(chunks, list) or not chunks:
        return None
    end = len(MAGIC)
    for start, size, _digest in chunks:
        if not (isinstance(start, int) and isinstance(size, int) and end <= start and size >= 0):
            return None
        end = start + size
    return header if end == at and chunks[0][0] == len(MAGIC) else None


class _Hashing:
    """A file that hashes what is written to it (the payload is streamed, never held twice)."""

    def __init__(self, out: Any) -> None:
        self.out, self.hash, self.length = out, hashlib.blake2b(digest_size=16), 0

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
    return hashlib.blake2b(payload, digest_size=16).digest()


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
