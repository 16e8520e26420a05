"""Finding the session files to look at, and which format each is in.

A folder is walked without ever leaving it: symbolic links to folders are not followed, folders
already seen (by device and inode: bind mounts can loop too) are not entered twice, and a linked
file is taken only when it resolves inside the folder being scanned. Whatever cannot be read is
reported and skipped, and the walk goes on; so is an entry named like a rollout that is not a regular
file (a FIFO would block a read forever). A plain ``.jsonl`` wins over a ``.jsonl.zst`` of
the same session. Files rollout-doctor itself leaves (``.rollout-doctor-*``) never match: they neither
start with ``rollout-`` nor end in ``.jsonl``.

A file given by name is taken only if a format owns it: it is named like one of its session files, or
its first record says it is one (``Format.owns_content``). Anything else (``config.toml``, notes) is
reported and never touched: its lines would all be "invalid lines" whose removal is a fix.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from rollout_doctor.core.format import Format


class Found(NamedTuple):
    path: Path
    error: str | None = None
    format: Format | None = None  # whose session file it is (None with an error)


def _reason(path: Path, exc: OSError) -> str:
    return f"{path}: {exc.strerror or exc}"


def discover(paths: list[Path], formats: Sequence[Format]) -> Iterator[Found]:
    seen: set[Path] = set()
    for path in paths:
        try:
            st = os.stat(path)  # a path given by name is followed, link or not: the user chose it
        except OSError as exc:
            yield Found(path, _reason(path, exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            for found in _walk(path, formats):
                key = Path(os.path.realpath(found.path)) if found.error is None else found.path
                if key not in seen:
                    seen.add(key)
                    yield found
        elif stat.S_ISREG(st.st_mode):
            key = Path(os.path.realpath(path))
            if key not in seen:
                seen.add(key)
                fmt = owner(path, formats)
                yield Found(path, format=fmt) if fmt is not None else Found(path, not_ours(path, formats))
        else:
            yield Found(path, f"{path}: not a regular file")


def _walk(root: Path, formats: Sequence[Format]) -> Iterator[Found]:
    real_root = Path(os.path.realpath(root))
    stack = [root]
    visited: set[tuple[int, int]] = set()
    files: list[tuple[Path, Format]] = []
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
                    continue
                fmt = next((f for f in formats if f.owns_name(entry.name)), None)
                if fmt is not None and _taken(entry, real_root):
                    files.append((Path(entry.path), fmt))
                elif fmt is not None and not entry.is_symlink() and not entry.is_file(follow_symlinks=False):
                    errors.append(Found(Path(entry.path), f"{entry.path}: named like a {fmt.file_noun} but not a "
                                                          "regular file; skipped"))
            except OSError as exc:
                errors.append(Found(Path(entry.path), _reason(Path(entry.path), exc)))
    plain = {str(f) for f, _fmt in files if f.name.endswith(".jsonl")}
    for path, fmt in sorted(files, key=lambda found: found[0]):
        if path.name.endswith(".zst") and str(path)[: -len(".zst")] in plain:
            continue
        yield Found(path, format=fmt)
    yield from errors


def owner(path: Path, formats: Sequence[Format]) -> Format | None:
    """The format a file given by name belongs to: by its name, else by its first records."""
    by_name = next((f for f in formats if f.owns_name(path.name)), None)
    return by_name or next((f for f in formats if f.owns_content(path)), None)


def not_ours(path: Path, formats: Sequence[Format]) -> str:
    if len(formats) == 1:
        return formats[0].not_ours(path)
    return f"{path}: not a {' nor a '.join(f.session_noun for f in formats)}; left as it is"


def _taken(entry: os.DirEntry[str], real_root: Path) -> bool:
    """A regular file, or a link to one that stays inside the folder being scanned."""
    if not entry.is_symlink():
        return entry.is_file(follow_symlinks=False)
    target = Path(os.path.realpath(entry.path))
    return target.is_file() and (target == real_root or real_root in target.parents)
