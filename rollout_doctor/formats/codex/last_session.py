"""Finding the session ``codex resume --last`` (and ``codex exec resume --last``) resumes, as Codex
0.169.0 and 0.171.0 do it (docs/codex-facts.md, "How `--last` chooses a session": every point seen
with the real binaries):

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

The filters differ by command (``Wanted``; all seen with the real binaries, docs/codex-facts.md, "Which
session a resume opens"): ``codex exec resume --last`` keeps the configured provider's sessions, of any
source; the TUI's ``codex resume --last`` and its picker (0.169.0, 0.171.0) keep the interactive ones
(``source`` cli or vscode; a meta without one counts as vscode) of any provider, and exec and mcp ones
too with ``--include-non-interactive`` (``resume_source_kinds``, tui/src/lib.rs). ``newest`` gives the
first N in Codex's order: the picker's first page.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from rollout_doctor.core.plain import Frozen
from rollout_doctor.formats.codex.home import ROLLOUT_NAME, SESSIONS, iter_rollouts
from rollout_doctor.formats.codex.home import configured_home as codex_home
from rollout_doctor.formats.codex.session_files import (
    Session,
    SessionNotFound,
    Tail,
    configured_provider,
    first_line,
    in_folder,
    meta_of,
    mtime_ms,
    prefer_plain,
    read_all,
)

NAME = ROLLOUT_NAME  # rollout-<local time>-<thread uuid>[_<rollout uuid>].jsonl[.zst]
INTERACTIVE_SOURCES = frozenset({"cli", "vscode"})  # what the TUI lists unless --include-non-interactive
NON_INTERACTIVE_SOURCES = frozenset({"exec", "mcp"})  # added by it (ThreadSourceKind Exec and AppServer)
DEFAULT_SOURCE = "vscode"  # SessionSource's default: a session_meta without `source` (listed by the TUI: seen)
# Codex 2026's thread database (0.169.0, 0.171.0): ``threads`` holds, per thread, rollout_path, cwd,
# model_provider, archived and updated_at_ms; ``backfill_state`` says whether it was built from the files.
STATE_DB = "state_5.sqlite"
BACKFILL_WINDOW_MS = 1000  # see _backfilled_ms
STATE_DB_TIMEOUT = 1.0  # seconds to wait for a Codex holding a lock (a reader of a WAL database rarely waits)



class Wanted:
    """Which sessions a resume considers. (A plain class: a NamedTuple costs the guard's start-up.)"""

    __slots__ = ("cwd", "provider", "sources")

    def __init__(self, provider: str | None, cwd: Path | None, sources: frozenset[str] | None = None) -> None:
        self.provider = provider  # only this model_provider's; None: any (the 2026 TUI)
        self.cwd = cwd  # only those of this folder; None: any (--all)
        self.sources = sources  # only these `source`s; None: any (codex exec)

    def takes_source(self, source: object) -> bool:
        if self.sources is None:
            return True
        return (source if isinstance(source, str) else DEFAULT_SOURCE if source is None else "") in self.sources


class _Row(Frozen):
    FIELDS = ("thread_id", "rollout_path", "cwd", "source")

    def __init__(self, thread_id: str, rollout_path: str, cwd: str | None, source: str | None) -> None:
        object.__setattr__(self, "thread_id", thread_id)
        object.__setattr__(self, "rollout_path", rollout_path)
        object.__setattr__(self, "cwd", cwd)
        object.__setattr__(self, "source", source)


def _state_db_rows(home: Path, wanted: Wanted) -> list[_Row] | None:
    """The candidates of ``state_5.sqlite`` for ``wanted``, newest first; None when Codex would not use
    the database as it is: absent, unreadable, or not built from the files yet (``backfill_state`` not
    ``complete``, in which case Codex rebuilds it from the files first). Opened read-only: nothing is
    ever written to it, and a Codex running meanwhile is not disturbed (readers of its WAL do not block)."""
    path = home / STATE_DB
    if not path.is_file():
        return None
    import sqlite3  # only for --last: `guard ID` before every resume need not load it (2 ms)

    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=STATE_DB_TIMEOUT)
    except (sqlite3.Error, ValueError):
        return None
    try:
        status = db.execute("SELECT status FROM backfill_state WHERE id = 1").fetchone()
        if status is None or status[0] != "complete":
            return None
        rows = db.execute(
            # `source` only when it is asked about: the --last of codex exec never needed that column
            f"SELECT id, rollout_path, cwd, {'source' if wanted.sources is not None else 'NULL'} FROM threads "
            f"WHERE archived = 0 {'AND model_provider = ?' if wanted.provider is not None else ''} "
            "ORDER BY updated_at_ms DESC, id DESC",  # SQLite puts NULL last in DESC, as Codex's order does
            (wanted.provider,) if wanted.provider is not None else (),
        ).fetchall()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    return [_Row(str(tid).lower(), path_, cwd if isinstance(cwd, str) else None,
                 source if isinstance(source, str) else None)
            for tid, path_, cwd, source in rows if isinstance(tid, str) and isinstance(path_, str)]


def _existing_rollout(recorded: str) -> Path | None:
    """The file a database row names, or its plain/compressed sibling (the plain one wins)."""
    path = Path(recorded)
    plain = path.with_name(path.name[: -len(".zst")]) if path.name.endswith(".zst") else path
    for candidate in (plain, plain.with_name(plain.name + ".zst")):
        if candidate.is_file():
            return candidate
    return None


def _from_state_db(rows: list[_Row], wanted: Wanted) -> Iterator[Session]:
    for row in rows:
        if not wanted.takes_source(row.source):
            continue
        path = _existing_rollout(row.rollout_path)
        if path is None:
            continue  # the database names a file that is gone: Codex skips it
        compressed = path.name.endswith(".zst")
        if in_folder(Tail(path, read_all(path) if compressed else None), row.cwd, wanted.cwd):
            yield Session(path, row.thread_id)


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
        ms = mtime_ms(entry)
        if top is not None and top - BACKFILL_WINDOW_MS < ms <= top:
            ms = top + 1
        updated[entry.path] = ms
        top = ms if top is None else max(top, ms)
    return updated


def _walk(home: Path, wanted: Wanted, provider: str, order: str, backfill: bool) -> Iterator[Session]:
    """The rollouts under ``sessions/`` that pass the filters, newest first (``provider``: the configured
    one, which a session_meta naming none counts as).

    ``backfill``: judge each file as Codex's backfill records it in the database (provider and folder of
    the latest thread_settings_applied first); else as Codex's own walk does (session_meta only)."""
    entries = prefer_plain(list(iter_rollouts(home / SESSIONS)))
    updated = _backfilled_ms(entries) if backfill else {}

    def key(entry: os.DirEntry[str]) -> tuple[object, ...]:
        match = NAME.match(entry.name)
        assert match is not None
        thread = match["thread"].lower()
        if order == "created":
            return (match["ts"], thread)
        return (updated[entry.path] if backfill else mtime_ms(entry), thread)

    for entry in sorted(entries, key=key, reverse=True):
        path = Path(entry.path)
        compressed = path.name.endswith(".zst")
        data = read_all(path) if compressed else None
        head = meta_of(data.split(b"\n", 1)[0] if data is not None else first_line(path))
        if head is None:
            continue
        tail = Tail(path, data)
        settings = tail.settings if backfill else {}
        session_provider = settings.get("model_provider_id") or head.provider or provider
        if wanted.provider is not None and session_provider != wanted.provider:
            continue
        if not wanted.takes_source(head.source):
            continue
        if not in_folder(tail, settings.get("cwd") or head.cwd, wanted.cwd):
            continue
        yield Session(path, NAME.match(path.name)["thread"].lower())  # type: ignore[index]


def newest(home: Path, wanted: Wanted, order: str = "updated", limit: int = 1) -> list[Session]:
    """The first ``limit`` sessions in the order Codex lists them for a resume (the module docstring has
    the steps); [] when none passes the filters."""
    configured = configured_provider(home)
    if order == "created":
        return list(islice(_walk(home, wanted, configured, order, backfill=False), limit))
    rows = _state_db_rows(home, wanted)
    found = (list(islice(_from_state_db(rows, wanted), limit)) if rows is not None
             else list(islice(_walk(home, wanted, configured, order, backfill=True), limit)))
    return found or list(islice(_walk(home, wanted, configured, order, backfill=False), limit))


def find_last(
    home: Path | None = None,
    cwd: Path | None = None,
    provider: str | None = None,
    order: str = "updated",
) -> Session:
    """The session ``codex exec resume --last`` resumes (see the module docstring for the steps).

    ``cwd=None`` means ``--all`` (no folder filter). ``provider=None`` reads it from config.toml."""
    home = home or codex_home()
    provider = provider or configured_provider(home)
    found = newest(home, Wanted(provider, cwd), order)
    if found:
        return found[0]
    where = f" for {cwd} (add --all for every folder)" if cwd is not None else ""
    raise SessionNotFound(f"no session of provider {provider!r} under {home / SESSIONS}{where}")
