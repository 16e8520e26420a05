"""The backup store: one folder per transaction, holding the original bytes of every file it replaced
and a journal saying what it did. The store is read as untrusted input: a damaged journal is reported
in one line and skipped, and every other backup stays usable.

Layout (version 3)::

    <state>/backups/<id>/journal.json      what the transaction did, and its state
    <state>/backups/<id>/<n>.jsonl[.zst]   file n's bytes as they were before (as stored: compressed or not)
    <state>/backups/<id>/codex-…sqlite     the Codex projection rows the transaction deleted, if any

``<state>`` is ``$ROLLOUT_DOCTOR_HOME``, else ``$XDG_STATE_HOME/rollout-doctor``, else
``~/.local/state/rollout-doctor``. Backups written by earlier releases
(``backups/<key>/<time>/manifest.json``, one file each) are read as one-file transactions.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rollout_doctor.store import places
from rollout_doctor.store.files import WriteError, fsync_dir, suffix_of

JOURNAL = "journal.json"
PENDING = ".pending"  # one empty file per unfinished transaction, named after its folder
LEGACY_MANIFEST = "manifest.json"
VERSION = 3

PREPARED = "prepared"  # copies and journal written; files may be partly replaced (a run was cut short)
COMMITTED = "committed"  # every file replaced
RESTORING = "restoring"  # an undo is putting the originals back
RESTORED = "restored"  # every file back as it was before
ROLLED_BACK = "rolled-back"  # a transaction that could not finish, undone
ABANDONED = "abandoned"  # a transaction that never replaced anything
STATES = frozenset({PREPARED, COMMITTED, RESTORING, RESTORED, ROLLED_BACK, ABANDONED})


def state_home() -> Path:
    """``$ROLLOUT_DOCTOR_HOME``, else ``$XDG_STATE_HOME/rollout-doctor``, else ``~/.local/state/rollout-doctor``."""
    override = os.environ.get("ROLLOUT_DOCTOR_HOME")
    if override:
        return Path(os.path.abspath(os.path.expanduser(override)))
    xdg = os.environ.get("XDG_STATE_HOME")
    # The XDG spec says a relative path there is invalid and must be ignored.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "state"
    return base / "rollout-doctor"


def backup_root(paths: list[Path] | None = None) -> Path:
    """The folder holding every backup; refuses one that lies where a client looks for sessions."""
    root = state_home()
    real = Path(os.path.realpath(root))
    for store, client in places.session_stores(paths or []).items():
        if real == store or store in real.parents:
            raise WriteError(
                f"backups would go to {root}, inside {store}, where {client} looks for sessions; "
                "set ROLLOUT_DOCTOR_HOME (or XDG_STATE_HOME) to a folder outside it"
            )
    return root / "backups"


def make_private_root(root: Path) -> None:
    """Create the backups folder, and any missing folder above it, readable by this user only.

    Folders that already exist above it are left as they are: ``ROLLOUT_DOCTOR_HOME`` may be a folder
    the user shares (a 1777 one keeps its sticky bit). The backups folder itself is ours: it must
    belong to this user, and is made 0700 if it is not."""
    missing = [p for p in [root, *root.parents] if not os.path.lexists(p)]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise WriteError(f"cannot make the backup folder {folder}: {exc.strerror or exc}") from None
    st = os.stat(root)
    if not stat.S_ISDIR(st.st_mode):
        raise WriteError(f"{root} is not a folder; backups cannot go there")
    if st.st_uid != os.geteuid():
        raise WriteError(f"{root} belongs to uid {st.st_uid}, not to this user; backups must be private")
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(root, 0o700)


def new_folder(root: Path) -> Path:
    ns = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(ns // 1_000_000_000)) + f"-{ns % 1_000_000_000:09d}"
    for n in range(1000):
        folder = root / f"{stamp}-{os.getpid()}" if not n else root / f"{stamp}-{os.getpid()}-{n}"
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)
        return folder
    raise WriteError(f"{root}: could not make a new backup folder")


def now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def path_text(path: Path) -> str:
    """A path as JSON can hold it: undecodable bytes of a name as ``\\xNN`` escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


class Damaged(ValueError):
    """A journal that cannot be trusted; the message is one line naming the file."""


@dataclass
class Entry:
    """One file of a transaction."""

    path: Path
    copy: str  # the name of the original's copy in the transaction's folder
    size_before: int
    sha256_before: str
    size_after: int
    sha256_after: str
    mode: int
    uid: int
    gid: int
    atime_ns: int = 0
    mtime_ns: int = 0
    dev: int = 0
    ino_after: int = 0  # the inode that took the file's name: how a file moved by Codex is recognised
    tmp: str | None = None  # the new version's temporary name beside the file, until it is replaced
    role: str = "requested"  # or "child": rewritten because its parent was (history_base)

    def json(self) -> dict[str, Any]:
        return {"path": path_text(self.path), "path_bytes": os.fsencode(self.path).hex(), "copy": self.copy,
                "size_before": self.size_before, "sha256_before": self.sha256_before,
                "size_after": self.size_after, "sha256_after": self.sha256_after, "mode": self.mode,
                "uid": self.uid, "gid": self.gid, "atime_ns": self.atime_ns, "mtime_ns": self.mtime_ns,
                "dev": self.dev, "ino_after": self.ino_after, "tmp": self.tmp, "role": self.role}


@dataclass
class Journal:
    folder: Path
    state: str
    created: str
    entries: list[Entry]
    pid: int = 0
    command: str = "fix"
    legacy: bool = False  # a one-file manifest of an earlier release, kept in its own format
    extra: dict[str, Any] = field(default_factory=dict)  # what the journal holds beyond this reader's fields

    @property
    def id(self) -> str:
        return self.folder.name if not self.legacy else f"{self.folder.parent.name}/{self.folder.name}"

    def copy_of(self, entry: Entry) -> Path:
        return self.folder / entry.copy

    def json(self) -> dict[str, Any]:
        return {**self.extra, "version": VERSION, "state": self.state, "created": self.created, "pid": self.pid,
                "command": self.command, "files": [e.json() for e in self.entries]}

    def save(self) -> None:
        """Write the journal atomically (temporary file, fsync, rename, fsync the folder). While it is
        ``prepared`` or ``restoring``, a marker in ``.pending/`` says so, so that the next run finds an
        unfinished transaction without reading every journal in the store (the guard runs before every
        resume)."""
        marker = self.folder.parent / PENDING / self.folder.name
        unfinished = self.state in (PREPARED, RESTORING) and not self.legacy
        if unfinished and not marker.exists():
            marker.parent.mkdir(mode=0o700, exist_ok=True)
            marker.touch(mode=0o600)
            fsync_dir(marker.parent)
        if self.legacy:
            data = {**self.extra, "state": self.state, "restored": self.state == RESTORED}
            _write_json(self.folder / LEGACY_MANIFEST, data)
        else:
            _write_json(self.folder / JOURNAL, self.json())
        if not unfinished:
            marker.unlink(missing_ok=True)


def _write_json(target: Path, data: dict[str, Any]) -> None:
    tmp = target.with_name(target.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    fsync_dir(target.parent)


# --- reading: every field checked ---------------------------------------------------------------------


def _field(data: dict[str, Any], key: str, kind: type, where: Path) -> Any:
    value = data.get(key)
    if kind is int and (type(value) is not int or value < 0):
        raise Damaged(f"{where}: {key} is not a non-negative integer")
    if kind is str and not isinstance(value, str):
        raise Damaged(f"{where}: {key} is not a string")
    return value


def _sha(data: dict[str, Any], key: str, where: Path) -> str:
    value = _field(data, key, str, where)
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise Damaged(f"{where}: {key} is not a sha256")
    return value


def _path(data: dict[str, Any], where: Path) -> Path:
    raw = data.get("path_bytes")
    if isinstance(raw, str):
        try:
            encoded = bytes.fromhex(raw)
        except ValueError:
            raise Damaged(f"{where}: path_bytes is not hexadecimal") from None
        if not encoded or b"\0" in encoded or not encoded.startswith(b"/"):
            raise Damaged(f"{where}: path_bytes is not an absolute path")
        return Path(os.fsdecode(encoded))
    text = data.get("path")
    if not isinstance(text, str) or not text.startswith("/") or "\0" in text:
        raise Damaged(f"{where}: path is not an absolute path")
    return Path(text)


def _copy_name(value: Any, where: Path) -> str:
    if not isinstance(value, str) or not value or "/" in value or value in (".", "..") or "\0" in value:
        raise Damaged(f"{where}: the name of the original's copy is not a plain file name")
    return value


def _load(path: Path) -> dict[str, Any]:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise Damaged(f"{path}: missing") from None
    if not stat.S_ISREG(st.st_mode) or st.st_size > 64 << 20:
        raise Damaged(f"{path}: not a regular file of a sensible size")
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise Damaged(f"{path}: not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise Damaged(f"{path}: not a JSON object")
    return data


def read_journal(folder: Path) -> Journal:
    """The journal of a transaction folder (or an earlier release's manifest); raises Damaged."""
    if os.path.lexists(folder / JOURNAL):
        return _read_v3(folder)
    if os.path.lexists(folder / LEGACY_MANIFEST):
        return _read_legacy(folder)
    raise Damaged(f"{folder}: no {JOURNAL}; what this backup holds is unknown")


def _read_v3(folder: Path) -> Journal:
    where = folder / JOURNAL
    data = _load(where)
    if data.get("version") != VERSION:
        raise Damaged(f"{where}: version {data.get('version')!r}, not {VERSION}")
    state = data.get("state")
    if state not in STATES:
        raise Damaged(f"{where}: unknown state {state!r}")
    files = data.get("files")
    if not isinstance(files, list) or not files:
        raise Damaged(f"{where}: no files")
    entries = []
    for item in files:
        if not isinstance(item, dict):
            raise Damaged(f"{where}: a file entry is not an object")
        tmp = item.get("tmp")
        entries.append(Entry(
            path=_path(item, where), copy=_copy_name(item.get("copy"), where),
            size_before=_field(item, "size_before", int, where), sha256_before=_sha(item, "sha256_before", where),
            size_after=_field(item, "size_after", int, where), sha256_after=_sha(item, "sha256_after", where),
            mode=_field(item, "mode", int, where) & 0o7777, uid=_field(item, "uid", int, where),
            gid=_field(item, "gid", int, where),
            atime_ns=item.get("atime_ns") if type(item.get("atime_ns")) is int else 0,
            mtime_ns=item.get("mtime_ns") if type(item.get("mtime_ns")) is int else 0,
            dev=item.get("dev") if type(item.get("dev")) is int else 0,
            ino_after=item.get("ino_after") if type(item.get("ino_after")) is int else 0,
            tmp=_copy_name(tmp, where) if tmp is not None else None,
            role=item.get("role") if item.get("role") in ("requested", "child") else "requested"))
    created = data.get("created") if isinstance(data.get("created"), str) else "?"
    pid = data.get("pid") if type(data.get("pid")) is int else 0
    command = data.get("command") if isinstance(data.get("command"), str) else "fix"
    extra = {k: v for k, v in data.items() if k not in ("version", "state", "created", "pid", "command", "files")}
    return Journal(folder, state, created, entries, pid, command, extra=extra)


def _read_legacy(folder: Path) -> Journal:
    """A manifest of rollout-doctor 0.1 (versions 1 and 2): one file, ``state`` pending or committed."""
    where = folder / LEGACY_MANIFEST
    data = _load(where)
    if not data.get("sha256_after"):
        raise Damaged(f"{where}: a fix that never finished (no sha256_after)")
    state = data.get("state", COMMITTED)
    if data.get("restored"):
        state = RESTORED
    elif state == "pending":
        state = PREPARED
    if state not in STATES:
        raise Damaged(f"{where}: unknown state {state!r}")
    entry = Entry(
        path=_path(data, where), copy=_copy_name(data.get("backup"), where),
        size_before=_field(data, "size_before", int, where), sha256_before=_sha(data, "sha256_before", where),
        size_after=_field(data, "size_after", int, where), sha256_after=_sha(data, "sha256_after", where),
        mode=(data.get("mode") if type(data.get("mode")) is int else 0o600) & 0o7777,
        uid=data.get("uid") if type(data.get("uid")) is int else -1,
        gid=data.get("gid") if type(data.get("gid")) is int else -1)
    created = data.get("created") if isinstance(data.get("created"), str) else "?"
    return Journal(folder, state, created, [entry], data.get("pid") if type(data.get("pid")) is int else 0,
                   legacy=True, extra=data)


@dataclass(frozen=True)
class Unreadable:
    folder: Path
    reason: str


LEGACY_KEY = re.compile(r"^[0-9a-f]{20}$")  # rollout-doctor 0.1: a folder per rollout path


def scan(root: Path) -> Iterator[Journal | Unreadable]:
    """Every transaction in the store, oldest first, and a line for each one that cannot be read."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except FileNotFoundError:
        return
    except OSError as exc:
        yield Unreadable(root, f"{root}: {exc.strerror or exc}")
        return
    found: list[Journal | Unreadable] = []
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False) or entry.name == PENDING:
            continue
        folder = Path(entry.path)
        if not LEGACY_KEY.match(entry.name):
            found.append(_safe_read(folder))
            continue
        try:  # an earlier release's layout: <key>/<time>/manifest.json
            inner = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            found.append(Unreadable(folder, f"{folder}: {exc.strerror or exc}"))
            continue
        for sub in inner:
            if sub.is_dir(follow_symlinks=False):
                found.append(_safe_read(Path(sub.path)))
    found.sort(key=lambda j: (j.created if isinstance(j, Journal) else "", str(j.folder)))
    yield from found


def _safe_read(folder: Path) -> Journal | Unreadable:
    try:
        journal = read_journal(folder)
        for entry in journal.entries:
            copy = journal.copy_of(entry)
            if journal.state in (COMMITTED, PREPARED, RESTORING) and not os.path.isfile(copy):
                raise Damaged(f"{copy}: the copy of {path_text(entry.path)} is missing; that backup cannot be restored")
        return journal
    except Damaged as exc:
        return Unreadable(folder, str(exc))
    except OSError as exc:
        return Unreadable(folder, f"{folder}: {exc.strerror or exc}")


def copy_name(n: int, path: Path) -> str:
    return f"{n}{suffix_of(path)}"


def unfinished(root: Path) -> Iterator[Journal | Unreadable]:
    """The transactions marked unfinished (see ``Journal.save``); a marker whose journal is gone or
    finished is removed."""
    try:
        markers = sorted(os.listdir(root / PENDING))
    except OSError:
        return
    for name in markers:
        folder = root / name
        if "/" in name or not os.path.isdir(folder):
            (root / PENDING / name).unlink(missing_ok=True)
            continue
        found = _safe_read(folder)
        if isinstance(found, Journal) and found.state not in (PREPARED, RESTORING):
            (root / PENDING / name).unlink(missing_ok=True)
            continue
        yield found
