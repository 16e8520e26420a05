"""Threads that span files, for tests: the real recorded forks (fixtures/threads) copied into a scratch
home, and edits that keep a child's history_base pointing where Codex would have pointed it.

    home = copy_thread(tmp_path, "0.171.0-fork")
    parent, child = home.files
    break_before_fork(parent, [child], BREAKERS["orphan-call"])   # a defect the parent had when forked
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.breakers import Broken

ROOT = Path(__file__).resolve().parents[2]
THREADS = ROOT / "fixtures" / "threads"
ORDINAL = re.compile(rb'"ordinal":(-?\d+)')


@dataclass(frozen=True)
class Home:
    path: Path  # a CODEX_HOME: files under sessions/

    @property
    def sessions(self) -> Path:
        return self.path / "sessions"

    @property
    def files(self) -> list[Path]:
        """The rollouts, oldest first (the parent before its forks)."""
        return sorted(self.sessions.rglob("rollout-*.jsonl"), key=lambda p: p.name)


def copy_thread(root: Path, scenario: str) -> Home:
    home = root / "codex-home"
    shutil.copytree(THREADS / scenario / "sessions", home / "sessions")
    return Home(home)


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def meta_of(path: Path) -> dict[str, Any]:
    return json.loads(lines_of(path)[0])


def history_base(path: Path) -> dict[str, Any]:
    return meta_of(path)["payload"]["history_base"]


def renumber(lines: list[bytes], start: int) -> list[bytes]:
    """Ordinals start, start + 1, … over the lines that carry one, as Codex numbers what it writes."""
    out, n = [], start
    for line in lines:
        if ORDINAL.search(line):
            out.append(ORDINAL.sub(b'"ordinal":%d' % n, line, count=1))
            n += 1
        else:
            out.append(line)
    return out


def set_cut(child: Path, end_byte_offset: int, end_ordinal_exclusive: int, renumber_child: bool = True) -> None:
    """Point ``child``'s history_base (and forked_from_ordinal_exclusive) at a new cut, its own ordinals
    continuing from it: what Codex writes when it forks at that point."""
    lines = lines_of(child)
    meta = json.loads(lines[0])
    payload = meta["payload"]
    old = payload["history_base"]["end_ordinal_exclusive"]
    payload["history_base"].update(end_byte_offset=end_byte_offset, end_ordinal_exclusive=end_ordinal_exclusive)
    if payload.get("forked_from_ordinal_exclusive") == old:
        payload["forked_from_ordinal_exclusive"] = end_ordinal_exclusive
    lines[0] = json.dumps(meta, separators=(",", ":")).encode() + b"\n"
    child.write_bytes(b"".join(renumber(lines, end_ordinal_exclusive) if renumber_child else lines))


def last_ordinal(data: bytes) -> int:
    return max(int(m) for m in ORDINAL.findall(data))


def break_before_fork(parent: Path, children: list[Path], breaker: Callable[[bytes], Broken]) -> Broken:
    """Break the parent one way and re-point each child forked at the parent's end at the new end: as if
    the defect had been there when the user forked the session."""
    before = parent.read_bytes()
    forked_at_end = [c for c in children if history_base(c)["end_byte_offset"] == len(before)]
    broken = breaker(before)
    parent.write_bytes(broken.data)
    for child in forked_at_end:
        set_cut(child, len(broken.data), last_ordinal(broken.data) + 1)
    return broken
