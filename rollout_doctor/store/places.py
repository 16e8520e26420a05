"""Where the clients whose files the store writes keep what the store must respect.

The store knows no format, yet it must not put backups where a client looks for sessions (they would
be listed, resumed, picked by "resume the last"), and it must see a live client's writer lock before it
replaces a file. Each format registers a ``Places`` when it is imported (formats/codex/format.py);
the store asks all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple


def _none(path: Path) -> list[int]:
    return []


class Places(NamedTuple):
    name: str
    client: str  # "Codex", in messages
    # The folders a client searches for sessions: those of its configured home and of the homes the
    # given files sit in.
    session_stores: Callable[[list[Path]], list[Path]]
    # Lock files a running client holds while it may write the given file.
    writer_locks: Callable[[Path], list[Path]]
    # Processes the client's own registry of running sessions says are writing the given file, for a
    # client that opens the file only for each append (Claude Code): their pids, each checked alive.
    declared_writers: Callable[[Path], list[int]] = _none


_registered: dict[str, Places] = {}


def register(places: Places) -> None:
    _registered[places.name] = places


def session_stores(paths: list[Path]) -> dict[Path, str]:
    """Every registered client's session folders, each with the client's name."""
    return {store: places.client for places in _registered.values() for store in places.session_stores(paths)}


def client_of(name: str) -> str:
    """The client a format's files belong to ("Codex", "Claude Code"); the name itself when unregistered."""
    places = _registered.get(name)
    return places.client if places is not None else name


def writer_locks(path: Path) -> list[Path]:
    return [lock for places in _registered.values() for lock in places.writer_locks(path)]


def declared_writers(path: Path) -> list[int]:
    return [pid for places in _registered.values() for pid in places.declared_writers(path)]
