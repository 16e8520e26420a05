"""Threads that span files: which parent a fork or a revert branch continues, and where.

Codex 0.169.0 and 0.171.0 write a fork (``codex exec fork``, ``/fork``) as a new rollout whose
``session_meta.history_base`` names the parent's file (``thread_id``: the parent's rollout id, see
home.py) and a cut: ``end_byte_offset`` and ``end_ordinal_exclusive``. 0.171.0 writes the same
for every ``thread/revert``. The file holds no copy of the parent's history: what the model is sent is
the parent's records before the cut, then the file's own, recursively for forks of forks.

What was seen with the real binaries (tests/test_lineage.py and tests/test_e2e_threads.py rerun it):

* the parent is looked up by its rollout id in the home's ``sessions/``, then ``archived_sessions/``;
  a parent that is in neither: "invalid paginated history lineage …: missing source rollout";
* the byte offset decides what the model is sent: the parent's complete lines before it (with the
  offset moved back by a whole turn and the ordinal left alone, that turn was not sent; with the
  ordinal moved and the offset left alone, it was); an offset inside a line drops that line;
* an offset past the parent's end: "cutoff byte offset is past the source rollout", and the session
  cannot be resumed at all (what a fix of the parent that shrinks it before the cut does);
* ``end_ordinal_exclusive`` 0: "cutoff cannot include source session metadata";
* the child's own ordinals continue from ``end_ordinal_exclusive`` (its session_meta carries it);
  renumbered from 0 they make 0.171.0 skip every line ("skipping duplicate or regressed rollout
  ordinal during projection").

This module only finds files and reads their first record; core/model.py builds the history of a
chain (``read_model``) and rules/history_base.py judges the cut.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from rollout_doctor.core.plain import Plain
from rollout_doctor.core.thread import Ancestry, Cut, Segment
from rollout_doctor.formats.codex import home as codex_home
from rollout_doctor.formats.codex.classify import BOM, line_facts
from rollout_doctor.formats.codex.records import HistoryBase, LineKind, Meta
from rollout_doctor.formats.codex.rollout import cut_of
from rollout_doctor.store.reading import ZSTD_SUFFIX, is_compressed, open_regular

HEAD_LIMIT = 64 << 20  # a session_meta line longer than this is not read (Codex's own limit is lower)
MAX_DEPTH = 64  # forks of forks; a longer chain is reported, not followed (a cycle is caught before)


def read_head(path: Path) -> Meta | None:
    """The session_meta (or legacy header) of a rollout: its first readable record, if it is one."""
    for content in _first_lines(path):
        kind, _ordinal, record = line_facts(content, 0)
        if kind in (LineKind.BLANK, LineKind.INVALID):
            continue
        return record if isinstance(record, Meta) else None
    return None


def _first_lines(path: Path, limit: int = 8) -> Iterator[bytes]:
    """The first few lines of a rollout (decompressed for a .zst), each without its terminator."""
    try:
        data = _head_bytes(path)
    except OSError:
        return
    for n, line in enumerate(data.split(b"\n")[:limit]):
        line = line.rstrip(b"\r")
        yield line[len(BOM):] if n == 0 and line.startswith(BOM) else line


def _head_bytes(path: Path) -> bytes:
    """Enough of the start of a file to hold its first few lines (a meta line can be long)."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as f:
        if not is_compressed(path):
            data = f.read(1 << 16)
            while data.count(b"\n") < 2 and len(data) < HEAD_LIMIT:
                more = f.read(len(data))
                if not more:
                    break
                data += more
            return data
        import zstandard

        out = bytearray()
        reader = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
        while out.count(b"\n") < 2 and len(out) < HEAD_LIMIT:
            try:
                chunk = reader.read(1 << 16)
            except zstandard.ZstdError:
                break
            if not chunk:
                break
            out += chunk
        return bytes(out)


class _Place(Plain):
    """Where parents and children of a file are looked up: a Codex home (``sessions/`` then
    ``archived_sessions/``, as Codex does), or, for a file outside any home, its own folder."""

    FIELDS = ("roots", "by_rollout_id", "children")

    def __init__(self, roots: tuple[tuple[Path, bool], ...], by_rollout_id: dict[str, Path] | None = None,
                 children: dict[str, list[Path]] | None = None) -> None:
        self.roots = roots  # (folder, recursive), in lookup order
        self.by_rollout_id = by_rollout_id
        self.children = children

    def files(self) -> Iterator[Path]:
        for folder, recursive in self.roots:
            yield from (Path(entry.path) for entry in codex_home.iter_rollouts(folder, recursive))

    def find(self, rollout_id: str) -> Path | None:
        if self.by_rollout_id is None:
            found: dict[str, Path] = {}
            for path in self.files():
                name = codex_home.parse_name(path)
                if name is None:
                    continue
                known = found.get(name.rollout_id)
                # The first root wins (sessions/ before archived_sessions/); within one, a plain .jsonl
                # wins over a .jsonl.zst of the same name, as in Codex.
                if known is None or (is_compressed(known) and not is_compressed(path)
                                     and known.parent == path.parent):
                    found[name.rollout_id] = path
            self.by_rollout_id = found
        return self.by_rollout_id.get(rollout_id)

    def children_of(self, rollout_id: str) -> list[Path]:
        if self.children is None:
            children: dict[str, list[Path]] = {}
            for path in self.files():
                if path.name.endswith(ZSTD_SUFFIX) and path.with_name(path.name[: -len(ZSTD_SUFFIX)]).exists():
                    continue  # Codex reads the plain file
                meta = read_head(path)
                base = meta.history_base if meta is not None else None
                if base is not None and base.rollout_id is not None:
                    children.setdefault(base.rollout_id.lower(), []).append(path)
            self.children = children
        return sorted(self.children.get(rollout_id, []))


class Lineages(Plain):
    """Resolves chains for one run: each home is listed once, each head read once."""

    FIELDS = ("places", "heads", "ancestries")

    def __init__(self, places: dict[Path, _Place] | None = None, heads: dict[Path, Meta | None] | None = None,
                 ancestries: dict[Path, Ancestry] | None = None) -> None:
        self.places = {} if places is None else places
        self.heads = {} if heads is None else heads
        self.ancestries = {} if ancestries is None else ancestries

    def head(self, path: Path) -> Meta | None:
        key = Path(os.path.realpath(path))
        if key not in self.heads:
            self.heads[key] = read_head(path)
        return self.heads[key]

    def place_of(self, path: Path) -> _Place:
        home = codex_home.home_of(path)
        if home is not None:
            roots = ((home / codex_home.SESSIONS, True), (home / codex_home.ARCHIVED, False))
        else:
            folder = Path(os.path.realpath(path)).parent
            roots = ((folder, False),)
        key = roots[0][0]
        if key not in self.places:
            self.places[key] = _Place(roots)
        return self.places[key]

    def ancestry(self, path: Path) -> Ancestry:
        """The chain of files whose history ``path`` continues, as Codex resolves it."""
        key = Path(os.path.realpath(path))
        if key not in self.ancestries:
            self.ancestries[key] = self._resolve(path)
        return self.ancestries[key]

    def _resolve(self, path: Path) -> Ancestry:
        meta = self.head(path)
        name = codex_home.parse_name(path)
        own_id = name.rollout_id if name else None
        segments = [Segment(path, own_id)]
        seen = {Path(os.path.realpath(path))}
        current = meta
        while current is not None and current.history_base is not None:
            base: HistoryBase = current.history_base
            if base.problem is not None or base.rollout_id is None:
                return Ancestry(segments, base.problem or "history_base has no thread_id")
            if len(segments) > MAX_DEPTH:
                return Ancestry(segments, f"the chain of parents is longer than {MAX_DEPTH} files")
            parent = self.place_of(segments[0].path).find(base.rollout_id.lower())
            if parent is None:
                home = codex_home.home_of(segments[0].path)
                where = (f"sessions/ or archived_sessions/ of {home}" if home is not None
                         else "the folder of this file (which lies outside any Codex home)")
                return Ancestry(segments, f"its parent rollout {base.rollout_id} is not in {where}")
            real = Path(os.path.realpath(parent))
            if real in seen:
                return Ancestry(segments, f"its chain of parents loops back to {parent}")
            seen.add(real)
            assert base.end_byte_offset is not None and base.end_ordinal_exclusive is not None
            segments.insert(0, Segment(parent, base.rollout_id.lower(),
                                       Cut(base.end_byte_offset, base.end_ordinal_exclusive)))
            current = self.head(parent)
        return Ancestry(segments, None)

    def declared_cut(self, path: Path) -> Cut | None:
        meta = self.head(path)
        return cut_of(meta.history_base if meta is not None else None)

    def children(self, path: Path) -> list[Path]:
        """The files whose history_base names ``path`` (forks and revert branches of it)."""
        name = codex_home.parse_name(path)
        if name is None:
            return []
        real = Path(os.path.realpath(path))
        return [child for child in self.place_of(path).children_of(name.rollout_id)
                if Path(os.path.realpath(child)) != real
                and self._parent_is(child, real)]

    def _parent_is(self, child: Path, parent: Path) -> bool:
        ancestry = self.ancestry(child)
        return len(ancestry.segments) >= 2 and Path(os.path.realpath(ancestry.segments[-2].path)) == parent


def cut_problem(cut: Cut, parent_size: int, parent: Path) -> str | None:
    """Why Codex cannot use a history_base's cut at all (seen with 0.171.0, see above)."""
    if cut.end_ordinal_exclusive <= 0:
        return "its history_base ends before the parent's session_meta (end_ordinal_exclusive 0)"
    if cut.end_byte_offset > parent_size:
        return (f"its history_base ends at byte {cut.end_byte_offset}, past the end of {parent} "
                f"({parent_size} bytes): the parent changed after the fork")
    if cut.end_byte_offset < 0:
        return f"its history_base ends at byte {cut.end_byte_offset}"
    return None
