"""The line-indexed model of one rollout, or of the chain of files a fork continues.

Only offsets, a kind per line, ordinals and the small records the rules need are kept; the bytes of a
line are read again from the source when a fix or a report needs them. That keeps a 1 GB rollout in a
few tens of MB and makes byte-exact write-back trivial: an untouched line is copied, never rebuilt.

A fork or a revert branch (lineage.py) is modelled with its history: the lines of each parent before
its cut come first, numbered 0, 1, 2, ... like the file's own lines after them, so the rules see what
Codex would send. ``own_start`` is the first line of the file itself; a fix only ever edits lines from
there on, and ``locate`` says which file and line an inherited line is.
"""

from __future__ import annotations

import gc
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from rollout_doctor.formats.codex.home import thread_id_from_name
from rollout_doctor.formats.codex.facts import BOM, Compacted, Invalid, LineKind, Meta, Record, describe_invalid, line_facts
from rollout_doctor.formats.codex.lineage import Cut
from rollout_doctor.core.lines import LINE_LIMIT, Source, Spliced, iter_blocks, split_terminator

if TYPE_CHECKING:
    from rollout_doctor.formats.codex.fastfacts import BlockFacts  # imported where indexing starts: msgspec, simdjson

ORDINAL_ABSENT = -1
ORDINAL_NOT_INT = -2

__all__ = ["Inherited", "Link", "Rollout", "read_rollout", "thread_id_from_name"]


@dataclass(frozen=True)
class Inherited:
    """One parent's part of a chain: its complete lines before ``cut.end_byte_offset``, read from
    ``read`` (the rollout itself, or the version a fix has planned for it) and reported as ``shown``."""

    shown: Path
    cut: Cut
    read: Path | None = None

    @property
    def source_path(self) -> Path:
        return self.read or self.shown


@dataclass(frozen=True)
class Link:
    """What was found at one cut while the chain was read (rules/history_base.py judges it)."""

    parent: Path
    cut: Cut
    parent_size: int
    end: int  # where the inherited part really ends: the last line boundary at or before the cut
    last_ordinal: int | None  # of the last record before ``end``
    first_line: int  # the parent's first line in the model
    lines: int  # how many of its lines the model holds
    problem: str | None = None  # why Codex cannot use this cut at all (then no line of it is inherited)


@dataclass(frozen=True)
class FileSpan:
    path: Path
    first: int  # the model line of the file's line 0
    count: int


@dataclass
class Rollout:
    path: Path
    source: Source | Spliced
    offsets: array = field(default_factory=lambda: array("q"))  # n + 1 entries: starts, then the size
    kinds: bytearray = field(default_factory=bytearray)
    ordinals: array = field(default_factory=lambda: array("q"))
    records: dict[int, Record] = field(default_factory=dict)
    bom_lines: frozenset[int] = frozenset()  # lines that start with a byte order mark (a file's line 0)
    # The path whose name says which session this is. While fix works through temporary passes,
    # ``path`` is a scratch file and this stays the rollout's own name (session-meta checks it).
    named: Path | None = None
    own_start: int = 0  # the first line of this file; the lines before it are inherited from parents
    spans: tuple[FileSpan, ...] = ()
    links: tuple[Link, ...] = ()
    chain_problem: str | None = None  # why the parents' history could not be read (lineage.Ancestry)

    @property
    def name_path(self) -> Path:
        return self.named or self.path

    def __len__(self) -> int:
        return len(self.kinds)

    @property
    def size(self) -> int:
        return self.offsets[-1] if self.offsets else 0

    @property
    def has_bom(self) -> bool:
        return self.own_start in self.bom_lines

    @property
    def own_lines(self) -> range:
        return range(self.own_start, len(self.kinds))

    def locate(self, line: int) -> tuple[Path | None, int]:
        """The file an inherited line comes from and its line there; (None, line) for the file's own."""
        if line >= self.own_start:
            return None, line - self.own_start
        for span in self.spans:
            if span.first <= line < span.first + span.count:
                return span.path, line - span.first
        raise IndexError(line)

    def kind(self, line: int) -> LineKind:
        return LineKind(self.kinds[line])

    def raw(self, line: int) -> bytes:
        start = self.offsets[line]
        return self.source.read(start, self.offsets[line + 1] - start)

    def content(self, line: int) -> bytes:
        content = split_terminator(self.raw(line))[0]
        return content[len(BOM) :] if line in self.bom_lines else content

    def terminator(self, line: int) -> bytes:
        start, end = self.offsets[line], self.offsets[line + 1]
        return split_terminator(self.source.read(max(start, end - 2), min(2, end - start)))[1]

    def head(self, line: int, length: int) -> bytes:
        """The first ``length`` bytes of a line: enough to recognise it without reading all of a long one."""
        start = self.offsets[line]
        return self.source.read(start, min(length, self.offsets[line + 1] - start))

    def oversized(self, line: int) -> bool:
        record = self.records.get(line)
        return isinstance(record, Invalid) and record.oversized

    def parsed(self, line: int) -> Any:
        return orjson.loads(self.content(line))

    def ordinal(self, line: int) -> int | None | bool:
        value = self.ordinals[line]
        return None if value == ORDINAL_ABSENT else False if value == ORDINAL_NOT_INT else value

    # meta and generation are asked for by every rule and every fix edit; the model does not change once
    # read_rollout or assemble has built it, so each is found once.
    @cached_property
    def meta(self) -> Meta | None:
        """The file's own session_meta (or legacy header): its first from ``own_start`` on. Found with
        bytearray.find, where sorting the records took 0.1 s on a 1 GB rollout."""
        found = [at for at in (self.kinds.find(LineKind.SESSION_META, self.own_start),
                               self.kinds.find(LineKind.LEGACY_HEADER, self.own_start)) if at >= 0]
        record = self.records.get(min(found)) if found else None
        return record if isinstance(record, Meta) else None

    @property
    def first_meaningful_line(self) -> int | None:
        for line in self.own_lines:
            if self.kinds[line] not in (LineKind.BLANK, LineKind.INVALID):
                return line
        return None

    @property
    def first_ordinal(self) -> int:
        """The ordinal the file's first record should carry: where its parent's history ends (a fork
        continues the numbering, 0.169.0 and 0.171.0), else 0."""
        base = self.meta.history_base if self.meta is not None else None
        if self.own_start and self.links and self.links[-1].last_ordinal is not None:
            return self.links[-1].last_ordinal + 1
        if base is not None and base.end_ordinal_exclusive is not None and base.end_ordinal_exclusive > 0:
            return base.end_ordinal_exclusive
        return 0

    @cached_property
    def generation(self) -> str:
        """``legacy``, ``envelope``, ``paginated`` or ``unknown``, decided by the session's meta line."""
        meta = self.meta
        if meta is None:
            own = self.kinds[self.own_start:]
            if LineKind.LEGACY_HEADER in own or LineKind.LEGACY_STATE in own:
                return "legacy"
            return "unknown"
        if meta.legacy:
            return "legacy"
        if meta.history_mode == "paginated":
            return "paginated"
        return "envelope"

    @property
    def cli_version(self) -> str | None:
        meta = self.meta
        return meta.cli_version if meta else None

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> Rollout:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_rollout(path: Path, inherited: Sequence[Inherited] = (), chain_problem: str | None = None) -> Rollout:
    """Index a rollout, after the parts of its parents it continues (root first). The caller closes it
    (it holds the sources open for later reads).

    A cut Codex cannot use (past the parent's end, ordinal 0) leaves the model without inherited lines:
    Codex refuses such a session, and ``links`` says why. So does ``chain_problem`` (a parent that is
    missing, a malformed history_base), which the caller found while resolving the chain."""
    sources: list[Source] = []
    try:
        parts: list[tuple[Source, Part, Path]] = []
        links: list[Link] = []
        broken = chain_problem is not None
        for parent in inherited:
            source = Source.open(parent.source_path)
            sources.append(source)
            link = _link(source, parent)
            links.append(link)
            broken = broken or link.problem is not None
            parts.append((source, index_range(source, 0, link.end, link.end), parent.shown))
        own = Source.open(path)
        sources.append(own)
        if broken:
            parts = []
        size = own.size
        parts.append((own, index_range(own, 0, size, size), path))
        model = assemble(path, parts, tuple(_counted(links, parts) if not broken else links))
        model.chain_problem = chain_problem
        return model
    except BaseException:
        for source in sources:
            source.close()
        raise


def _link(source: Source, parent: Inherited) -> Link:
    """Where a cut really ends in ``source`` (whole lines only, as Codex reads it) and what is wrong
    with it, if anything."""
    cut, size = parent.cut, source.size
    problem = None
    if cut.end_ordinal_exclusive <= 0:
        problem = "its history_base ends before the parent's session_meta (end_ordinal_exclusive 0)"
    elif cut.end_byte_offset > size:
        problem = (f"its history_base ends at byte {cut.end_byte_offset}, past the end of {parent.shown} "
                   f"({size} bytes): the parent changed after the fork")
    elif cut.end_byte_offset < 0:
        problem = f"its history_base ends at byte {cut.end_byte_offset}"
    end = 0 if problem else _line_start_at_or_before(source, cut.end_byte_offset)
    return Link(parent.shown, cut, size, end, None, 0, 0, problem)


def _line_start_at_or_before(source: Source, offset: int) -> int:
    """The largest line boundary (0, or just after a newline) at or before ``offset``."""
    pos = offset
    while pos > 0:
        start = max(0, pos - (1 << 16))
        at = source.read(start, pos - start).rfind(b"\n")
        if at >= 0:
            return start + at + 1
        pos = start
    return 0


def _counted(links: list[Link], parts: list[tuple[Source, Part, Path]]) -> list[Link]:
    """Each link with where its lines landed in the model and the ordinal of its last record."""
    out = []
    first = 0
    for link, (_source, part, _path) in zip(links, parts):
        count = len(part.kinds)
        last = next((o for o in reversed(part.ordinals) if o >= 0), None)
        out.append(Link(link.parent, link.cut, link.parent_size, link.end, last, first, count, link.problem))
        first += count
    return out


@dataclass
class Part:
    """The index of a run of whole lines, ``start`` to ``end`` (byte offsets), its own lines numbered
    from 0: what a worker returns for its share of a file (rollout_doctor.core.parallel)."""

    start: int
    end: int
    offsets: array = field(default_factory=lambda: array("q"))
    kinds: bytearray = field(default_factory=bytearray)
    ordinals: array = field(default_factory=lambda: array("q"))
    records: dict[int, Record] = field(default_factory=dict)
    has_bom: bool = False  # the file's line 0 starts with a byte order mark


def index_range(source: Source, start: int, end: int, size: int) -> Part:
    """Index the lines from ``start`` (a line start) to ``end`` (a line start, or ``size``, the file's
    size: only the part that holds the end of the file can hold a torn last line).

    Each block read is indexed in two passes: ``fastfacts.fast_facts`` answers for the ordinary lines,
    then one ``block_valid`` call validates them all together. A line the fast path will not answer for,
    and every line of a block that fails the check, get ``facts.line_facts``, the reference."""
    gc_was_enabled = gc.isenabled()
    # Indexing allocates a record for every call, output and message and frees nothing: the cyclic
    # collector would walk them all again and again for no cycle (4% of a folder scan).
    gc.disable()
    try:
        return _index_range(source, start, end, size)
    finally:
        if gc_was_enabled:
            gc.enable()


# Below this, a process that has not imported rollout_doctor.formats.codex.fastfacts yet indexes with the reference
# alone: importing msgspec and simdjson (17 ms) costs more than they save on a small file, and `check
# FILE` runs before every resume (on the benchmark's 5 MB session: a median 185 ms with them, 163 ms
# without, 12 alternating runs). Once imported, by a bigger file or a test, the fast path serves every
# file.
FAST_PATH_BYTES = 16 << 20


def fast_path_pays(size: int) -> bool:
    return size >= FAST_PATH_BYTES or "rollout_doctor.formats.codex.fastfacts" in sys.modules


def _index_range(source: Source, start: int, end: int, size: int) -> Part:
    fast = fast_path_pays(size)
    if fast:
        from rollout_doctor.formats.codex.fastfacts import BLOCK_LINE_LIMIT, block_facts, block_valid

    part = Part(start, end)
    store = _Store(part)
    offsets_append = part.offsets.append
    for base, buf, length in iter_blocks(source, start, end):
        if buf is None:  # a line past lines.LINE_LIMIT: never read, Codex cannot use it either
            offsets_append(base)
            store.add((LineKind.INVALID, None, Invalid(len(part.kinds), f"longer than {LINE_LIMIT >> 20} MiB "
                                                                        f"({length:,} bytes); not read",
                                                      oversized=True)))
            continue
        view = memoryview(buf)
        find = buf.find
        first = len(part.kinds)  # the block's first line
        contents: list[memoryview] = []
        pos = 0
        while pos < length:  # _content inlined: this loop runs once per line of every file
            nl = find(b"\n", pos, length)
            stop = length if nl < 0 else nl + 1
            offsets_append(base + pos)
            cut = stop if nl < 0 else nl - 1 if nl > pos and buf[nl - 1] == 0x0D else nl
            if base + pos == 0 and buf[:3] == BOM:
                part.has_bom = True
                pos += 3
            contents.append(view[pos:cut])
            pos = stop
        # Only the file's last line can be torn: no newline, and the file ends with it.
        torn = first + len(contents) - 1 if buf[length - 1] != 0x0A and base + length == size else -1
        if not fast:
            for line, content in enumerate(contents, first):
                store.add(_exact(content, line, line == torn))
            continue
        facts = block_facts(contents, first) if max(map(len, contents)) <= BLOCK_LINE_LIMIT else None
        if facts is not None and block_valid(contents):
            store.add_block(facts)
            for at in facts.deferred:
                store.replace(first + at, _exact(contents[at], first + at, first + at == torn))
        else:
            _index_lines(store, contents, first, torn)
    return part


def _index_lines(store: _Store, contents: list[memoryview], first: int, torn: int) -> None:
    """A block the block-wide fast path would not take whole (a line of an odd shape or not JSON at all
    among good ones): the fast path line by line, then the reference for each line it will not answer
    for, and for every line of the block if the block's check fails."""
    from rollout_doctor.formats.codex.fastfacts import BLOCK_LINE_LIMIT, block_valid, fast_facts

    fast: list[memoryview] = []
    for line, content in enumerate(contents, first):
        facts = fast_facts(content, line) if len(content) <= BLOCK_LINE_LIMIT else None
        if facts is None:
            store.add(_exact(content, line, line == torn))
        else:
            store.add(facts)
            fast.append(content)
    if fast and not block_valid(fast):
        for line, content in enumerate(contents, first):  # the whole block again, the reference way
            store.replace(line, _exact(content, line, line == torn))


def _exact(content: memoryview, line: int, torn: bool) -> tuple[LineKind, int | None | bool, Record | None]:
    facts = line_facts(content, line)
    if facts[0] is not LineKind.INVALID or not torn:
        return facts
    data = bytes(content)
    record = Invalid(line, "torn: the file ends in the middle of this line")
    if b"\x00" in data or data.strip(b"\x00") == b"":
        record = Invalid(line, describe_invalid(data, ValueError()))
    return LineKind.INVALID, None, record


class _Store:
    """Puts each line's facts into a Part, and replaces them when a block's fast answers are dropped."""

    def __init__(self, part: Part) -> None:
        self.part = part
        self.call_ids: dict[str, str] = {}  # a call, its output and its events share one string

    def add(self, facts: tuple[LineKind, int | None | bool, Record | None]) -> None:
        self.part.kinds.append(0)
        self.part.ordinals.append(ORDINAL_ABSENT)
        self.replace(len(self.part.kinds) - 1, facts)

    def add_block(self, facts: BlockFacts) -> None:
        part = self.part
        part.kinds.extend(facts.kinds)
        ordinals = facts.ordinals
        try:
            part.ordinals.extend(ordinals if None not in ordinals else
                                 [ORDINAL_ABSENT if o is None else o for o in ordinals])
        except OverflowError:  # an integer past 64 bits somewhere: one by one, as replace does
            del part.ordinals[len(part.kinds) - len(ordinals):]
            part.ordinals.extend(ORDINAL_ABSENT if o is None else o if -(1 << 63) <= o < 1 << 63
                                 else ORDINAL_NOT_INT for o in ordinals)
        call_ids = self.call_ids
        for line, record in facts.records.items():
            call_id = record.call_id
            if call_id is not None:
                record.call_id = call_ids.setdefault(call_id, call_id)
            part.records[line] = record

    def replace(self, line: int, facts: tuple[LineKind, int | None | bool, Record | None]) -> None:
        kind, ordinal, record = facts
        part = self.part
        part.kinds[line] = kind
        try:
            part.ordinals[line] = (ORDINAL_ABSENT if ordinal is None else
                                   ORDINAL_NOT_INT if ordinal is False else ordinal)
        except OverflowError:  # an integer past 64 bits: no ordinal Codex could have written
            part.ordinals[line] = ORDINAL_NOT_INT
        if record is None:
            part.records.pop(line, None)
            return
        call_id = getattr(record, "call_id", None)
        if call_id is not None:
            record.call_id = self.call_ids.setdefault(call_id, call_id)
        part.records[line] = record


def assemble(path: Path, parts: list[tuple[Source, Part, Path]], links: tuple[Link, ...] = ()) -> Rollout:
    """The model from the indexes of consecutive parts (consumed: their arrays are reused or emptied, so
    memory does not hold two copies). Parts of one file follow each other (the ranges a pool indexed,
    rollout_doctor.core.parallel); each new file starts a new byte range of a spliced source. The last part's
    file is the rollout itself."""
    model = Rollout(path, parts[-1][0])
    files: list[list[Any]] = []  # [model offset, length, source, path, first line], one per file
    boms: set[int] = set()
    for source, part, shown in parts:
        shift = len(model.kinds)
        if not files or files[-1][2] is not source:
            files.append([files[-1][0] + files[-1][1] if files else 0, 0, source, shown, shift])
        base = files[-1][0]
        files[-1][1] = part.end  # a file's parts are its byte ranges in order
        if part.has_bom:
            boms.add(shift)
        if shift == 0:
            model.offsets, model.kinds = part.offsets, part.kinds
            model.ordinals, model.records = part.ordinals, part.records
        else:
            model.offsets.extend(array("q", [o + base for o in part.offsets]) if base else part.offsets)
            model.kinds.extend(part.kinds)
            model.ordinals.extend(part.ordinals)
            for line, record in part.records.items():
                _renumber_record(record, shift)
                model.records[line + shift] = record
        part.offsets, part.kinds, part.ordinals, part.records = array("q"), bytearray(), array("q"), {}
    model.offsets.append(files[-1][0] + files[-1][1])
    if len(files) > 1:
        model.source = Spliced([(start, length, source) for start, length, source, _path, _first in files])
    model.own_start = files[-1][4]
    model.bom_lines = frozenset(boms)
    model.spans = tuple(FileSpan(shown, first, (files[n + 1][4] if n + 1 < len(files) else len(model.kinds)) - first)
                        for n, (_start, _length, _source, shown, first) in enumerate(files))
    model.links = links
    return model


def _renumber_record(record: Record, shift: int) -> None:
    record.line += shift
    if isinstance(record, Compacted) and record.replacement:
        for item in record.replacement:
            item.line += shift
