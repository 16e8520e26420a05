"""Reading the backup store as untrusted input: a journal that is not JSON, names a relative path or
a path with NUL bytes, a hash that is not one, a copy that is missing: each is one line naming the
folder (``Unreadable``), and every other backup stays usable. Backups of rollout-doctor 0.1
(``backups/<key>/<time>/manifest.json``, one file each) are read as one-file transactions."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from rollout_doctor.store.journal import (
    COMMITTED,
    JOURNAL,
    LEGACY_MANIFEST,
    PENDING,
    PREPARED,
    RESTORED,
    RESTORING,
    STAGING,
    STATES,
    VERSION,
    Entry,
    Journal,
    path_text,
)


class Damaged(ValueError):
    """A journal that cannot be trusted; the message is one line naming the file."""


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
    run = data.get("run") if isinstance(data.get("run"), str) else ""
    extra = {k: v for k, v in data.items() if k not in ("version", "state", "created", "pid", "command", "files",
                                                         "run")}
    return Journal(folder, state, created, entries, pid, command, extra=extra, run=run)


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
        if not entry.is_dir(follow_symlinks=False) or entry.name in (PENDING, STAGING):
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
