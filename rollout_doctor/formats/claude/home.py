"""Where Claude Code keeps transcripts, and what a transcript's name says.

``~/.claude/projects/<working directory, every / and . made ->/<session uuid>.jsonl`` (2.1.332; the
folder ``~/.claude`` moves with ``$CLAUDE_CONFIG_DIR``). The session uuid is what ``claude --resume``
takes.
"""

from __future__ import annotations

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
