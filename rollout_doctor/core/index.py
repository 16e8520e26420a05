"""Indexing the lines of a byte range: offsets, and the kind, ordinal and record the format gives each.

Each block read is indexed in two passes where the format has a fast path (``Classifier.fast``): it
answers for the ordinary lines, then one ``block_valid`` call validates them all together. A line the
fast path will not answer for, and every line of a block that fails the check, get ``exact``, the
reference classifier. Both are driven by one table of fields in the format, so they cannot disagree
about what a line holds.
"""

from __future__ import annotations

import gc
from array import array
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollout_doctor.core.lines import Source, Spliced, iter_blocks
from rollout_doctor.core.plain import Plain

if TYPE_CHECKING:
    from collections.abc import Callable

    from rollout_doctor.core.format import BlockFacts, Classifier, Facts, FastPath
    from rollout_doctor.core.model import FileSpan, Model

BOM = b"\xef\xbb\xbf"
ORDINAL_ABSENT = -1
ORDINAL_NOT_INT = -2


class Part(Plain):
    """The index of a run of whole lines, ``start`` to ``end`` (byte offsets), its own lines numbered
    from 0: what a worker returns for its share of a file (rollout_doctor.core.parallel)."""

    FIELDS = ("start", "end", "offsets", "kinds", "ordinals", "records", "has_bom")

    def __init__(self, start: int, end: int, offsets: array | None = None, kinds: bytearray | None = None,
                 ordinals: array | None = None, records: dict[int, Any] | None = None, has_bom: bool = False) -> None:
        self.start = start
        self.end = end
        self.offsets = array("q") if offsets is None else offsets
        self.kinds = bytearray() if kinds is None else kinds
        self.ordinals = array("q") if ordinals is None else ordinals
        self.records = {} if records is None else records
        self.has_bom = has_bom  # the file's line 0 starts with a byte order mark


def index_range(lines: Classifier, source: Source, start: int, end: int, size: int,
                progress: Callable[[int], None] | None = None) -> Part:
    """Index the lines from ``start`` (a line start) to ``end`` (a line start, or ``size``, the file's
    size: only the part that holds the end of the file can hold a torn last line). ``progress`` is told
    the length of each block as it is done (a progress line for one big file)."""
    with CollectorPaused():
        return _index_range(lines, source, start, end, size, progress)


class CollectorPaused:
    """Python's cyclic garbage collector off for a while. Indexing allocates a record for every call,
    output and message and frees nothing, and so do loading and saving an index kept in the cache: the
    collector would walk them all again and again for no cycle (4% of a folder scan; half of the time
    a 500 MB session's cached index takes to load)."""

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()


def _index_range(lines: Classifier, source: Source, start: int, end: int, size: int,
                 progress: Callable[[int], None] | None) -> Part:
    # Weighed by what this call reads, not by the file's size: a grown file's cached prefix is not read
    # again, and the few KB a turn appended never pay for loading a fast path.
    fast = lines.fast(end - start)
    exact = lines.exact
    part = Part(start, end)
    store = _Store(part)
    offsets_append = part.offsets.append
    for base, buf, length in iter_blocks(source, start, end):
        if progress is not None:
            progress(length)
        if buf is None:  # a line past lines.LINE_LIMIT: never read, the client cannot use it either
            offsets_append(base)
            store.add(lines.unread(len(part.kinds), length))
            continue
        view = memoryview(buf)
        find = buf.find
        first = len(part.kinds)  # the block's first line
        contents: list[memoryview] = []
        pos = 0
        while pos < length:  # inlined: this loop runs once per line of every file
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
        if fast is None:
            for line, content in enumerate(contents, first):
                store.add(exact(content, line, line == torn))
            continue
        facts = fast.block_facts(contents, first) if max(map(len, contents)) <= fast.line_limit else None
        if facts is not None and fast.block_valid(contents):
            store.add_block(facts)
            for at in facts.deferred:
                store.replace(first + at, exact(contents[at], first + at, first + at == torn))
        else:
            _index_lines(lines, fast, store, contents, first, torn)
    return part


def _index_lines(lines: Classifier, fast: FastPath, store: _Store, contents: list[memoryview], first: int,
                 torn: int) -> None:
    """A block the block-wide fast path would not take whole (a line of an odd shape or not JSON at all
    among good ones): the fast path line by line, then the reference for each line it will not answer
    for, and for every line of the block if the block's check fails."""
    answered: list[memoryview] = []
    for line, content in enumerate(contents, first):
        facts = fast.line_facts(content, line) if len(content) <= fast.line_limit else None
        if facts is None:
            store.add(lines.exact(content, line, line == torn))
        else:
            store.add(facts)
            answered.append(content)
    if answered and not fast.block_valid(answered):
        for line, content in enumerate(contents, first):  # the whole block again, the reference way
            store.replace(line, lines.exact(content, line, line == torn))


class _Store:
    """Puts each line's facts into a Part, and replaces them when a block's fast answers are dropped."""

    def __init__(self, part: Part) -> None:
        self.part = part
        self.call_ids: dict[str, str] = {}  # a call, its output and its events share one string

    def add(self, facts: Facts) -> None:
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

    def replace(self, line: int, facts: Facts) -> None:
        kind, ordinal, record = facts
        part = self.part
        part.kinds[line] = kind
        try:
            part.ordinals[line] = (ORDINAL_ABSENT if ordinal is None else
                                   ORDINAL_NOT_INT if ordinal is False else ordinal)
        except OverflowError:  # an integer past 64 bits: no ordinal a client could have written
            part.ordinals[line] = ORDINAL_NOT_INT
        if record is None:
            part.records.pop(line, None)
            return
        call_id = getattr(record, "call_id", None)
        if call_id is not None:
            record.call_id = self.call_ids.setdefault(call_id, call_id)
        part.records[line] = record


def assemble(model: Model, lines: Classifier, parts: list[tuple[Source, Part, Path]]) -> None:
    """Fill ``model`` from the indexes of consecutive parts (consumed: their arrays are reused or
    emptied, so memory does not hold two copies). Parts of one file follow each other (the ranges a pool
    indexed, rollout_doctor.core.parallel); each new file starts a new byte range of a spliced source.
    The last part's file is the session file itself."""
    from rollout_doctor.core.model import FileSpan

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
                lines.shift(record, shift)
                model.records[line + shift] = record
        part.offsets, part.kinds, part.ordinals, part.records = array("q"), bytearray(), array("q"), {}
    model.offsets.append(files[-1][0] + files[-1][1])
    if len(files) > 1:
        model.source = Spliced([(start, length, source) for start, length, source, _path, _first in files])
    model.own_start = files[-1][4]
    model.bom_lines = frozenset(boms)
    spans: list[FileSpan] = []
    for n, (_start, _length, _source, shown, first) in enumerate(files):
        end = files[n + 1][4] if n + 1 < len(files) else len(model.kinds)
        spans.append(FileSpan(shown, first, end - first))
    model.spans = tuple(spans)
