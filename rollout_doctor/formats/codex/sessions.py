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
* **By a prefix of the id** (rollout-doctor only, as git takes a commit's): a word of hex digits (and
  dashes) that is no thread name is the start of a thread id, matched in the names of the files under
  ``sessions/`` and ``archived_sessions/``. Files of one thread (a revert branch's) are one match; two
  threads that share it are an error naming them. UUIDv7 ids start with the time, so sessions made in
  the same minute share their first eight digits.
* **By name** (``codex resume NAME``): ``$CODEX_HOME/session_index.jsonl`` is read from the end; the
  first line whose ``thread_name`` equals NAME exactly (case-sensitive) gives the id. Newest wins.
* **The newest** (``--last``): last_session.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from rollout_doctor.formats.codex.home import ARCHIVED, ROLLOUT_NAME, SESSIONS, iter_rollouts
from rollout_doctor.formats.codex.home import SESSION_INDEX as INDEX
from rollout_doctor.formats.codex.home import UUID as UUID_PATTERN
from rollout_doctor.formats.codex.home import configured_home as codex_home
from rollout_doctor.formats.codex.last_session import find_last
from rollout_doctor.formats.codex.session_files import Session, SessionNotFound, mtime_ms, prefer_plain

UUID = re.compile(rf"^{UUID_PATTERN}$")
ID_PREFIX = re.compile(r"^[0-9a-f]{4}[0-9a-f-]{0,32}$", re.IGNORECASE)  # 4 digits at least, as git asks
NAME = ROLLOUT_NAME  # rollout-<local time>-<thread uuid>[_<rollout uuid>].jsonl[.zst]
SHOWN_CANDIDATES = 10


class AmbiguousSession(SessionNotFound):
    """A prefix that starts more than one thread id."""


def is_uuid(text: str) -> bool:
    return UUID.match(text) is not None


def is_id_prefix(text: str) -> bool:
    return ID_PREFIX.match(text) is not None


def threads_starting(prefix: str, home: Path) -> dict[str, Path]:
    """The thread ids that start with ``prefix`` (dashes ignored), each with one of its files."""
    wanted = prefix.lower().replace("-", "")
    found: dict[str, Path] = {}
    for sub in (SESSIONS, ARCHIVED):
        for entry in iter_rollouts(home / sub):
            thread = NAME.match(entry.name)["thread"].lower()  # type: ignore[index]
            if thread.replace("-", "").startswith(wanted):
                found.setdefault(thread, Path(entry.path))
    return found


def unique_thread(prefix: str, home: Path, found: dict[str, Path] | None = None) -> str:
    """The one thread id ``prefix`` starts; SessionNotFound when none, AmbiguousSession when several."""
    found = threads_starting(prefix, home) if found is None else found
    if len(found) == 1:
        return next(iter(found))
    if not found:
        raise SessionNotFound(f"no session id starts with {prefix!r} under {home / SESSIONS} or {home / ARCHIVED}")
    shown = [f"{thread} ({path.name})" for thread, path in sorted(found.items())[:SHOWN_CANDIDATES]]
    more = f", and {len(found) - SHOWN_CANDIDATES} more" if len(found) > SHOWN_CANDIDATES else ""
    raise AmbiguousSession(f"{prefix!r} starts {len(found)} session ids; give more of it: " + ", ".join(shown) + more)


def shortest_name(path: Path, home: Path | None = None) -> str | None:
    """The shortest prefix of ``path``'s thread id (8 digits at least) that names this very file in
    ``codex resume``, ``guard`` and ``check``; None when the file is not the one its id opens (another
    home, an older revert branch)."""
    match = NAME.match(path.name)
    home = home or codex_home()
    if match is None:
        return None
    thread = match["thread"].lower()
    others = [t.replace("-", "") for t in threads_starting(thread[:8], home) if t.lower() != thread]
    digits = thread.replace("-", "")
    length = next((n for n in range(8, len(digits) + 1) if not any(o.startswith(digits[:n]) for o in others)),
                  len(digits))
    name = prefix_with_dashes(thread, length)
    try:
        found = find_by_name_or_id(name, home).path
        return name if os.path.samefile(found, path) else None
    except (SessionNotFound, OSError):
        return None


def prefix_with_dashes(thread: str, digits: int) -> str:
    """The start of ``thread`` that holds ``digits`` hex digits (its dashes kept)."""
    seen = 0
    for index, char in enumerate(thread):
        if char != "-":
            seen += 1
            if seen == digits:
                return thread[:index + 1]
    return thread


def thread_files(thread_id: str, home: Path | None = None) -> list[Path]:
    """Every rollout of a thread, under ``sessions/`` and ``archived_sessions/``: a revert branch's too."""
    home = home or codex_home()
    return sorted(Path(e.path) for sub in (SESSIONS, ARCHIVED) for e in iter_rollouts(home / sub)
                  if NAME.match(e.name)["thread"].lower() == thread_id.lower())  # type: ignore[index]


def find_by_id(thread_id: str, home: Path | None = None) -> Session:
    """The rollout of a thread id, or of the one thread a prefix of an id starts."""
    home = home or codex_home()
    if is_id_prefix(thread_id) and not is_uuid(thread_id):
        thread_id = unique_thread(thread_id, home)
    if not is_uuid(thread_id):
        raise SessionNotFound(f"{thread_id!r} is not a session id (a uuid, or the start of one)")
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
    """``codex resume SESSION``: a uuid is an id; anything else is a thread name, as in Codex, and then,
    when no thread has that name, the start of an id."""
    home = home or codex_home()
    if is_uuid(session):
        return find_by_id(session, home)
    thread_id = thread_id_for_name(session, home)
    if thread_id is None and is_id_prefix(session):
        found = threads_starting(session, home)
        thread_id = unique_thread(session, home, found) if found else None
    if thread_id is None:
        also = ", and no session id starts with it" if is_id_prefix(session) else ""
        raise SessionNotFound(f"no session named {session!r} in {home / INDEX}{also}")
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
