"""Build a fix from item-level operations, wherever the items live.

Most items are lines of their own; after a compaction some live inside the ``replacement_history``
array of a ``compacted`` line. Rules say what should happen to items (insert an output after a call,
move a message after an output, remove a duplicate, rename a call id) and this turns it into line
edits: element operations inside a compacted line become one REPLACE of that line, planned with the
same pure applier the file uses and spliced with ``jsonspan`` so untouched elements keep their bytes.
"""

from __future__ import annotations

from typing import Any

import orjson

from rollout_doctor.core import jsonspan
from rollout_doctor.core.fixes import Applicability, Edit, Fix, plan
from rollout_doctor.formats.codex.items import envelope_like
from rollout_doctor.formats.codex.records import Item

REPLACEMENT_PATH = ("payload", "replacement_history")


class FixBuilder:
    def __init__(self, model: Any) -> None:
        self.model = model
        self.edits: list[Edit] = []
        self.element_edits: dict[int, list[Edit]] = {}  # compacted line -> edits of its elements
        # (line, element index or None) -> {payload key: new raw JSON value, or None to remove the key}
        self.field_sets: dict[tuple[int, int | None], dict[str, bytes | None]] = {}
        self.notes: dict[tuple[int, int | None], str] = {}

    def _line_payload_path(self) -> tuple[str, ...]:
        return () if self.model.generation == "legacy" else ("payload",)

    def _item_path(self, item: Item) -> tuple[str | int, ...]:
        if item.index is not None:
            return (*REPLACEMENT_PATH, item.index)
        return self._line_payload_path()

    def _element_bytes(self, item: Item) -> bytes:
        content = self.model.content(item.line)
        where = jsonspan.span(content, self._item_path(item))
        assert where is not None
        return content[where[0] : where[1]]

    def _line_for(self, anchor: Item, payload_raw: bytes) -> bytes:
        """A whole response_item line holding ``payload_raw`` (raw JSON, kept byte for byte), in the
        file's generation."""
        return envelope_like(self.model, anchor.line, orjson.Fragment(payload_raw))

    def payload(self, item: Item) -> Any:
        return orjson.loads(self._element_bytes(item))

    def same_item(self, a: Item, b: Item) -> bool:
        """Whether two items say the same thing, ignoring the ids and metadata each write gets."""
        return _comparable(self.payload(a)) == _comparable(self.payload(b))

    def insert_after(self, anchor: Item, payload: dict[str, Any], note: str) -> None:
        raw = orjson.dumps(payload)
        if anchor.index is None:
            self.edits.append(Edit.insert_after(anchor.line, self._line_for(anchor, raw), note))
        else:
            self.element_edits.setdefault(anchor.line, []).append(Edit.insert_after(anchor.index, raw, note))

    def delete(self, item: Item) -> None:
        if item.index is None:
            self.edits.append(Edit.delete(item.line))
        else:
            self.element_edits.setdefault(item.line, []).append(Edit.delete(item.index))

    def move_after(self, item: Item, anchor: Item) -> bool:
        """Move ``item`` to just after ``anchor``; False when no edit can express it."""
        if item.index is None and anchor.index is None:
            self.edits.append(Edit.move_after(item.line, anchor.line))
        elif item.index is not None and anchor.index is not None and item.line == anchor.line:
            self.element_edits.setdefault(item.line, []).append(Edit.move_after(item.index, anchor.index))
        elif item.index is not None and anchor.index is None:
            raw = self._element_bytes(item)
            self.element_edits.setdefault(item.line, []).append(Edit.delete(item.index))
            self.edits.append(Edit.insert_after(anchor.line, self._line_for(anchor, raw), "moved out of compaction"))
        else:
            return False
        return True

    def set_field(self, item: Item, key: str, value: Any, note: str) -> None:
        """Set one payload field of ``item`` to ``value``, leaving every other byte as it is."""
        self.field_sets.setdefault((item.line, item.index), {})[key] = orjson.dumps(value)
        self.notes[(item.line, item.index)] = note

    def remove_field(self, item: Item, key: str, note: str) -> None:
        """Remove one payload field of ``item``, leaving every other byte as it is."""
        self.field_sets.setdefault((item.line, item.index), {})[key] = None
        self.notes[(item.line, item.index)] = note

    def build(self, title: str, applicability: Applicability) -> Fix:
        edits = list(self.edits)
        for (line, index), fields in sorted(self.field_sets.items(), key=lambda kv: (kv[0][0], -1)):
            if index is None:
                content = self.model.content(line)
                for key, raw in fields.items():
                    content = _set_member(content, self._line_payload_path(), key, raw)
                edits.append(Edit.replace(line, content, self.notes[(line, index)]))
        compacted_lines = set(self.element_edits) | {line for line, index in self.field_sets if index is not None}
        for line in sorted(compacted_lines):
            edits.append(Edit.replace(line, self._rewrite_compacted(line), "replacement_history edited"))
        return Fix(title, applicability, tuple(edits))

    def _rewrite_compacted(self, line: int) -> bytes:
        content = self.model.content(line)
        where = jsonspan.span(content, REPLACEMENT_PATH)
        assert where is not None
        spans = jsonspan.elements(content, where[0])
        elements = [content[s:e] for s, e in spans]
        for (field_line, index), fields in self.field_sets.items():
            if field_line == line and index is not None:
                for key, raw in fields.items():
                    elements[index] = _set_member(elements[index], (), key, raw)
        pieces = plan(len(elements), self.element_edits.get(line, [])).pieces
        out = [p.content if p.content is not None else elements[p.origin] for p in pieces]  # type: ignore[index]
        return content[: where[0]] + b"[" + b",".join(out) + b"]" + content[where[1] :]


def move_fix(model: Any, item: Item, anchor: Item, title: str) -> Fix | None:
    """A safe fix moving ``item``, unchanged, to just after ``anchor``; None when no edit can say it."""
    builder = FixBuilder(model)
    if not builder.move_after(item, anchor):
        return None
    return builder.build(title, Applicability.SAFE)


VOLATILE_KEYS = frozenset({"id", "internal_chat_message_metadata_passthrough"})


def _comparable(payload: Any) -> Any:
    if isinstance(payload, dict):
        return {k: v for k, v in payload.items() if k not in VOLATILE_KEYS}
    return payload


def _set_member(content: bytes, path: tuple[str | int, ...], key: str, raw: bytes | None) -> bytes:
    if raw is None:
        removed = jsonspan.remove_member(content, path, key)
        assert removed is not None, f"no {key} to remove"
        return removed
    replaced = jsonspan.replace(content, (*path, key), raw)
    assert replaced is not None, f"no {key} to set"
    return replaced
