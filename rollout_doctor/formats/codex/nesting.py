"""How deep a line may nest before Codex cannot read it."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import orjson

# serde_json's default recursion limit: Codex 0.77.0 and 0.169.0 both skip, on resume, a line nested 129
# levels deep and read one nested 128 (run: a user message carrying an unknown field nested N deep;
# tests/test_hostile.py). Such a line is as lost to Codex as a torn one, and keeping it out of the
# model also keeps Python-side recursion (orjson.dumps stops at 255, jsonschema near 300) safe.
CODEX_MAX_DEPTH = 128


@cache
def _json_token() -> re.Pattern[bytes]:
    # Compiled on first use: only a line that is not JSON and holds many brackets needs it, and compiling
    # it costs every start-up of `check FILE` (run before each resume) a tenth of a millisecond.
    return re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def nested_deeper_than_codex_reads(content: bytes | memoryview) -> bool:
    """Whether ``content`` nests containers more than CODEX_MAX_DEPTH deep (strings skipped)."""
    if len(content) <= 2 * CODEX_MAX_DEPTH:  # each level takes an opening and a closing byte
        return False
    data = content if isinstance(content, bytes) else bytes(content)
    if data.count(b"[") + data.count(b"{") <= CODEX_MAX_DEPTH:  # C-speed; almost every line stops here
        return False
    try:
        return value_nests_deeper_than_codex_reads(orjson.loads(data))
    except orjson.JSONDecodeError:  # not JSON: count the brackets outside strings
        pass
    depth = 0
    for token in _json_token().finditer(data):
        char = token.group()[:1]
        if char in (b"[", b"{"):
            depth += 1
            if depth > CODEX_MAX_DEPTH:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


def value_nests_deeper_than_codex_reads(value: Any) -> bool:
    """The same question for a parsed value (the nesting of its containers is the text's): walking
    a line's few containers costs less than scanning its bytes when they are many or brackets abound
    in its strings (command output, code)."""
    if type(value) is not dict and type(value) is not list:
        return False
    stack = [(value, 1)]
    while stack:
        container, depth = stack.pop()
        if depth > CODEX_MAX_DEPTH:
            return True
        for item in container.values() if type(container) is dict else container:
            if type(item) is dict or type(item) is list:
                stack.append((item, depth + 1))
    return False
