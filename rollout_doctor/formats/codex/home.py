"""Where Codex keeps sessions, and what a rollout's file name says.

A Codex home (``$CODEX_HOME``, default ``~/.codex``) holds ``sessions/YYYY/MM/DD/`` and a flat
``archived_sessions/``. A rollout is named ``rollout-<local time>-<thread uuid>.jsonl`` (``.jsonl.zst``
when compressed, 2026 releases), or ``rollout-<time>-<thread uuid>_<rollout uuid>.jsonl`` for the
files 0.171.0 writes when a thread is reverted. The thread uuid is what ``codex resume`` takes; the
*rollout id* names one file: the uuid after ``_`` in a revert branch, else the thread uuid. Codex keys
a file's SQLite projection rows and a child's ``history_base.thread_id`` by the rollout id (both seen
with 0.171.0's ``thread/revert``: rows under the branch's uuid, ``history_base`` naming the original
file by its thread uuid).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

SESSIONS = "sessions"
ARCHIVED = "archived_sessions"
SESSION_ROOTS = (SESSIONS, ARCHIVED)
CONFIG = "config.toml"
SESSION_INDEX = "session_index.jsonl"

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
ROLLOUT_NAME = re.compile(
    rf"^rollout-(?P<ts>\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}-\d{{2}}-\d{{2}})-(?P<thread>{UUID})"
    rf"(?:_(?P<rollout>{UUID}))?\.jsonl(?:\.zst)?$"
)


def configured_home() -> Path:
    """``$CODEX_HOME``, else ``~/.codex``."""
    return _configured_home(os.environ.get("CODEX_HOME"), os.environ.get("HOME"))


@lru_cache(maxsize=8)
def _configured_home(codex_home: str | None, _home: str | None) -> Path:
    """``configured_home`` for these values of the variables it depends on: a re-check asks it two or three
    times per rollout (the homes whose locks and inputs count), 10 us each spelt out (2026-11-29)."""
    return Path(codex_home or Path.home() / ".codex").expanduser()


def default_roots() -> list[Path]:
    home = configured_home()
    return [home / SESSIONS, home / ARCHIVED]


def home_of(rollout: Path) -> Path | None:
    """The Codex home holding ``rollout`` (the parent of the ``sessions`` or ``archived_sessions``
    folder it sits in, symbolic links resolved), or None for a file outside any home."""
    # On the resolved path's text: Path.parents made a Path of every folder up to the root (a third of the
    # 26 us this took a rollout, asked for every rollout of a re-check, 2026-11-29).
    parts = os.path.realpath(rollout).split(os.sep)
    for n in range(len(parts) - 2, 0, -1):
        if parts[n] in SESSION_ROOTS:
            return Path(os.sep.join(parts[:n]) or os.sep)
    return None


def is_rollout_name(name: str) -> bool:
    """Named like a rollout: ``rollout-*.jsonl`` or ``rollout-*.jsonl.zst`` (what discovery takes)."""
    return name.startswith("rollout-") and name.endswith((".jsonl", ".jsonl.zst"))


class RolloutName(NamedTuple):
    thread_id: str
    rollout_id: str
    timestamp: str


def parse_name(path: Path | str) -> RolloutName | None:
    match = ROLLOUT_NAME.match(os.path.basename(path))
    if match is None:
        return None
    thread = match["thread"].lower()
    return RolloutName(thread, (match["rollout"] or thread).lower(), match["ts"])


def thread_id_from_name(path: Path) -> str | None:
    name = parse_name(path)
    return name.thread_id if name else None


def iter_rollouts(folder: Path, recursive: bool = True) -> Iterator[os.DirEntry[str]]:
    """Files named like rollouts (the full pattern) under ``folder``, regular files or links to them;
    folders reached through links are not entered, and what cannot be read is passed over (looking a
    session up, unlike discovery.py, reports nothing)."""
    stack = [str(folder)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if recursive:
                        stack.append(entry.path)
                elif ROLLOUT_NAME.match(entry.name) and entry.is_file():
                    yield entry
            except OSError:
                continue


LOCK_DIR = "thread-writer-locks"  # 0.169.0 holds <home>/thread-writer-locks/<thread id>.lock; absent in 0.77.0


def homes_of(path: Path) -> list[Path]:
    """The Codex homes a rollout may belong to: the one it sits in, and $CODEX_HOME."""
    homes = [home for home in (home_of(path),) if home is not None]
    homes.append(configured_home())
    return list(dict.fromkeys(homes))


def session_stores(paths: list[Path]) -> list[Path]:
    """Folders Codex searches for sessions: those of $CODEX_HOME and of the homes ``paths`` sit in."""
    homes = [configured_home(), *(home for p in paths if (home := home_of(p)) is not None)]
    return [Path(os.path.realpath(home / name)) for home in dict.fromkeys(homes) for name in SESSION_ROOTS]


def writer_locks(path: Path) -> list[Path]:
    """The writer-lock files of the rollout's thread that exist (store/liveness.py reads who holds them)."""
    thread = thread_id_from_name(path)
    if thread is None:
        return []
    return [p for home in homes_of(path) if (p := home / LOCK_DIR / f"{thread}.lock").is_file()]
