"""Finding the rollout files to look at.

A folder is walked without ever leaving it: symbolic links to folders are not followed, folders
already seen (by device and inode: bind mounts can loop too) are not entered twice, and a linked
file is taken only when it resolves inside the folder being scanned. Whatever cannot be read is
reported and skipped, and the walk goes on. As in Codex, a plain ``.jsonl`` wins over a
``.jsonl.zst`` of the same session. Files rollout-doctor itself leaves (``.rollout-doctor-*``) never
match: they neither start with ``rollout-`` nor end in ``.jsonl``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Found:
    path: Path
    error: str | None = None


def codex_home() -> Path:
    return Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex").expanduser()


def default_roots() -> list[Path]:
    home = codex_home()
    return [home / "sessions", home / "archived_sessions"]


def is_rollout_name(name: str) -> bool:
    return name.startswith("rollout-") and name.endswith((".jsonl", ".jsonl.zst"))


def _reason(path: Path, exc: OSError) -> str:
    return f"{path}: {exc.strerror or exc}"


def discover(paths: list[Path]) -> Iterator[Found]:
    seen: set[Path] = set()
    for path in paths:
        try:
            st = os.stat(path)  # a path given by name is followed, link or not: the user chose it
        except OSError as exc:
            yield Found(path, _reason(path, exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            for found in _walk(path):
                key = Path(os.path.realpath(found.path)) if found.error is None else found.path
                if key not in seen:
                    seen.add(key)
                    yield found
        elif stat.S_ISREG(st.st_mode):
            key = Path(os.path.realpath(path))
            if key not in seen:
                seen.add(key)
                yield Found(path)
        else:
            yield Found(path, f"{path}: not a regular file")


def _walk(root: Path) -> Iterator[Found]:
    real_root = Path(os.path.realpath(root))
    stack = [root]
    visited: set[tuple[int, int]] = set()
    files: list[Path] = []
    errors: list[Found] = []
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
            if (st.st_dev, st.st_ino) in visited:
                continue
            visited.add((st.st_dev, st.st_ino))
            entries = list(os.scandir(folder))
        except OSError as exc:
            errors.append(Found(folder, _reason(folder, exc)))
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif is_rollout_name(entry.name) and _taken(entry, real_root):
                    files.append(Path(entry.path))
            except OSError as exc:
                errors.append(Found(Path(entry.path), _reason(Path(entry.path), exc)))
    plain = {str(f) for f in files if f.name.endswith(".jsonl")}
    for path in sorted(files):
        if path.name.endswith(".zst") and str(path)[: -len(".zst")] in plain:
            continue
        yield Found(path)
    yield from errors


def _taken(entry: os.DirEntry[str], real_root: Path) -> bool:
    """A regular file, or a link to one that stays inside the folder being scanned."""
    if not entry.is_symlink():
        return entry.is_file(follow_symlinks=False)
    target = Path(os.path.realpath(entry.path))
    return target.is_file() and (target == real_root or real_root in target.parents)
