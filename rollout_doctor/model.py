"""The line-indexed model of one rollout.

Only offsets, a kind per line, ordinals and the small records the rules need are kept; the bytes of a
line are read again from the source when a fix or a report needs them. That keeps a 1 GB rollout in a
few tens of MB and makes byte-exact write-back trivial: an untouched line is copied, never rebuilt.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson

from rollout_doctor.facts import BOM, Compacted, Invalid, LineKind, Meta, Record, describe_invalid, line_facts
from rollout_doctor.lines import Source, iter_views, split_terminator

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
        return next((r for _line, r in sorted(self.records.items()) if isinstance(r, Meta)), None)

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
    size: only the part that holds the end of the file can hold a torn last line)."""
    part = Part(start, end)
    offsets, kinds, ordinals, records = part.offsets, part.kinds, part.ordinals, part.records
    call_ids: dict[str, str] = {}
    for line, (offset, raw) in enumerate(iter_views(source, start, end)):
        offsets.append(offset)
        n = len(raw)
        terminated = raw[n - 1] == 0x0A
        content = raw[: n - 2 if n > 1 and raw[n - 2] == 0x0D else n - 1] if terminated else raw
        if offset == 0 and content[:3] == BOM:
            part.has_bom = True
            content = content[3:]
        kind, ordinal, record = line_facts(content, line)
        if kind is LineKind.INVALID and not terminated and offset + n == size:
            content = bytes(content)
            record = Invalid(line, "torn: the file ends in the middle of this line")
            if b"\x00" in content or content.strip(b"\x00") == b"":
                record = Invalid(line, describe_invalid(content, ValueError()))
        kinds.append(kind)
        try:
            ordinals.append(ORDINAL_ABSENT if ordinal is None else
                            ORDINAL_NOT_INT if ordinal is False else ordinal)
        except OverflowError:  # an integer past 64 bits: no ordinal Codex could have written
            ordinals.append(ORDINAL_NOT_INT)
        if record is not None:
            call_id = getattr(record, "call_id", None)
            if call_id is not None:  # a call, its output and its events share one string
                record.call_id = call_ids.setdefault(call_id, call_id)
            records[line] = record
    return part


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
