"""Finding the rollout of one session the way Codex does: by id, by thread name, or the newest one.

What Codex does (docs/codex-facts.md §3, read from openai/codex 2026 sources; checked against the real
0.169.0 binary by tests/test_sessions.py):

* **By id** (``codex resume <uuid>``): the uuid must parse; ``$CODEX_HOME/sessions/`` (nested
  ``YYYY/MM/DD``) is searched for a file named ``rollout-<time>-<uuid>.jsonl``, then
  ``archived_sessions/`` (flat). A plain ``.jsonl`` wins over a ``.jsonl.zst`` of the same name.
  Codex 2026 asks its state database first and falls back to this walk when the database is absent or
  stale; rollout-doctor always walks. The file name carries the thread id, so the walk finds the same
  file whenever the database is right. When several rollouts carry one thread id (reverted threads,
  ``rollout-<time>-<thread>_<rollout>.jsonl``) the most recently written one is taken.
* **By name** (``codex resume NAME``): ``$CODEX_HOME/session_index.jsonl`` is read from the end; the
  first line whose ``thread_name`` equals NAME exactly (case-sensitive) gives the id. Newest wins.
* **The newest** (``codex resume --last``, ``codex exec resume --last``), as 0.169.0 and 0.171.0 do it
  (docs/codex-facts.md, "How `--last` chooses a session": every point seen with the real binaries):

  1. With a usable state database (``$CODEX_HOME/state_5.sqlite`` whose ``backfill_state`` says
     ``complete``): the rows of ``threads`` that are not archived and whose ``model_provider`` is the
     configured one, newest ``updated_at_ms`` first (NULL last), ties broken by the higher id. A row
     whose rollout file is gone is skipped; rollouts the database does not list are not candidates
     in this step. The file's mtime plays no part.
  2. With no database (or one whose backfill is not complete) Codex first rebuilds it from the files:
     ``updated_at_ms`` is the file's mtime (to the millisecond; a session created later whose mtime is
     less than a second behind an earlier one's gets that time plus 1 ms), the provider and the folder
     those of the latest ``thread_settings_applied`` event, else ``session_meta``'s (a meta naming no
     provider counts as the configured one). Step 1 then runs on that.
  3. When step 1 finds nothing, Codex walks ``sessions/`` itself (archived ones are not candidates):
     newest mtime first, ties broken by the higher uuid, the provider of ``session_meta`` only.

  The folder filter (unless ``--all``) is the same in every step: the ``cwd`` of the session's latest
  ``turn_context`` must be the current folder; only a session with no ``turn_context`` is judged by
  its recorded folder (the database's ``cwd`` in steps 1 and 2, ``session_meta.cwd`` in step 3).
  rollout-doctor reads the database read-only and never writes it.

  Releases before the 2026 ``UpdatedAt`` ordering (0.77.0, checked) have no state database; they
  order by the time in the file name and do not filter by folder: ``order="created"``.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO

from rollout_doctor.formats.codex.home import ARCHIVED, ROLLOUT_NAME, SESSIONS, iter_rollouts
from rollout_doctor.formats.codex.home import SESSION_INDEX as INDEX
from rollout_doctor.formats.codex.home import UUID as UUID_PATTERN
from rollout_doctor.formats.codex.home import configured_home as codex_home
from rollout_doctor.core.lines import open_regular

UUID = re.compile(rf"^{UUID_PATTERN}$")
NAME = ROLLOUT_NAME  # rollout-<local time>-<thread uuid>[_<rollout uuid>].jsonl[.zst]
# Codex 2026's thread database (0.169.0, 0.171.0): ``threads`` holds, per thread, rollout_path, cwd,
# model_provider, archived and updated_at_ms; ``backfill_state`` says whether it was built from the files.
STATE_DB = "state_5.sqlite"
BACKFILL_WINDOW_MS = 1000  # see _backfilled_ms
STATE_DB_TIMEOUT = 1.0  # seconds to wait for a Codex holding a lock (a reader of a WAL database rarely waits)
HEAD_BYTES = 1 << 16  # enough for a session_meta line, whose base_instructions can be long
TAIL_BYTES = 1 << 20  # the first window searched from the end for the latest turn_context


class SessionNotFound(LookupError):
    """No rollout answers the request; the message says what was looked for, and where."""


@dataclass(frozen=True)
class Rollout:
    path: Path
    thread_id: str
    archived: bool = False


def is_uuid(text: str) -> bool:
    return UUID.match(text) is not None


def _rollout_files(folder: Path) -> Iterator[os.DirEntry[str]]:
    return iter_rollouts(folder)


def _prefer_plain(entries: list[os.DirEntry[str]]) -> list[os.DirEntry[str]]:
    """Drop a ``.jsonl.zst`` whose plain ``.jsonl`` sibling exists: Codex reads the plain one."""
    plain = {e.path for e in entries if e.name.endswith(".jsonl")}
    return [e for e in entries if not (e.name.endswith(".zst") and e.path[: -len(".zst")] in plain)]


def _mtime_ms(entry: os.DirEntry[str]) -> int:
    try:
        return entry.stat().st_mtime_ns // 1_000_000
    except OSError:
        return -1


def find_by_id(thread_id: str, home: Path | None = None) -> Rollout:
    if not is_uuid(thread_id):
        raise SessionNotFound(f"{thread_id!r} is not a session id (a uuid)")
    home = home or codex_home()
    wanted = thread_id.lower()
    for sub, archived in ((SESSIONS, False), (ARCHIVED, True)):
        matches = [e for e in _rollout_files(home / sub) if NAME.match(e.name)["thread"].lower() == wanted]  # type: ignore[index]
        matches = _prefer_plain(matches)
        if matches:
            best = max(matches, key=lambda e: (_mtime_ms(e), e.name))
            return Rollout(Path(best.path), wanted, archived)
    raise SessionNotFound(f"no rollout for session {thread_id} under {home / SESSIONS} or {home / ARCHIVED}")


def thread_id_for_name(name: str, home: Path | None = None) -> str | None:
    """The id of the newest ``session_index.jsonl`` entry named exactly ``name``, or None."""
    import orjson

    if not name.strip():
        return None
    try:
        data = ((home or codex_home()) / INDEX).read_bytes()
    except OSError:
        return None
    for raw in reversed(data.splitlines()):
        if not raw.strip():
            continue
        try:
            entry = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("thread_name") == name and isinstance(entry.get("id"), str):
            return entry["id"]
    return None


def find_by_name_or_id(session: str, home: Path | None = None) -> Rollout:
    """``codex resume SESSION``: a uuid is an id; anything else is a thread name."""
    home = home or codex_home()
    if is_uuid(session):
        return find_by_id(session, home)
    thread_id = thread_id_for_name(session, home)
    if thread_id is None:
        raise SessionNotFound(f"no session named {session!r} in {home / INDEX}")
    return find_by_id(thread_id, home)


def configured_provider(home: Path | None = None) -> str:
    """The ``model_provider`` Codex would use (codex_config.configured_provider)."""
    from rollout_doctor.formats.codex import config as codex_config

    return codex_config.configured_provider(codex_config.load(home or codex_home()))


@dataclass(frozen=True)
class _Head:
    cwd: str | None
    provider: str | None


def _meta_of(first_line: bytes) -> _Head | None:
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
    return _Head(cwd if isinstance(cwd, str) else None, provider if isinstance(provider, str) else None)


def _open_quietly(path: Path) -> BinaryIO:
    """``path`` opened for reading, a regular file only, without moving its access time where the
    system allows it (lines.open_regular): looking for a session leaves the rollouts' times as they were."""
    return os.fdopen(open_regular(path), "rb")


def _first_line(path: Path) -> bytes:
    try:
        with _open_quietly(path) as f:
            first = f.readline(HEAD_BYTES)
            if len(first) == HEAD_BYTES and not first.endswith(b"\n"):
                first += f.readline()  # a meta line longer than the buffer: read it whole
            return first
    except OSError:
        return b""


def _latest_line(data: bytes, marker: bytes,
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


def _is_turn_context(line: dict[str, Any]) -> bool:
    return line.get("type") == "turn_context" and isinstance(line["payload"].get("cwd"), str)


def _is_thread_settings(line: dict[str, Any]) -> bool:
    return (line.get("type") == "event_msg" and line["payload"].get("type") == "thread_settings_applied"
            and isinstance(line["payload"].get("thread_settings"), dict))


TURN_CONTEXT = (b'"type":"turn_context"', _is_turn_context)
THREAD_SETTINGS = (b'"type":"thread_settings_applied"', _is_thread_settings)


def _latest_turn_cwd(data: bytes) -> str | None:
    """The cwd of the last ``turn_context`` line: it decides which folder a session belongs to."""
    line = _latest_line(data, *TURN_CONTEXT)
    return line["payload"]["cwd"] if line else None


def _latest_settings(data: bytes) -> dict[str, Any] | None:
    """``thread_settings`` of the last ``thread_settings_applied`` event (0.169.0 and later write one per
    turn): the provider and folder Codex's backfill records for the thread."""
    line = _latest_line(data, *THREAD_SETTINGS)
    return line["payload"]["thread_settings"] if line else None


def _latest_of_file(path: Path, find: Callable[[bytes], object]) -> object:
    """``find`` on the end of a plain rollout, read in growing windows: the lines searched for are
    written at every turn, so the last one is near the end, and a long session costs a megabyte, not
    its whole size."""
    window = TAIL_BYTES
    try:
        with _open_quietly(path) as f:
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


def _latest_turn_cwd_of_file(path: Path) -> str | None:
    return _latest_of_file(path, _latest_turn_cwd)  # type: ignore[return-value]


class _Tail:
    """The latest turn_context and thread_settings_applied of one rollout, read when first asked for."""

    def __init__(self, path: Path, data: bytes | None) -> None:
        self.path, self.data = path, data  # data: the whole (decompressed) file, or None to read the tail

    def _find(self, find: Callable[[bytes], object]) -> object:
        return find(self.data) if self.data is not None else _latest_of_file(self.path, find)

    @cached_property
    def turn_cwd(self) -> str | None:
        return self._find(_latest_turn_cwd)  # type: ignore[return-value]

    @cached_property
    def settings(self) -> dict[str, Any]:
        return self._find(_latest_settings) or {}  # type: ignore[return-value]


def _read_all(path: Path) -> bytes:
    try:
        if path.name.endswith(".zst"):
            import zstandard

            with _open_quietly(path) as f:
                return zstandard.ZstdDecompressor().stream_reader(f).read()
        with _open_quietly(path) as f:
            return f.read()
    except Exception:  # noqa: BLE001 - unreadable or corrupt (.zst): not a candidate, keep looking
        return b""


def same_folder(a: str, b: Path) -> bool:
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return False


def _in_folder(tail: _Tail, recorded: object, cwd: Path | None) -> bool:
    """Codex's folder filter: the latest turn_context's cwd decides; with none, the recorded folder."""
    if cwd is None:
        return True
    folder = tail.turn_cwd if tail.turn_cwd is not None else recorded
    return isinstance(folder, str) and same_folder(folder, cwd)


@dataclass(frozen=True)
class _Row:
    thread_id: str
    rollout_path: str
    cwd: str | None


def _state_db_rows(home: Path, provider: str) -> list[_Row] | None:
    """The candidates of ``state_5.sqlite`` for ``provider``, newest first; None when Codex would not use
    the database as it is: absent, unreadable, or not built from the files yet (``backfill_state`` not
    ``complete``, in which case Codex rebuilds it from the files first). Opened read-only: nothing is
    ever written to it, and a Codex running meanwhile is not disturbed (readers of its WAL do not block)."""
    path = home / STATE_DB
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=STATE_DB_TIMEOUT)
    except (sqlite3.Error, ValueError):
        return None
    try:
        status = db.execute("SELECT status FROM backfill_state WHERE id = 1").fetchone()
        if status is None or status[0] != "complete":
            return None
        rows = db.execute(
            "SELECT id, rollout_path, cwd FROM threads WHERE archived = 0 AND model_provider = ? "
            "ORDER BY updated_at_ms DESC, id DESC",  # SQLite puts NULL last in DESC, as Codex's order does
            (provider,),
        ).fetchall()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    return [_Row(str(tid).lower(), path_, cwd if isinstance(cwd, str) else None)
            for tid, path_, cwd in rows if isinstance(tid, str) and isinstance(path_, str)]


def _existing_rollout(recorded: str) -> Path | None:
    """The file a database row names, or its plain/compressed sibling (the plain one wins)."""
    path = Path(recorded)
    plain = path.with_name(path.name[: -len(".zst")]) if path.name.endswith(".zst") else path
    for candidate in (plain, plain.with_name(plain.name + ".zst")):
        if candidate.is_file():
            return candidate
    return None


def _from_state_db(rows: list[_Row], cwd: Path | None) -> Rollout | None:
    for row in rows:
        path = _existing_rollout(row.rollout_path)
        if path is None:
            continue  # the database names a file that is gone: Codex skips it
        compressed = path.name.endswith(".zst")
        if _in_folder(_Tail(path, _read_all(path) if compressed else None), row.cwd, cwd):
            return Rollout(path, row.thread_id)
    return None


def _created_order(entry: os.DirEntry[str]) -> tuple[str, str]:
    match = NAME.match(entry.name)
    assert match is not None
    return (match["ts"], match["thread"].lower())


def _backfilled_ms(entries: list[os.DirEntry[str]]) -> dict[str, int]:
    """The ``updated_at_ms`` Codex's backfill gives each rollout: its mtime in milliseconds, except that,
    taken in the order the sessions were created, one whose mtime is less than a second behind the
    newest time given so far gets that time plus one millisecond (0.169.0 and 0.171.0, seen)."""
    updated: dict[str, int] = {}
    top: int | None = None
    for entry in sorted(entries, key=_created_order):
        ms = _mtime_ms(entry)
        if top is not None and top - BACKFILL_WINDOW_MS < ms <= top:
            ms = top + 1
        updated[entry.path] = ms
        top = ms if top is None else max(top, ms)
    return updated


def _walk(home: Path, cwd: Path | None, provider: str, order: str, backfill: bool) -> Rollout | None:
    """The newest rollout under ``sessions/`` that passes the filters.

    ``backfill``: judge each file as Codex's backfill records it in the database (provider and folder of
    the latest thread_settings_applied first); else as Codex's own walk does (session_meta only)."""
    entries = _prefer_plain(list(_rollout_files(home / SESSIONS)))
    updated = _backfilled_ms(entries) if backfill else {}

    def key(entry: os.DirEntry[str]) -> tuple[object, ...]:
        match = NAME.match(entry.name)
        assert match is not None
        thread = match["thread"].lower()
        if order == "created":
            return (match["ts"], thread)
        return (updated[entry.path] if backfill else _mtime_ms(entry), thread)

    for entry in sorted(entries, key=key, reverse=True):
        path = Path(entry.path)
        compressed = path.name.endswith(".zst")
        data = _read_all(path) if compressed else None
        head = _meta_of(data.split(b"\n", 1)[0] if data is not None else _first_line(path))
        if head is None:
            continue
        tail = _Tail(path, data)
        settings = tail.settings if backfill else {}
        session_provider = settings.get("model_provider_id") or head.provider or provider
        if session_provider != provider:
            continue
        if not _in_folder(tail, settings.get("cwd") or head.cwd, cwd):
            continue
        return Rollout(path, NAME.match(path.name)["thread"].lower())  # type: ignore[index]
    return None


def find_last(
    home: Path | None = None,
    cwd: Path | None = None,
    provider: str | None = None,
    order: str = "updated",
) -> Rollout:
    """The session ``codex exec resume --last`` resumes (see the module docstring for the steps).

    ``cwd=None`` means ``--all`` (no folder filter). ``provider=None`` reads it from config.toml."""
    home = home or codex_home()
    provider = provider or configured_provider(home)
    found: Rollout | None = None
    if order == "created":
        found = _walk(home, cwd, provider, order, backfill=False)
    else:
        rows = _state_db_rows(home, provider)
        if rows is not None:
            found = _from_state_db(rows, cwd)
        else:
            found = _walk(home, cwd, provider, order, backfill=True)
        if found is None:
            found = _walk(home, cwd, provider, order, backfill=False)
    if found is not None:
        return found
    where = f" for {cwd} (add --all for every folder)" if cwd is not None else ""
    raise SessionNotFound(f"no session of provider {provider!r} under {home / SESSIONS}{where}")


def resolve(session: str | None, last: bool, all_folders: bool = False, home: Path | None = None,
            cwd: Path | None = None, order: str = "updated") -> Rollout:
    """The rollout ``codex resume SESSION`` / ``codex resume --last [--all]`` would open.

    ``order="created"`` is the rule of releases before January 2026 (0.77.0): the newest time in the
    file name, with no folder filter."""
    home = home or codex_home()
    if last:
        folder = None if all_folders or order == "created" else (cwd or Path.cwd())
        return find_last(home, folder, order=order)
    if not session:
        raise SessionNotFound("give a session id, a thread name, or --last")
    return find_by_name_or_id(session, home)
