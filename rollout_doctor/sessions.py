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
* **The newest** (``codex resume --last``, ``codex exec resume --last``): Codex 0.169-era
  ``resolve_resume_path`` lists ``sessions/`` (archived ones are not candidates) ordered by update
  time, which is the file's mtime (to the millisecond) when no state database is in play, newest
  first, ties broken by the higher uuid; it keeps only sessions of the configured
  ``model_provider`` (a session whose meta names none counts as that provider) and, unless ``--all``,
  only sessions whose ``session_meta.cwd``, or the ``cwd`` of their latest ``turn_context``, is the
  current folder. Releases before the 2026 ``UpdatedAt`` ordering (0.4x ``list_conversations``)
  ordered by the time in the file name instead and did not filter by folder; that order is offered
  as ``order="created"``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rollout_doctor.discovery import codex_home

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# rollout-<local time>-<thread uuid>[_<rollout uuid>].jsonl[.zst]
NAME = re.compile(
    r"^rollout-(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})-"
    r"(?P<thread>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"(?:_[0-9a-fA-F-]{36})?\.jsonl(?:\.zst)?$"
)
SESSIONS = "sessions"
ARCHIVED = "archived_sessions"
INDEX = "session_index.jsonl"
DEFAULT_PROVIDER = "openai"  # Codex's model_provider when config.toml names none
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
    """Rollout files under ``folder``, recursively; folders reached through symlinks are not entered."""
    stack = [str(folder)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.name.startswith("rollout-") and NAME.match(entry.name) and entry.is_file():
                    yield entry
            except OSError:
                continue


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


def _config(home: Path | None) -> dict[str, object]:
    try:
        import tomllib
    except ImportError:  # Python 3.10: no TOML reader in the standard library; use Codex's defaults
        return {}
    try:
        return tomllib.loads(((home or codex_home()) / "config.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def configured_provider(home: Path | None = None) -> str:
    """The ``model_provider`` Codex would use: the active profile's, else the top-level key, else openai.

    Command-line overrides (``-c model_provider=…``, ``--profile``) are not seen here."""
    config = _config(home)
    profiles, name = config.get("profiles"), config.get("profile")
    profile = profiles.get(name) if isinstance(profiles, dict) and isinstance(name, str) else None
    for table in (profile, config):
        if isinstance(table, dict) and isinstance(table.get("model_provider"), str):
            return table["model_provider"]
    return DEFAULT_PROVIDER


def configured_wire(home: Path | None = None) -> str:
    """``chat`` when the configured provider's ``wire_api`` is chat (0.77.0 and earlier accept it),
    else ``responses``, the only wire 2026 releases speak."""
    providers = _config(home).get("model_providers")
    table = providers.get(configured_provider(home)) if isinstance(providers, dict) else None
    return "chat" if isinstance(table, dict) and table.get("wire_api") == "chat" else "responses"


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


def _first_line(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            first = f.readline(HEAD_BYTES)
            if len(first) == HEAD_BYTES and not first.endswith(b"\n"):
                first += f.readline()  # a meta line longer than the buffer: read it whole
            return first
    except OSError:
        return b""


def _latest_turn_cwd(data: bytes) -> str | None:
    """The cwd of the last ``turn_context`` line: Codex 2026 matches it when session_meta.cwd differs."""
    import orjson

    end = len(data)
    while True:
        at = data.rfind(b'"type":"turn_context"', 0, end)
        if at < 0:
            return None
        start = data.rfind(b"\n", 0, at) + 1
        stop = data.find(b"\n", at)
        end = start
        try:
            line = orjson.loads(data[start : stop if stop >= 0 else len(data)])
        except orjson.JSONDecodeError:
            continue
        payload = line.get("payload") if isinstance(line, dict) else None
        if isinstance(payload, dict) and line.get("type") == "turn_context" and isinstance(payload.get("cwd"), str):
            return payload["cwd"]


def _latest_turn_cwd_of_file(path: Path) -> str | None:
    """``_latest_turn_cwd`` of a plain rollout, read from the end in growing windows: a turn_context is
    written at every turn, so the last one is near the end, and a long session in another folder costs
    a megabyte, not its whole size."""
    window = TAIL_BYTES
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            while True:
                start = max(0, size - window)
                f.seek(start)
                data = f.read(size - start)
                if start > 0:
                    data = data[data.find(b"\n") + 1 :] if b"\n" in data else b""  # whole lines only
                found = _latest_turn_cwd(data)
                if found is not None or start == 0:
                    return found
                window *= 4
    except OSError:
        return None


def _read_all(path: Path) -> bytes:
    try:
        if path.name.endswith(".zst"):
            import zstandard

            with open(path, "rb") as f:
                return zstandard.ZstdDecompressor().stream_reader(f).read()
        return path.read_bytes()
    except Exception:  # noqa: BLE001 - unreadable or corrupt (.zst): not a candidate, keep looking
        return b""


def same_folder(a: str, b: Path) -> bool:
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return False


def find_last(
    home: Path | None = None,
    cwd: Path | None = None,
    provider: str | None = None,
    order: str = "updated",
) -> Rollout:
    """The session ``codex exec resume --last`` resumes (see the module docstring).

    ``cwd=None`` means ``--all`` (no folder filter). ``provider=None`` reads it from config.toml."""
    home = home or codex_home()
    provider = provider or configured_provider(home)
    entries = _prefer_plain(list(_rollout_files(home / SESSIONS)))

    def key(entry: os.DirEntry[str]) -> tuple[object, ...]:
        match = NAME.match(entry.name)
        assert match is not None
        thread = match["thread"].lower()
        if order == "created":
            return (match["ts"], thread)
        return (_mtime_ms(entry), thread)

    for entry in sorted(entries, key=key, reverse=True):
        path = Path(entry.path)
        compressed = path.name.endswith(".zst")
        data = _read_all(path) if compressed else b""
        head = _meta_of(data.split(b"\n", 1)[0] if compressed else _first_line(path))
        if head is None or (head.provider or provider) != provider:
            continue
        if cwd is not None and not (head.cwd and same_folder(head.cwd, cwd)):
            turn_cwd = _latest_turn_cwd(data) if compressed else _latest_turn_cwd_of_file(path)
            if not (turn_cwd and same_folder(turn_cwd, cwd)):
                continue
        return Rollout(path, NAME.match(path.name)["thread"].lower())  # type: ignore[index]
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
