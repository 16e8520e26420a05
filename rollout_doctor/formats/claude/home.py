"""Where Claude Code keeps transcripts, and what a transcript's name says.

``~/.claude/projects/<working directory, every / and . made ->/<session uuid>.jsonl`` (2.1.332; the
folder ``~/.claude`` moves with ``$CLAUDE_CONFIG_DIR``). The session uuid is what ``claude --resume``
takes.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

PROJECTS = "projects"
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def configured_home() -> Path:
    """``$CLAUDE_CONFIG_DIR``, else ``~/.claude``."""
    return Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude").expanduser()


def default_roots() -> list[Path]:
    return [configured_home() / PROJECTS]


def is_transcript_name(name: str) -> bool:
    return name.endswith(".jsonl") and UUID.match(name[: -len(".jsonl")]) is not None


def session_id(path: Path) -> str | None:
    name = path.name
    return name[: -len(".jsonl")].lower() if is_transcript_name(name) else None


def project_folder(cwd: Path) -> str:
    """The folder name Claude Code gives a working directory's transcripts."""
    return re.sub(r"[^A-Za-z0-9]", "-", str(cwd))


def find_session(session: str, home: Path | None = None) -> Path | None:
    """The transcript of a session uuid (or of a unique prefix of one), in any project."""
    root = (home or configured_home()) / PROJECTS
    wanted = session.lower()
    found = sorted(p for p in root.glob("*/*.jsonl") if (sid := session_id(p)) and sid.startswith(wanted))
    exact = [p for p in found if session_id(p) == wanted]
    return (exact or found)[0] if len(exact or found) == 1 else None


def latest_in(cwd: Path, home: Path | None = None) -> Path | None:
    """The transcript ``claude --continue`` takes up in ``cwd``: the newest of its project folder."""
    folder = (home or configured_home()) / PROJECTS / project_folder(cwd)
    found = [p for p in folder.glob("*.jsonl") if is_transcript_name(p.name)]
    return max(found, key=lambda p: p.stat().st_mtime_ns) if found else None


def session_stores(paths: list[Path]) -> list[Path]:
    """The folders Claude Code searches for sessions: its configured home's, and those ``paths`` sit in."""
    stores = [configured_home() / PROJECTS]
    for path in paths:
        for folder in Path(os.path.realpath(path)).parents:
            if folder.name == PROJECTS:
                stores.append(folder)
                break
    return [Path(os.path.realpath(p)) for p in dict.fromkeys(stores)]


def writer_locks(path: Path) -> list[Path]:
    """Claude Code holds no lock file for a transcript (2.1.332); a live writer is found by its open
    descriptors alone (store/liveness.py)."""
    return []


SESSIONS = "sessions"  # <home>/sessions/<pid>.json: one per running claude, removed as it exits (2.1.332)


def homes_of(path: Path) -> list[Path]:
    """The Claude homes a transcript may belong to: the one it sits in, and the configured one."""
    homes = [folder.parent for folder in Path(os.path.realpath(path)).parents if folder.name == PROJECTS][:1]
    return list(dict.fromkeys([*homes, configured_home()]))


def _started(pid: int) -> str | None:
    """A process's start time in clock ticks (/proc/PID/stat field 22), which 2.1.332 records as procStart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def running_sessions(path: Path) -> list[int]:
    """The pids of running claude processes whose session is the transcript's, from the registry 2.1.332
    keeps of its running sessions; a record whose process is gone (or is another process now) is stale."""
    sid = session_id(path)
    if sid is None:
        return []
    pids = []
    for home in homes_of(path):
        for record in (home / SESSIONS).glob("*.json"):
            try:
                data = json.loads(record.read_bytes())
            except (OSError, ValueError):
                continue
            if not isinstance(data, dict) or str(data.get("sessionId", "")).lower() != sid:
                continue
            pid = data.get("pid")
            started = _started(pid) if isinstance(pid, int) else None
            if started is not None and str(data.get("procStart", started)) == started:
                pids.append(pid)
    return sorted(set(pids))
