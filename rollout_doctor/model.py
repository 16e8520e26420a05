"""The line-indexed model of one rollout.

Only offsets, a kind per line, ordinals and the small records the rules need are kept; the bytes of a
line are read again from the source when a fix or a report needs them. That keeps a 1 GB rollout in a
few tens of MB and makes byte-exact write-back trivial: an untouched line is copied, never rebuilt.
"""

from __future__ import annotations

import gc
import re
import sys
from array import array
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from rollout_doctor.facts import BOM, Compacted, Invalid, LineKind, Meta, Record, describe_invalid, line_facts
from rollout_doctor.lines import Source, iter_blocks, split_terminator

if TYPE_CHECKING:
    from rollout_doctor.fastfacts import BlockFacts  # imported where indexing starts: msgspec, simdjson

ORDINAL_ABSENT = -1
ORDINAL_NOT_INT = -2

# rollout-<local time>-<thread uuid>[_<rollout uuid>].jsonl[.zst]: the thread uuid is what Codex resumes by.
ROLLOUT_NAME = re.compile(
    r"^rollout-(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})-"
    r"(?P<thread>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"(?:_(?P<rollout>[0-9a-fA-F-]{36}))?\.jsonl(?:\.zst)?$"
)


def thread_id_from_name(path: Path) -> str | None:
    match = ROLLOUT_NAME.match(path.name)
    return match.group("thread").lower() if match else None


@dataclass
class Rollout:
    path: Path
    source: Source
    offsets: array = field(default_factory=lambda: array("q"))  # n + 1 entries: starts, then the size
    kinds: bytearray = field(default_factory=bytearray)
    ordinals: array = field(default_factory=lambda: array("q"))
    records: dict[int, Record] = field(default_factory=dict)
    has_bom: bool = False
    # The path whose name says which session this is. While fix works through temporary passes,
    # ``path`` is a scratch file and this stays the rollout's own name (session-meta checks it).
    named: Path | None = None

    @property
    def name_path(self) -> Path:
        return self.named or self.path

    def __len__(self) -> int:
        return len(self.kinds)

    @property
    def size(self) -> int:
        return self.offsets[-1] if self.offsets else 0

    def kind(self, line: int) -> LineKind:
        return LineKind(self.kinds[line])

    def raw(self, line: int) -> bytes:
        start = self.offsets[line]
        return self.source.read(start, self.offsets[line + 1] - start)

    def content(self, line: int) -> bytes:
        content = split_terminator(self.raw(line))[0]
        return content[len(BOM) :] if line == 0 and self.has_bom else content

    def terminator(self, line: int) -> bytes:
        return split_terminator(self.raw(line))[1]

    def parsed(self, line: int) -> Any:
        return orjson.loads(self.content(line))

    def ordinal(self, line: int) -> int | None | bool:
        value = self.ordinals[line]
        return None if value == ORDINAL_ABSENT else False if value == ORDINAL_NOT_INT else value

    # meta and generation are asked for by every rule and every fix edit; the model does not change once
    # read_rollout or assemble has built it, so each is found once.
    @cached_property
    def meta(self) -> Meta | None:
        # The first line of either kind: each always carries its Meta (facts._object_facts). Found with
        # bytearray.find, where sorting the records took 0.1 s on a 1 GB rollout.
        found = [at for at in (self.kinds.find(LineKind.SESSION_META), self.kinds.find(LineKind.LEGACY_HEADER))
                 if at >= 0]
        record = self.records.get(min(found)) if found else None
        return record if isinstance(record, Meta) else None

    @property
    def first_meaningful_line(self) -> int | None:
        for line, kind in enumerate(self.kinds):
            if kind not in (LineKind.BLANK, LineKind.INVALID):
                return line
        return None

    @cached_property
    def generation(self) -> str:
        """``legacy``, ``envelope``, ``paginated`` or ``unknown``, decided by the session's meta line."""
        meta = self.meta
        if meta is None:
            if any(k == LineKind.LEGACY_HEADER or k == LineKind.LEGACY_STATE for k in self.kinds):
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


def read_rollout(path: Path) -> Rollout:
    """Index a rollout. The caller closes it (it holds the source open for later reads)."""
    source = Source.open(path)
    try:
        size = source.size
        return assemble(path, source, [index_range(source, 0, size, size)], size)
    except BaseException:
        source.close()
        raise


@dataclass
class Part:
    """The index of a run of whole lines, ``start`` to ``end`` (byte offsets), its own lines numbered
    from 0: what a worker returns for its share of a file (rollout_doctor.parallel)."""

    start: int
    end: int
    offsets: array = field(default_factory=lambda: array("q"))
    kinds: bytearray = field(default_factory=bytearray)
    ordinals: array = field(default_factory=lambda: array("q"))
    records: dict[int, Record] = field(default_factory=dict)
    has_bom: bool = False


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


# Below this, a process that has not imported rollout_doctor.fastfacts yet indexes with the reference
# alone: importing msgspec and simdjson (17 ms) costs more than they save on a small file, and `check
# FILE` runs before every resume (on the benchmark's 5 MB session: a median 185 ms with them, 163 ms
# without, 12 alternating runs). Once imported, by a bigger file or a test, the fast path serves every
# file.
FAST_PATH_BYTES = 16 << 20


def fast_path_pays(size: int) -> bool:
    return size >= FAST_PATH_BYTES or "rollout_doctor.fastfacts" in sys.modules


def _index_range(source: Source, start: int, end: int, size: int) -> Part:
    fast = fast_path_pays(size)
    if fast:
        from rollout_doctor.fastfacts import BLOCK_LINE_LIMIT, block_facts, block_valid

    part = Part(start, end)
    store = _Store(part)
    offsets_append = part.offsets.append
    for base, buf, length in iter_blocks(source, start, end):
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
    from rollout_doctor.fastfacts import BLOCK_LINE_LIMIT, block_valid, fast_facts

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


def assemble(path: Path, source: Source, parts: list[Part], size: int) -> Rollout:
    """The model of a whole file from the indexes of its consecutive parts (consumed: their arrays are
    reused or emptied, so memory does not hold two copies)."""
    model = Rollout(path, source)
    for part in parts:
        shift = len(model.kinds)
        if shift == 0:
            model.offsets, model.kinds = part.offsets, part.kinds
            model.ordinals, model.records = part.ordinals, part.records
        else:
            model.offsets.extend(part.offsets)
            model.kinds.extend(part.kinds)
            model.ordinals.extend(part.ordinals)
            for line, record in part.records.items():
                _renumber_record(record, shift)
                model.records[line + shift] = record
        model.has_bom = model.has_bom or part.has_bom
        part.offsets, part.kinds, part.ordinals, part.records = array("q"), bytearray(), array("q"), {}
    model.offsets.append(size)
    return model


def _renumber_record(record: Record, shift: int) -> None:
    record.line += shift
    if isinstance(record, Compacted) and record.replacement:
        for item in record.replacement:
            item.line += shift
