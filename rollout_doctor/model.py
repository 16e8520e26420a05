"""The line-indexed model of one rollout.

Only offsets, a kind per line, ordinals and the small records the rules need are kept; the bytes of a
line are read again from the source when a fix or a report needs them. That keeps a 1 GB rollout in a
few tens of MB and makes byte-exact write-back trivial: an untouched line is copied, never rebuilt.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rollout_doctor.facts import BOM, Invalid, LineKind, Meta, Record, classify, describe_invalid
from rollout_doctor.lines import Source, iter_lines, split_terminator

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

    @property
    def meta(self) -> Meta | None:
        for line in range(len(self)):
            record = self.records.get(line)
            if isinstance(record, Meta):
                return record
        return None

    @property
    def first_meaningful_line(self) -> int | None:
        for line, kind in enumerate(self.kinds):
            if kind not in (LineKind.BLANK, LineKind.INVALID):
                return line
        return None

    @property
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
        model = Rollout(path, source)
        size = source.size
        for line, (offset, raw) in enumerate(iter_lines(source)):
            model.offsets.append(offset)
            content, terminator = split_terminator(raw)
            if line == 0 and content.startswith(BOM):
                model.has_bom = True
                content = content[len(BOM) :]
            facts = classify(content, line)
            if facts.kind is LineKind.INVALID and not terminator and offset + len(raw) == size:
                facts.record = Invalid(line, "torn: the file ends in the middle of this line")
                if b"\x00" in content or content.strip(b"\x00") == b"":
                    facts.record = Invalid(line, describe_invalid(content, ValueError()))
            model.kinds.append(facts.kind)
            ordinal = facts.ordinal
            model.ordinals.append(ORDINAL_ABSENT if ordinal is None else ORDINAL_NOT_INT if ordinal is False else ordinal)
            if facts.record is not None:
                model.records[line] = facts.record
        model.offsets.append(size)
        return model
    except BaseException:
        source.close()
        raise
