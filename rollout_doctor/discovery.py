"""Finding the rollout files to look at.

Folders are walked without following symbolic links to folders (no escape from the tree, no loops);
a linked file is taken only when it resolves inside the folder being scanned. As in Codex, a plain
``.jsonl`` wins over a ``.jsonl.zst`` of the same session.
"""

from __future__ import annotations

import os
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
    return name.startswith("rollout-") and (name.endswith(".jsonl") or name.endswith(".jsonl.zst"))


def discover(paths: list[Path]) -> Iterator[Found]:
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            for found in _walk(path):
                key = found.path.resolve() if found.error is None else found.path
                if key not in seen:
                    seen.add(key)
                    yield found
        elif path.exists():
            if path.resolve() not in seen:
                seen.add(path.resolve())
                yield Found(path)
        else:
            yield Found(path, f"{path}: no such file or directory")


def _walk(root: Path) -> Iterator[Found]:
    real_root = root.resolve()
    stack = [root]
    files: list[Path] = []
    errors: list[Found] = []
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            errors.append(Found(folder, f"{folder}: {exc.strerror or exc}"))
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif is_rollout_name(entry.name) and entry.is_file(follow_symlinks=True):
                    if entry.is_symlink() and not Path(entry.path).resolve().is_relative_to(real_root):
                        continue
                    files.append(Path(entry.path))
            except OSError as exc:
                errors.append(Found(Path(entry.path), f"{entry.path}: {exc.strerror or exc}"))
    plain = {str(f) for f in files if f.name.endswith(".jsonl")}
    for path in sorted(files):
        if path.name.endswith(".zst") and str(path)[: -len(".zst")] in plain:
            continue
        yield Found(path)
    yield from errors
