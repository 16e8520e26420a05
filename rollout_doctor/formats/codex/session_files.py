"""What finding a session reads of a rollout: its first record, and its latest turn's folder and
settings, read from the end of the file; the session found, or why none was."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from rollout_doctor.formats.codex.home import configured_home as codex_home
from rollout_doctor.store.reading import open_regular

HEAD_BYTES = 1 << 16  # enough for a session_meta line, whose base_instructions can be long
TAIL_BYTES = 1 << 20  # the first window searched from the end for the latest turn_context


class SessionNotFound(LookupError):
    """No rollout answers the request; the message says what was looked for, and where."""


class Session(NamedTuple):
    path: Path
    thread_id: str
    archived: bool = False


def prefer_plain(entries: list[os.DirEntry[str]]) -> list[os.DirEntry[str]]:
    """Drop a ``.jsonl.zst`` whose plain ``.jsonl`` sibling exists: Codex reads the plain one."""
    plain = {e.path for e in entries if e.name.endswith(".jsonl")}
    return [e for e in entries if not (e.name.endswith(".zst") and e.path[: -len(".zst")] in plain)]


def mtime_ms(entry: os.DirEntry[str]) -> int:
    try:
        return entry.stat().st_mtime_ns // 1_000_000
    except OSError:
        return -1


def configured_provider(home: Path | None = None) -> str:
    """The ``model_provider`` Codex would use (codex_config.configured_provider)."""
    from rollout_doctor.formats.codex import config as codex_config

    return codex_config.configured_provider(codex_config.load(home or codex_home()))


class Head(NamedTuple):
    cwd: str | None
    provider: str | None
    source: object = None  # "cli", "vscode", "exec", "mcp", {"subagent": ...}; None when the meta has none


def meta_of(first_line: bytes) -> Head | None:
    """What --last needs from a rollout's first record, or None when it is not a session_meta."""
    import orjson

    try:
        line = orjson.loads(first_line.lstrip(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError:
        return None
    if not isinstance(line, dict) or line.get("type") != "session_meta" or not isinstance(line.get("payload"), dict):
        return None
    meta = line["payload"]
    cwd, provider = meta.get("cwd"), meta.get("model_provider")
    return Head(cwd if isinstance(cwd, str) else None, provider if isinstance(provider, str) else None,
                meta.get("source"))


def open_quietly(path: Path) -> BinaryIO:
    """``path`` opened for reading, a regular file only, without moving its access time where the
    system allows it (store/reading.py): looking for a session leaves the rollouts' times as they were."""
    return os.fdopen(open_regular(path), "rb")


def first_line(path: Path) -> bytes:
    try:
        with open_quietly(path) as f:
            first = f.readline(HEAD_BYTES)
            if len(first) == HEAD_BYTES and not first.endswith(b"\n"):
                first += f.readline()  # a meta line longer than the buffer: read it whole
            return first
    except OSError:
        return b""


def latest_line(data: bytes, marker: bytes,
                 wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    """The last line of ``data`` that holds ``marker``, parses, and is ``wanted``; None when there is none."""
    import orjson

    end = len(data)
    while True:
        at = data.rfind(marker, 0, end)
        if at < 0:
            return None
        start = data.rfind(b"\n", 0, at) + 1
        stop = data.find(b"\n", at)
        end = start
        try:
            line = orjson.loads(data[start : stop if stop >= 0 else len(data)])
        except orjson.JSONDecodeError:
            continue
        if isinstance(line, dict) and isinstance(line.get("payload"), dict) and wanted(line):
            return line


def is_turn_context(line: dict[str, Any]) -> bool:
    return line.get("type") == "turn_context" and isinstance(line["payload"].get("cwd"), str)


def is_thread_settings(line: dict[str, Any]) -> bool:
    return (line.get("type") == "event_msg" and line["payload"].get("type") == "thread_settings_applied"
            and isinstance(line["payload"].get("thread_settings"), dict))


TURN_CONTEXT = (b'"type":"turn_context"', is_turn_context)


THREAD_SETTINGS = (b'"type":"thread_settings_applied"', is_thread_settings)


def latest_turn_cwd(data: bytes) -> str | None:
    """The cwd of the last ``turn_context`` line: it decides which folder a session belongs to."""
    line = latest_line(data, *TURN_CONTEXT)
    return line["payload"]["cwd"] if line else None


def latest_settings(data: bytes) -> dict[str, Any] | None:
    """``thread_settings`` of the last ``thread_settings_applied`` event (0.169.0 and later write one per
    turn): the provider and folder Codex's backfill records for the thread."""
    line = latest_line(data, *THREAD_SETTINGS)
    return line["payload"]["thread_settings"] if line else None


def latest_of_file(path: Path, find: Callable[[bytes], object]) -> object:
    """``find`` on the end of a plain rollout, read in growing windows: the lines searched for are
    written at every turn, so the last one is near the end, and a long session costs a megabyte, not
    its whole size."""
    window = TAIL_BYTES
    try:
        with open_quietly(path) as f:
            size = os.fstat(f.fileno()).st_size
            while True:
                start = max(0, size - window)
                f.seek(start)
                data = f.read(size - start)
                if start > 0:
                    data = data[data.find(b"\n") + 1 :] if b"\n" in data else b""  # whole lines only
                found = find(data)
                if found is not None or start == 0:
                    return found
                window *= 4
    except OSError:
        return None


class Tail:
    """The latest turn_context and thread_settings_applied of one rollout, read when first asked for."""

    def __init__(self, path: Path, data: bytes | None) -> None:
        self.path, self.data = path, data  # data: the whole (decompressed) file, or None to read the tail

    def _find(self, find: Callable[[bytes], object]) -> object:
        return find(self.data) if self.data is not None else latest_of_file(self.path, find)

    @cached_property
    def turn_cwd(self) -> str | None:
        return self._find(latest_turn_cwd)  # type: ignore[return-value]

    @cached_property
    def settings(self) -> dict[str, Any]:
        return self._find(latest_settings) or {}  # type: ignore[return-value]


def read_all(path: Path) -> bytes:
    try:
        if path.name.endswith(".zst"):
            import zstandard

            with open_quietly(path) as f:
                return zstandard.ZstdDecompressor().stream_reader(f).read()
        with open_quietly(path) as f:
            return f.read()
    except Exception:  # noqa: BLE001 - unreadable or corrupt (.zst): not a candidate, keep looking
        return b""


def same_folder(a: str, b: Path) -> bool:
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return False


def in_folder(tail: Tail, recorded: object, cwd: Path | None) -> bool:
    """Codex's folder filter: the latest turn_context's cwd decides; with none, the recorded folder."""
    if cwd is None:
        return True
    folder = tail.turn_cwd if tail.turn_cwd is not None else recorded
    return isinstance(folder, str) and same_folder(folder, cwd)
