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
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rollout_doctor.store.files import fsync_dir, suffix_of

JOURNAL = "journal.json"
PENDING = ".pending"  # one empty file per unfinished transaction, named after its folder
STAGING = ".staging"  # backup copies made ahead of their transaction (staging.py): no transaction
LEGACY_MANIFEST = "manifest.json"
VERSION = 3

PREPARED = "prepared"  # copies and journal written; files may be partly replaced (a run was cut short)
COMMITTED = "committed"  # every file replaced
RESTORING = "restoring"  # an undo is putting the originals back
RESTORED = "restored"  # every file back as it was before
ROLLED_BACK = "rolled-back"  # a transaction that could not finish, undone
ABANDONED = "abandoned"  # a transaction that never replaced anything
STATES = frozenset({PREPARED, COMMITTED, RESTORING, RESTORED, ROLLED_BACK, ABANDONED})


def now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def path_text(path: Path) -> str:
    """A path as JSON can hold it: undecodable bytes of a name as ``\\xNN`` escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


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
    run: str = ""  # the invocation that wrote it (runs.current_run); empty before 2026-11

    @property
    def run_id(self) -> str:
        """The run it belongs to: a `fix` over a folder commits one transaction per thread, all one run."""
        return self.run or self.id

    @property
    def id(self) -> str:
        return self.folder.name if not self.legacy else f"{self.folder.parent.name}/{self.folder.name}"

    def copy_of(self, entry: Entry) -> Path:
        return self.folder / entry.copy

    def json(self) -> dict[str, Any]:
        return {**self.extra, "version": VERSION, "state": self.state, "created": self.created, "pid": self.pid,
                "command": self.command, **({"run": self.run} if self.run else {}),
                "files": [e.json() for e in self.entries]}

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


def copy_name(n: int, path: Path) -> str:
    return f"{n}{suffix_of(path)}"
