"""A thread: one session as the client resumes it, which may span several files.

A client that forks or rewinds a session writes the new branch as a file of its own that continues a
parent's history up to a cut (Codex: ``session_meta.history_base``, formats/codex/lineage.py). What
the model is sent is the parent's records before the cut, then the file's own, recursively. The
pieces here say that much and no more; a format finds the parents (``Format.lineages``), the model
reads the chain (``model.read_model``), and the fixer keeps every child's cut pointing at the same
record when a fix changes its parent.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from rollout_doctor.core.plain import Plain


class Cut(NamedTuple):
    """Where a child's inherited history ends in its parent: the bytes before ``end_byte_offset``
    (whole lines only), whose records carry ordinals below ``end_ordinal_exclusive``."""

    end_byte_offset: int
    end_ordinal_exclusive: int


class Segment(NamedTuple):
    """One file of a thread's chain and the cut that ends its part (None for the file itself)."""

    path: Path
    rollout_id: str | None
    cut: Cut | None = None


class Ancestry(Plain):
    """A file and the files it continues, the root first: ``segments[-1]`` is the file itself.

    ``problem`` says why the chain stops short of a file that continues no other (the parent is
    missing, the pointer to it is malformed, a cycle): the history the client would send is then
    unknown, and the client refuses to resume."""

    FIELDS = ("segments", "problem")

    def __init__(self, segments: list[Segment], problem: str | None = None) -> None:
        self.segments = segments
        self.problem = problem

    @property
    def path(self) -> Path:
        return self.segments[-1].path

    @property
    def parents(self) -> list[Segment]:
        return self.segments[:-1]


class Inherited(NamedTuple):
    """One parent's part of a chain: its complete lines before ``cut.end_byte_offset``, read from
    ``read`` (the file itself, or the version a fix has planned for it) and reported as ``shown``."""

    shown: Path
    cut: Cut
    read: Path | None = None

    @property
    def source_path(self) -> Path:
        return self.read or self.shown


class ThreadInfo(NamedTuple):
    """Which thread a file belongs to and the files whose history it continues (root first)."""

    thread_id: str | None
    rollout_id: str | None
    parents: tuple[tuple[Path, str | None, int, int], ...] = ()  # (path, rollout id, end byte, end ordinal)
    problem: str | None = None


def inherited_of(ancestry: Ancestry, overrides: dict[Path, tuple[Path, dict[Path, Inherited]]]) -> list[Inherited]:
    """The parts a file inherits, root first. ``overrides`` replaces a parent's bytes and cut by a
    planned version (real parent path -> (its new version, real child path -> the child's new part))."""
    out = []
    segments = ancestry.segments
    for n, segment in enumerate(segments[:-1]):
        assert segment.cut is not None
        part = Inherited(segment.path, segment.cut)
        planned = overrides.get(Path(os.path.realpath(segment.path)))
        if planned is not None:
            child = Path(os.path.realpath(segments[n + 1].path))
            part = planned[1].get(child, Inherited(segment.path, segment.cut, planned[0]))
        out.append(part)
    return out


class Standalone:
    """The threads of a format whose files continue no other file: each file is a thread of its own."""

    def ancestry(self, path: Path) -> Ancestry:
        return Ancestry([Segment(path, None)])

    def children(self, path: Path) -> list[Path]:
        return []

    def declared_cut(self, path: Path) -> Cut | None:
        return None


class Unthreaded:
    """What ``Format`` asks of threads, answered for a format whose files continue no other file (Claude
    Code's: a resumed session appends to its own transcript)."""

    def threads(self) -> Standalone:
        return Standalone()

    def continues_another(self, path: Path) -> bool:
        return False

    def declared_cut(self, path: Path) -> Cut | None:
        return None

    def cut_problem(self, cut: Cut, parent_size: int, parent: Path) -> str | None:
        return None
