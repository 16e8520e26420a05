"""What a person knows a Codex session by: the name they gave it, the project folder, the id.

* The name: ``$CODEX_HOME/session_index.jsonl`` is append-only ``{id, thread_name, updated_at}``; the
  newest entry of an id is its name (what ``codex resume NAME`` matches; sessions.py reads it the other
  way round). The index of the home the rollout sits in is read, else $CODEX_HOME's.
* The folder: the ``cwd`` of the session's latest ``turn_context`` (a session continued from another
  folder gets a turn_context there, and Codex's ``--last`` filter follows it: docs/codex-facts.md, "How
  `--last` chooses a session"), else ``session_meta.cwd``. Only the file's own lines count, as in
  Codex's filter; a fork with no turn of its own shows its own meta's folder.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from rollout_doctor.core.reports import SessionInfo
from rollout_doctor.formats.codex.home import SESSION_INDEX, configured_home, home_of, parse_name
from rollout_doctor.formats.codex.records import LineKind
from rollout_doctor.formats.codex.rollout import Rollout


def describe(path: Path, model: Rollout | None) -> SessionInfo:
    """The session of ``path``; read from ``model`` when there is one, else from the file's first line
    and its last megabyte. Never raises: what cannot be read is None."""
    name = parse_name(path)
    thread_id = name.thread_id if name else None
    try:
        stat = os.stat(path)
        updated, size = stat.st_mtime, stat.st_size
    except OSError:
        updated = size = None
    try:
        meta_id, cwd = _from_model(model) if model is not None else _from_file(path)
    except Exception:  # noqa: BLE001 - a file that cannot be read says nothing here; check reports it
        meta_id = cwd = None
    thread_id = thread_id or meta_id
    home = home_of(path) or configured_home()
    return SessionInfo(thread_id, thread_names(home / SESSION_INDEX).get(thread_id or ""), cwd, updated, size)


def continued(path: Path, previous: SessionInfo, cwd: str | None) -> SessionInfo:
    """``describe`` of a file that grew by lines that leave its report as it was (continuation.py): its
    id and name as before (session_index.jsonl is unchanged, or the report would not be kept), the folder
    of the last turn_context appended (``cwd``; None: none was appended, the folder is the one before),
    its time and size now."""
    try:
        stat = os.stat(path)
        updated, size = stat.st_mtime, stat.st_size
    except OSError:
        updated = size = None
    return previous._replace(cwd=previous.cwd if cwd is None else cwd, updated=updated, size=size)


def _from_model(model: Rollout) -> tuple[str | None, str | None]:
    meta = model.meta
    meta_id = meta.id if meta is not None and isinstance(meta.id, str) else None
    latest = model.kinds.rfind(LineKind.TURN_CONTEXT, model.own_start)
    if latest >= 0:
        cwd = _payload(model.parsed(latest)).get("cwd")
        if isinstance(cwd, str):
            return meta_id, cwd
    if meta is None or meta.legacy:
        return meta_id, None
    cwd = _payload(model.parsed(meta.line)).get("cwd")
    return meta_id, cwd if isinstance(cwd, str) else None


def _payload(line: Any) -> dict[str, Any]:
    payload = line.get("payload") if isinstance(line, dict) else None
    return payload if isinstance(payload, dict) else {}


def _from_file(path: Path) -> tuple[str | None, str | None]:
    """Without a model: as finding a session reads one (session_files.py), the first line and the end."""
    from rollout_doctor.formats.codex.session_files import Tail, first_line, meta_of, read_all

    compressed = path.name.endswith(".zst")
    data = read_all(path) if compressed else None
    head = meta_of(data.split(b"\n", 1)[0] if data is not None else first_line(path))
    turn_cwd = Tail(path, data).turn_cwd
    return None, turn_cwd if turn_cwd is not None else head.cwd if head is not None else None


def thread_names(index: Path) -> dict[str, str]:
    """Thread id -> name from a ``session_index.jsonl``: the newest entry of each id wins (a blank name
    is none). Read once per version of the file."""
    try:
        stat = os.stat(index)
    except OSError:
        return {}
    return _read_names(str(index), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _read_names(index: str, _mtime_ns: int, _size: int) -> dict[str, str]:
    import orjson

    try:
        with open(index, "rb") as f:
            data = f.read()
    except OSError:
        return {}
    names: dict[str, str] = {}
    for raw in data.splitlines():
        try:
            entry = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        name = entry.get("thread_name")
        key = entry["id"].lower()
        if isinstance(name, str) and name.strip():
            names[key] = name
        else:
            names.pop(key, None)
    return names
