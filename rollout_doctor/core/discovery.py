"""Finding the rollout files to look at.

A folder is walked without ever leaving it: symbolic links to folders are not followed, folders
already seen (by device and inode: bind mounts can loop too) are not entered twice, and a linked
file is taken only when it resolves inside the folder being scanned. Whatever cannot be read is
reported and skipped, and the walk goes on; so is an entry named like a rollout that is not a regular
file (a FIFO would block a read forever). As in Codex, a plain ``.jsonl`` wins over a ``.jsonl.zst`` of
the same session. Files rollout-doctor itself leaves (``.rollout-doctor-*``) never match: they neither
start with ``rollout-`` nor end in ``.jsonl``.

A file given by name is taken only if it is a rollout: named like one, or its first readable record
is a session_meta (or a legacy header). Anything else (``config.toml``, notes) is reported and never
touched: its lines would all be "invalid lines" whose removal is a fix.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rollout_doctor.formats.codex.home import is_rollout_name


@dataclass(frozen=True)
class Found:
    path: Path
    error: str | None = None



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
                yield Found(path) if is_rollout(path) else Found(path, f"{path}: not a Codex rollout (neither named "
                                                                        "rollout-*.jsonl nor starting with a "
                                                                        "session_meta); left as it is")
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
                elif is_rollout_name(entry.name) and not entry.is_symlink() and not entry.is_file(follow_symlinks=False):
                    errors.append(Found(Path(entry.path), f"{entry.path}: named like a rollout but not a regular file; "
                                                          "skipped"))
            except OSError as exc:
                errors.append(Found(Path(entry.path), _reason(Path(entry.path), exc)))
    plain = {str(f) for f in files if f.name.endswith(".jsonl")}
    for path in sorted(files):
        if path.name.endswith(".zst") and str(path)[: -len(".zst")] in plain:
            continue
        yield Found(path)
    yield from errors


def is_rollout(path: Path) -> bool:
    """Named like a rollout, or holding one: its first readable record is a session_meta or a legacy
    header (lineage.read_head reads a few lines, decompressing a .zst)."""
    if is_rollout_name(path.name):
        return True
    from rollout_doctor.formats.codex.lineage import read_head

    return read_head(path) is not None


def _taken(entry: os.DirEntry[str], real_root: Path) -> bool:
    """A regular file, or a link to one that stays inside the folder being scanned."""
    if not entry.is_symlink():
        return entry.is_file(follow_symlinks=False)
    target = Path(os.path.realpath(entry.path))
    return target.is_file() and (target == real_root or real_root in target.parents)
