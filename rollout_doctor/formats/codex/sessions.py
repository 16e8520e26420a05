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
* **The newest** (``--last``): last_session.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from rollout_doctor.formats.codex.home import ARCHIVED, ROLLOUT_NAME, SESSIONS, iter_rollouts
from rollout_doctor.formats.codex.home import SESSION_INDEX as INDEX
from rollout_doctor.formats.codex.home import UUID as UUID_PATTERN
from rollout_doctor.formats.codex.home import configured_home as codex_home
from rollout_doctor.formats.codex.last_session import find_last
from rollout_doctor.formats.codex.session_files import Session, SessionNotFound, mtime_ms, prefer_plain

UUID = re.compile(rf"^{UUID_PATTERN}$")
NAME = ROLLOUT_NAME  # rollout-<local time>-<thread uuid>[_<rollout uuid>].jsonl[.zst]


def is_uuid(text: str) -> bool:
    return UUID.match(text) is not None


def find_by_id(thread_id: str, home: Path | None = None) -> Session:
    if not is_uuid(thread_id):
        raise SessionNotFound(f"{thread_id!r} is not a session id (a uuid)")
    home = home or codex_home()
    wanted = thread_id.lower()
    for sub, archived in ((SESSIONS, False), (ARCHIVED, True)):
        matches = [e for e in iter_rollouts(home / sub) if NAME.match(e.name)["thread"].lower() == wanted]  # type: ignore[index]
        matches = prefer_plain(matches)
        if matches:
            best = max(matches, key=lambda e: (mtime_ms(e), e.name))
            return Session(Path(best.path), wanted, archived)
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


def find_by_name_or_id(session: str, home: Path | None = None) -> Session:
    """``codex resume SESSION``: a uuid is an id; anything else is a thread name."""
    home = home or codex_home()
    if is_uuid(session):
        return find_by_id(session, home)
    thread_id = thread_id_for_name(session, home)
    if thread_id is None:
        raise SessionNotFound(f"no session named {session!r} in {home / INDEX}")
    return find_by_id(thread_id, home)


def resolve(session: str | None, last: bool, all_folders: bool = False, home: Path | None = None,
            cwd: Path | None = None, order: str = "updated") -> Session:
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
