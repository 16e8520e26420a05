"""Locate a value inside raw JSON bytes without re-serialising anything.

A fix that renumbers an ordinal or renames a call id must leave every other byte of the line as Codex
wrote it (number formatting, escapes, key order, unknown fields). So instead of ``loads``/``dumps`` we
find the byte span of one value and splice. The input is assumed to be valid JSON (the model parsed it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_WS = re.compile(rb"[ \t\r\n]*")
# Unrolled ("normal* (special normal*)*"): three times quicker than an alternation per byte on the
# long strings of a rollout, which renumbering ordinals walks past on every line it touches.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SCALAR = re.compile(rb"[^,\]} \t\r\n]+")
_STRUCTURAL = re.compile(rb'["\[\]{}]')

PathPart = str | int


def _skip_ws(data: bytes, pos: int) -> int:
    return _WS.match(data, pos).end()  # type: ignore[union-attr]


def _value_end(data: bytes, pos: int) -> int:
    """End offset of the value starting at ``pos``."""
    first = data[pos : pos + 1]
    if first == b'"':
        match = _STRING.match(data, pos)
        if match is None:
            raise ValueError(f"unterminated string at {pos}")
        return match.end()
    if first in (b"{", b"["):
        depth = 0
        cursor = pos
        while True:
            match = _STRUCTURAL.search(data, cursor)
            if match is None:
                raise ValueError(f"unterminated container at {pos}")
            char = match.group()
            if char == b'"':
                cursor = _value_end(data, match.start())
                continue
            depth += 1 if char in (b"{", b"[") else -1
            cursor = match.end()
            if depth == 0:
                return cursor
    match = _SCALAR.match(data, pos)
    if match is None:
        raise ValueError(f"no value at {pos}")
    return match.end()


def members(data: bytes, start: int) -> list[tuple[bytes, int, int]]:
    """``(raw key, value start, value end)`` for each member of the object starting at ``start``."""
    return list(iter_members(data, start))


def iter_members(data: bytes, start: int) -> Iterator[tuple[bytes, int, int]]:
    """``members``, one at a time: a caller looking for a key near the start stops there."""
    pos = _skip_ws(data, start + 1)
    if data[pos : pos + 1] == b"}":
        return
    while True:
        key_end = _value_end(data, pos)
        key = data[pos:key_end]
        pos = _skip_ws(data, key_end)
        pos = _skip_ws(data, pos + 1)  # the colon
        value_end = _value_end(data, pos)
        yield key, pos, value_end
        pos = _skip_ws(data, value_end)
        if data[pos : pos + 1] != b",":
            return
        pos = _skip_ws(data, pos + 1)


def elements(data: bytes, start: int) -> list[tuple[int, int]]:
    """``(start, end)`` of each element of the array starting at ``start``."""
    out: list[tuple[int, int]] = []
    pos = _skip_ws(data, start + 1)
    if data[pos : pos + 1] == b"]":
        return out
    while True:
        end = _value_end(data, pos)
        out.append((pos, end))
        pos = _skip_ws(data, end)
        if data[pos : pos + 1] != b",":
            return out
        pos = _skip_ws(data, pos + 1)


def value_start(data: bytes) -> int:
    """Where the document's value starts (after any leading whitespace)."""
    return _skip_ws(data, 0)


def key_matches(raw_key: bytes, key: str) -> bool:
    """Whether a raw key (quotes and escapes as written) decodes to ``key``."""
    return _key_matches(raw_key, key)


def _key_matches(raw_key: bytes, key: str) -> bool:
    import orjson

    return raw_key[1:-1] == key.encode() or orjson.loads(raw_key) == key


def span(data: bytes, path: tuple[PathPart, ...]) -> tuple[int, int] | None:
    """Byte span of the value at ``path`` (object keys and array indexes), or None if absent."""
    pos = _skip_ws(data, 0)
    if not path:
        return pos, _value_end(data, pos)
    end = pos
    for part in path:
        if isinstance(part, int):
            if data[pos : pos + 1] != b"[":
                return None
            items = elements(data, pos)
            if part >= len(items):
                return None
            pos, end = items[part]
        else:
            if data[pos : pos + 1] != b"{":
                return None
            found = None
            for raw_key, value_start, value_end in members(data, pos):
                if _key_matches(raw_key, part):
                    found = (value_start, value_end)  # the last duplicate key wins, as in serde_json
            if found is None:
                return None
            pos, end = found
    return pos, end


def replace(data: bytes, path: tuple[PathPart, ...], new_value: bytes) -> bytes | None:
    """``data`` with the value at ``path`` replaced by ``new_value`` (raw JSON), or None if absent."""
    where = span(data, path)
    if where is None:
        return None
    return data[: where[0]] + new_value + data[where[1] :]


def insert_member(data: bytes, key: str, value: bytes, after: str | None = None) -> bytes:
    """Add ``"key":value`` to the top-level object, after member ``after`` if present, else first."""
    import orjson

    pos = _skip_ws(data, 0)
    member = orjson.dumps(key) + b":" + value
    if after is not None:
        for raw_key, _start, value_end in members(data, pos):
            if _key_matches(raw_key, after):
                return data[:value_end] + b"," + member + data[value_end:]
    body = _skip_ws(data, pos + 1)
    separator = b"" if data[body : body + 1] == b"}" else b","
    return data[: pos + 1] + member + separator + data[pos + 1 :]


def remove_member(data: bytes, path: tuple[PathPart, ...], key: str) -> bytes | None:
    """``data`` without member ``key`` of the object at ``path`` (its comma too), or None if absent.
    Every other byte stays as it is."""
    where = span(data, path)
    if where is None or data[where[0] : where[0] + 1] != b"{":
        return None
    found = [(n, m) for n, m in enumerate(members(data, where[0])) if _key_matches(m[0], key)]
    if not found:
        return None
    listed = members(data, where[0])
    n, (raw_key, value_start, value_end) = found[-1]
    key_start = data.rindex(raw_key, where[0], value_start)
    if n + 1 < len(listed):  # up to the next member's key
        next_key = listed[n + 1][0]
        return data[:key_start] + data[data.index(next_key, value_end):]
    if n > 0:  # the last member: from the comma after the previous value
        comma = data.rindex(b",", listed[n - 1][2], key_start)
        return data[:comma] + data[value_end:]
    body_end = _skip_ws(data, value_end)
    return data[:key_start] + data[body_end:]
