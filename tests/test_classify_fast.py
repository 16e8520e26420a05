"""The indexing fast path (rollout_doctor.formats.codex.classify_fast) answers as the reference,
classify.line_facts, does.

For any line content:

* (a) when ``fast_facts`` answers and ``block_valid`` accepts the line, the answer is ``line_facts``' own;
* (b) a line ``line_facts`` calls INVALID is never taken from the fast path: ``fast_facts`` defers or
  ``block_valid`` rejects it;
* (c) ``block_valid`` over a block is True exactly when it is True for each of its lines alone: joining
  the lines into one document neither hides a failure nor invents one;
* (d) ``read_rollout`` (``model.index_range``, which mixes both paths block by block) gives the kinds,
  ordinals and records of classifying every line with ``line_facts``.

Checked on every fixture line, on named edge cases, on mutated real lines and generated objects
(hypothesis), and on files built to cross block boundaries.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import orjson
import pytest
from hypothesis import HealthCheck, example, find, given, settings
from hypothesis import strategies as st

from rollout_doctor.core import lines
from rollout_doctor.core.index import ORDINAL_ABSENT, ORDINAL_NOT_INT
from rollout_doctor.formats.codex import classify_fast, indexing
from rollout_doctor.formats.codex.classify import BOM, describe_invalid, line_facts
from rollout_doctor.formats.codex.classify_fast import block_valid, fast_facts
from rollout_doctor.formats.codex.fields import (
    ENVELOPE_FIELDS,
    EVENT_READS,
    INTEGER,
    ITEM_READS,
    JSON,
    PAYLOAD_FIELDS,
    STRING,
    Fields,
)
from rollout_doctor.formats.codex.nesting import CODEX_MAX_DEPTH
from rollout_doctor.formats.codex.records import OUTPUT_ITEM_TYPES, Event, Invalid, Item, ItemKind, LineKind
from rollout_doctor.formats.codex.rollout import read_rollout
from tests.support.models import model_state

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
TS = "2026-01-05T10:00:00.000Z"
NAME = "rollout-2026-01-05T10-00-00-01a1fe9f-a2fa-7091-8dab-b019fa49b280.jsonl"
Facts = tuple[LineKind, Any, Any]


# --- helpers -------------------------------------------------------------------------------------------


def split_file(data: bytes) -> list[tuple[bytes, bool]]:
    """Each line's content as index_range must see it (terminator and a line-0 byte order mark removed),
    and whether the line is unterminated (only the last one can be)."""
    pieces = data.split(b"\n")
    raws = [p + b"\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    out = []
    for n, raw in enumerate(raws):
        terminated = raw.endswith(b"\n")
        content = raw[:-1] if terminated else raw
        if terminated and content.endswith(b"\r"):
            content = content[:-1]
        if n == 0 and content.startswith(BOM):
            content = content[len(BOM):]
        out.append((content, not terminated))
    return out


def strict(facts: Facts | None) -> object:
    """``facts`` with the type of every value alongside it: ``False == 0`` and ``True == 1`` in Python, so a
    plain ``==`` would let an ordinal of 0 pass for "present but not an integer"."""
    if facts is None:
        return None
    kind, ordinal, record = facts
    fields = None
    if record is not None:
        fields = (type(record), [(f.name, type(getattr(record, f.name)), getattr(record, f.name))
                                 for f in dataclasses.fields(record)])
    return type(kind), kind, type(ordinal), ordinal, fields


def fast_route(content: bytes, line: int = 7) -> Facts | None:
    """What index_range takes from the fast path for this line alone: fast_facts' answer if block_valid
    accepts the line, else None (the line goes to line_facts)."""
    fast = fast_facts(content, line)
    return fast if fast is not None and block_valid([content]) else None


def check_line(content: bytes, line: int = 7) -> Facts | None:
    """Assert (a) and (b) for one line, on bytes and on a memoryview into a bytearray (what index_range
    passes); return the fast path's answer, None when the line goes to line_facts."""
    reference = line_facts(content, line)
    fast = fast_facts(content, line)
    assert strict(fast_facts(memoryview(bytearray(content)), line)) == strict(fast), content[:300]
    taken = fast is not None and block_valid([content])
    if taken:
        assert strict(fast) == strict(reference), f"(a) fast {fast} != reference {reference} for {content[:300]!r}"
    if reference[0] is LineKind.INVALID:
        assert not taken, f"(b) the fast path accepts a line line_facts rejects ({reference[2]}): {content[:300]!r}"
    return fast if taken else None


def stored_ordinal(ordinal: int | None | bool) -> int:
    """How a model stores an ordinal (model._Store.replace)."""
    if ordinal is None:
        return ORDINAL_ABSENT
    if ordinal is False or not -(2**63) <= ordinal < 2**63:
        return ORDINAL_NOT_INT
    return ordinal


def reference_model(data: bytes) -> tuple[object, ...]:
    """The model read_rollout must build, from line_facts on each line and the torn-last-line rule of
    model._exact written out again here."""
    offsets: list[int] = []
    kinds = bytearray()
    ordinals: list[int] = []
    records: dict[int, object] = {}
    start = 0
    for n, (content, unterminated) in enumerate(split_file(data)):
        offsets.append(start)
        start = data.find(b"\n", start) + 1 or len(data)
        kind, ordinal, record = line_facts(content, n)
        if kind is LineKind.INVALID and unterminated:
            record = Invalid(n, "torn: the file ends in the middle of this line")
            if b"\x00" in content or content.strip(b"\x00") == b"":
                record = Invalid(n, describe_invalid(content, ValueError()))
        kinds.append(kind)
        ordinals.append(stored_ordinal(ordinal))
        if record is not None:
            records[n] = record
    offsets.append(len(data))
    return offsets, bytes(kinds), ordinals, sorted(records.items()), data.startswith(BOM)


def written(folder: Path, data: bytes) -> Path:
    """``data`` as a rollout file in ``folder``."""
    path = folder / NAME
    path.write_bytes(data)
    return path


def assert_reads_as_reference(path: Path) -> None:
    """(d) for the file at ``path``, with the first differing line named."""
    data = path.read_bytes()
    expected = reference_model(data)
    with read_rollout(path) as model:
        got = model_state(model)
    if got != expected:
        for n in range(max(len(got[1]), len(expected[1]))):
            line = [(s[1][n : n + 1], s[2][n : n + 1]) for s in (got, expected)]
            recs = [dict(s[3]).get(n) for s in (got, expected)]
            assert (line[0], recs[0]) == (line[1], recs[1]), f"line {n}: {split_file(data)[n][0][:200]!r}"
    assert got == expected


def envelope(kind: str, payload: object, **top: object) -> bytes:
    """An envelope line as Codex writes it."""
    return orjson.dumps({"timestamp": TS, "type": kind, "payload": payload, **top})


def event(payload: bytes, extra: bytes = b"") -> bytes:
    """An event_msg line from raw payload bytes (for bytes orjson would not write)."""
    return b'{"timestamp":"' + TS.encode() + b'","type":"event_msg","payload":' + payload + extra + b"}"


def item(payload: bytes, extra: bytes = b"") -> bytes:
    """A response_item line from raw payload bytes."""
    return b'{"timestamp":"' + TS.encode() + b'","type":"response_item","payload":' + payload + extra + b"}"


def nested(depth: int, wrap: str = "[") -> bytes:
    """A value ``depth`` containers deep (a bare ``[]`` is 1)."""
    if wrap == "[":
        return b"[" * depth + b"]" * depth
    return b'{"k":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


def skipped_at_depth(depth: int, wrap: str = "[") -> bytes:
    """A token_count event whose whole line nests ``depth`` deep (line object 1, payload 2), in a field
    fast_facts skips."""
    return event(b'{"type":"token_count","deep":' + nested(depth - 2, wrap) + b"}")


# --- 1. every fixture line ------------------------------------------------------------------------------

FIXTURE_FILES = sorted(p for folder in ("real", "cases", "hostile") for p in (FIXTURES / folder).glob("**/*.jsonl"))
REAL_LINES = [c for p in sorted((FIXTURES / "real").glob("**/*.jsonl")) for c, _ in split_file(p.read_bytes())]


def test_the_fixtures_are_there() -> None:
    """Guards the tests below against a glob that silently finds nothing."""
    assert len(FIXTURE_FILES) > 150 and len(REAL_LINES) > 150
    assert any("hostile" in p.parts for p in FIXTURE_FILES) and any("cases" in p.parts for p in FIXTURE_FILES)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_line_agrees_with_the_reference(path: Path) -> None:
    """(a) and (b) on lines Codex wrote, and on the damaged and odd ones the other tests are built from."""
    for n, (content, _) in enumerate(split_file(path.read_bytes())):
        check_line(content, n)


def test_the_fast_path_answers_for_most_real_lines() -> None:
    """If fast_facts started deferring everything, every other test here would still pass: the share of
    real lines it takes, and the kinds of record it makes, keep it honest."""
    lines_ = [c for c in REAL_LINES if c.strip()]
    taken = [(n, f) for n, c in enumerate(lines_) if (f := check_line(c, n)) is not None]
    share = len(taken) / len(lines_)
    assert share >= 0.8, f"the fast path took only {len(taken)} of {len(lines_)} real lines ({share:.0%})"
    records = [f[2] for _, f in taken]
    kinds = {r.kind for r in records if isinstance(r, Item)}
    assert kinds >= {ItemKind.CALL, ItemKind.OUTPUT, ItemKind.MESSAGE}, kinds
    assert any(isinstance(r, Item) and r.contextual for r in records), "no contextual message taken"
    assert any(isinstance(r, Event) and r.call_id for r in records), "no output event taken"
    assert any(type(f[1]) is int for _, f in taken), "no ordinal taken"


# --- 2. edge cases --------------------------------------------------------------------------------------


class Case(NamedTuple):
    """A line, what line_facts says of it (kind, ordinal, and some record fields), and whether the fast
    path must take it ("fast"), must leave it to line_facts ("slow") or may do either (None)."""

    name: str
    content: bytes
    kind: LineKind
    route: str | None = None
    ordinal: object = None
    record: dict[str, object] | Callable[[object], bool] | None = None


def _invalid(why: str) -> Callable[[object], bool]:
    return lambda r: isinstance(r, Invalid) and why in r.reason


def fco(output: bytes | None, call_id: bytes = b'"c1"') -> bytes:
    body = b'{"type":"function_call_output","call_id":' + call_id
    return item(body + (b"" if output is None else b',"output":' + output) + b"}")


CONTEXT = "<environment_context>\n  <cwd>/work</cwd>\n</environment_context>"
R, E, INV = LineKind.RESPONSE_ITEM, LineKind.EVENT, LineKind.INVALID

CASES = [
    # Bytes msgspec skips without looking: the block check must catch them.
    Case("invalid-utf8-in-skipped-field", item(b'{"type":"reasoning","blob":"ab\xffcd"}'), INV, "slow",
         record=_invalid("invalid UTF-8")),
    Case("invalid-utf8-in-skipped-key", event(b'{"type":"token_count","info":{"k\xfe":1}}'), INV, "slow",
         record=_invalid("invalid UTF-8")),
    Case("invalid-utf8-in-string-output", fco(b'"ok \xff"'), INV, "slow", record=_invalid("invalid UTF-8")),
    Case("invalid-utf8-in-list-output", fco(b'[{"type":"input_text","text":"\xff"}]'), INV, "slow",
         record=_invalid("invalid UTF-8")),
    Case("invalid-utf8-in-call-id", item(b'{"type":"function_call","call_id":"c\xff"}'), INV, "slow"),
    Case("invalid-utf8-in-user-content", item(
        b'{"type":"message","role":"user","content":"<environment_context>\xff</environment_context>"}'),
        INV, "slow"),
    Case("overlong-utf8", item(b'{"type":"reasoning","blob":"\xc0\xaf"}'), INV, "slow"),
    Case("encoded-surrogate", item(b'{"type":"reasoning","blob":"\xed\xa0\x80"}'), INV, "slow"),
    Case("past-u10ffff", item(b'{"type":"reasoning","blob":"\xf4\x90\x80\x80"}'), INV, "slow"),
    Case("truncated-sequence", item(b'{"type":"reasoning","blob":"\xe2\x82"}'), INV, "slow"),
    Case("nul-in-string", event(b'{"type":"token_count","s":"\x00"}'), INV, "slow", record=_invalid("NUL")),
    Case("noncharacter-is-fine", item(b'{"type":"reasoning","blob":"\xef\xbf\xbf"}'), R, "fast"),
    # Escapes: serde_json and orjson reject a lone surrogate.
    Case("lone-high-surrogate-escape", item(b'{"type":"reasoning","blob":"\\ud800"}'), INV, "slow"),
    Case("lone-low-surrogate-escape", item(b'{"type":"reasoning","blob":"\\udc00"}'), INV, "slow"),
    Case("high-then-not-low-escape", item(b'{"type":"reasoning","blob":"\\ud800\\u0041"}'), INV, "slow"),
    Case("lone-surrogate-in-call-id", item(b'{"type":"function_call","call_id":"\\ud800"}'), INV, "slow"),
    Case("paired-surrogate-escape", item(b'{"type":"reasoning","blob":"\\udbff\\udfff"}'), R, "fast"),
    Case("bad-escape", item(b'{"type":"reasoning","blob":"\\a"}'), INV, "slow"),
    Case("control-char-in-string", item(b'{"type":"reasoning","blob":"a\tb"}'), INV, "slow"),
    # Numbers a double cannot hold: Codex's serde_json rejects the line, msgspec skips them.
    Case("1e999", event(b'{"type":"token_count","n":1e999}'), INV, "slow", record=_invalid("infinity")),
    Case("-1e999", event(b'{"type":"token_count","n":-1e999}'), INV, "slow", record=_invalid("infinity")),
    Case("1e309", event(b'{"type":"token_count","n":1e309}'), INV, "slow"),
    Case("rounds-to-infinity", event(b'{"type":"token_count","n":1.7976931348623159e308}'), INV, "slow"),
    Case("largest-double", event(b'{"type":"token_count","n":1.7976931348623157e308}'), E, "fast"),
    Case("400-digit-integer", event(b'{"type":"token_count","n":1' + b"0" * 399 + b"}"), INV, "slow",
         record=_invalid("infinity")),
    Case("tiny-underflows-to-zero", event(b'{"type":"token_count","n":1e-999}'), E, "fast"),
    Case("1e999-in-output", fco(b"[1e999]"), INV, "slow"),
    Case("1e999-in-user-content", item(b'{"type":"message","role":"user","content":[1e999]}'), INV, "slow"),
    Case("NaN", event(b'{"type":"token_count","n":NaN}'), INV, "slow"),
    # Integers past 64 bits: orjson reads them as floats, simdjson refuses them; both mean line_facts.
    Case("u64-max-skipped", event(b'{"type":"token_count","n":18446744073709551615}'), E, "fast"),
    Case("2**64-skipped", event(b'{"type":"token_count","n":18446744073709551616}'), E, "slow"),
    Case("below-i64-skipped", event(b'{"type":"token_count","n":-9223372036854775809}'), E, "slow"),
    Case("30-digit-skipped", event(b'{"type":"token_count","n":123456789012345678901234567890}'), E, "slow"),
    Case("ordinal-2**64", event(b'{"type":"token_count"}', b',"ordinal":18446744073709551616'), E, "slow",
         ordinal=False),
    Case("ordinal-below-i64", event(b'{"type":"token_count"}', b',"ordinal":-9223372036854775809'), E, "slow",
         ordinal=False),
    Case("ordinal-2**63", event(b'{"type":"token_count"}', b',"ordinal":9223372036854775808'), E, None,
         ordinal=2**63),
    Case("num-turns-2**64", event(b'{"type":"thread_rolled_back","num_turns":18446744073709551616}'), E, "slow",
         record={"num_turns": None}),
    # Nesting: Codex reads a line 128 deep and skips one 129 deep.
    Case("nested-128-array", skipped_at_depth(CODEX_MAX_DEPTH), E, "fast"),
    Case("nested-129-array", skipped_at_depth(CODEX_MAX_DEPTH + 1), INV, "slow", record=_invalid("nested more")),
    Case("nested-128-object", skipped_at_depth(CODEX_MAX_DEPTH, "{"), E, "fast"),
    Case("nested-129-object", skipped_at_depth(CODEX_MAX_DEPTH + 1, "{"), INV, "slow",
         record=_invalid("nested more")),
    Case("nested-129-in-output", fco(nested(CODEX_MAX_DEPTH - 1)), INV, "slow", record=_invalid("nested more")),
    Case("nested-128-in-output", fco(nested(CODEX_MAX_DEPTH - 2)), R, "fast",
         record={"output_problem": "output[0] is not an object"}),
    Case("nested-129-in-user-content", item(b'{"type":"message","role":"user","content":'
                                            + nested(CODEX_MAX_DEPTH - 1) + b"}"), INV, "slow"),
    Case("nested-2000", skipped_at_depth(2000), INV, "slow", record=_invalid("nested more")),
    # Duplicate keys: the last one wins, as in orjson and serde_json's map visitor.
    Case("type-twice", b'{"timestamp":"' + TS.encode() + b'","type":"event_msg","type":"response_item",'
         b'"payload":{"type":"function_call","call_id":"c1"}}', R, "fast", record={"kind": ItemKind.CALL}),
    Case("payload-twice", b'{"timestamp":"' + TS.encode() + b'","type":"response_item",'
         b'"payload":{"type":"function_call","call_id":"a"},"payload":{"type":"function_call"}}', R, "fast",
         record={"call_id": None, "kind": ItemKind.OTHER}),
    Case("payload-type-twice", item(b'{"type":"reasoning","type":"function_call","call_id":"b"}'), R, "fast",
         record={"call_id": "b"}),
    Case("call-id-twice", item(b'{"type":"function_call","call_id":"a","call_id":null}'), R, "fast",
         record={"call_id": None}),
    Case("output-twice", fco(b'5,"output":"fine"'), R, "fast", record={"output_ok": True}),
    Case("ordinal-twice", event(b'{"type":"token_count"}', b',"ordinal":1,"ordinal":2'), E, "fast", ordinal=2),
    Case("item-twice", event(b'{"type":"item_completed","item":{"type":"CommandExecution","id":"c1"},'
                             b'"item":{"type":"AgentMessage"}}'), E, "fast", record=lambda r: r is None),
    Case("escaped-key", b'{"timestamp":"' + TS.encode() + b'","typ\\u0065":"response_item",'
         b'"payload":{"type":"function_call","call_id":"c1"}}', R, "fast", record={"call_id": "c1"}),
    Case("escaped-value", item(b'{"type":"function_c\\u0061ll","call_id":"c\\u00e9"}'), R, "fast",
         record={"type": "function_call", "call_id": "c\u00e9"}),
    # call_id: only a non-empty string pairs.
    Case("call-id-number", item(b'{"type":"function_call","call_id":5}'), R, None,
         record={"kind": ItemKind.OTHER, "call_id": None}),
    Case("call-id-null", item(b'{"type":"function_call","call_id":null}'), R, "fast",
         record={"kind": ItemKind.OTHER, "call_id": None}),
    Case("call-id-empty", item(b'{"type":"function_call","call_id":""}'), R, "fast",
         record={"kind": ItemKind.OTHER, "call_id": None}),
    # An output with no call_id, or an empty one, answers no call (orphan-output); one Codex cannot read
    # (a call_id that is not a string) is bad-output-shape's.
    Case("output-call-id-number", fco(b'"x"', b"3"), R, None,
         record={"output_problem": "call_id is int, not a string", "call_id_problem": None}),
    Case("output-call-id-null", fco(b'"x"', b"null"), R, "fast",
         record={"kind": ItemKind.OTHER, "output_ok": True, "call_id_problem": "has no call_id"}),
    Case("output-call-id-absent", item(b'{"type":"function_call_output","output":"x"}'), R, "fast",
         record={"kind": ItemKind.OTHER, "call_id": None, "call_id_problem": "has no call_id"}),
    Case("output-call-id-empty", fco(b'"x"', b'""'), R, "fast",
         record={"kind": ItemKind.OTHER, "call_id_problem": "has an empty call_id"}),
    Case("custom-output-call-id-absent", item(b'{"type":"custom_tool_call_output","output":"x"}'), R, "fast",
         record={"kind": ItemKind.OTHER, "call_id_problem": "has no call_id"}),
    Case("custom-output-call-id-list", item(b'{"type":"custom_tool_call_output","call_id":["c1"],"output":"x"}'),
         R, None, record={"output_problem": "call_id is list, not a string", "call_id_problem": None}),
    Case("output-call-id-string", fco(b'"x"'), R, "fast", record={"kind": ItemKind.OUTPUT, "call_id_problem": None}),
    # output: a string or a list of content items.
    Case("output-string", fco(b'"done"'), R, "fast", record={"kind": ItemKind.OUTPUT, "output_ok": True}),
    Case("output-string-leading-space", fco(b'  "done"'), R, "fast", record={"output_ok": True}),
    Case("output-list", fco(b'[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"u"}]'), R,
         "fast", record={"output_ok": True}),
    Case("output-list-bad-item", fco(b'[{"type":"input_text","text":"a"},{"type":"weird"}]'), R, "fast",
         record={"output_ok": False, "output_problem": "output[1] has content type 'weird'"}),
    Case("output-list-not-object", fco(b'["a"]'), R, "fast", record={"output_problem": "output[0] is not an object"}),
    Case("output-list-type-list", fco(b'[{"type":[1]}]'), R, "fast", record={"output_ok": False}),
    Case("output-object", fco(b'{"content":"ok","success":true}'), R, "fast",
         record={"output_ok": False, "output_problem": "output is dict, not a string or a list of content items"}),
    Case("output-number", fco(b"3"), R, "fast", record={"output_ok": False}),
    Case("output-null", fco(b"null"), R, "fast", record={"output_problem": "output is null, not a string or a "
                                                                           "list of content items"}),
    Case("output-absent", fco(None), R, "fast", record={"output_ok": False}),
    # Content items (run: 0.77.0, 0.169.0, 0.171.0): what every release drops, what only 0.77.0 drops.
    Case("output-encrypted-content", fco(b'[{"type":"input_text","text":"a"},'
                                         b'{"type":"encrypted_content","encrypted_content":"gAAA"}]'), R, "fast",
         record={"output_ok": True, "old_release_problem": "output[1] is encrypted_content"}),
    Case("output-input-audio", fco(b'[{"type":"input_audio","audio_url":"data:audio/wav;base64,UklGRg=="}]'), R,
         "fast", record={"output_ok": True, "old_release_problem": "output[0] is input_audio"}),
    Case("output-input-audio-api-shape", fco(b'[{"type":"input_audio","input_audio":{"data":"x","format":"wav"}}]'),
         R, "fast", record={"output_ok": False, "output_problem": "output[0] (input_audio) has no string audio_url"}),
    Case("output-output-text", fco(b'[{"type":"input_text","text":"a"},{"type":"output_text","text":"b"}]'), R,
         "fast", record={"output_ok": False, "output_problem": "output[1] has content type 'output_text'",
                         "old_release_problem": None}),
    Case("output-input-text-no-text", fco(b'[{"type":"input_text"}]'), R, "fast",
         record={"output_problem": "output[0] (input_text) has no string text"}),
    Case("output-input-text-number", fco(b'[{"type":"input_text","text":5}]'), R, "fast",
         record={"output_problem": "output[0] (input_text) has no string text"}),
    Case("output-image-no-url", fco(b'[{"type":"input_image","detail":"low"}]'), R, "fast",
         record={"output_problem": "output[0] (input_image) has no string image_url"}),
    Case("output-image-detail-original", fco(b'[{"type":"input_image","image_url":"u","detail":"original"}]'), R,
         "fast", record={"output_ok": True, "old_release_problem": None}),
    Case("output-image-detail-null", fco(b'[{"type":"input_image","image_url":"u","detail":null}]'), R, "fast",
         record={"output_ok": True}),
    Case("output-image-detail-bad", fco(b'[{"type":"input_image","image_url":"u","detail":"ultra"}]'), R, "fast",
         record={"output_problem": "output[0] (input_image) has detail 'ultra' (0.77.0 ignores it; 0.169.0 and "
                                   "0.171.0 cannot read it)"}),
    Case("output-encrypted-then-bad", fco(b'[{"type":"encrypted_content","encrypted_content":"x"},{"type":"x"}]'),
         R, "fast", record={"output_problem": "output[1] has content type 'x'", "old_release_problem": None}),
    Case("output-empty-list", fco(b"[]"), R, "fast", record={"output_ok": True, "old_release_problem": None}),
    Case("custom-output-list", item(b'{"type":"custom_tool_call_output","call_id":"c1",'
                                    b'"output":[{"type":"input_text","text":"a"}]}'), R, "fast",
         record={"output_ok": True, "old_release_problem": "output is a list, not a string"}),
    Case("custom-output-string", item(b'{"type":"custom_tool_call_output","call_id":"c1","output":"a"}'), R,
         "fast", record={"output_ok": True, "old_release_problem": None}),
    # tool_search_output: Codex keeps a server-side one, and one with no call_id; neither answers a call.
    Case("tool-search-output-number", item(b'{"type":"tool_search_output","call_id":"c1","output":5}'), R, "fast",
         record={"kind": ItemKind.OUTPUT, "output_ok": True}),
    Case("tool-search-output-server", envelope("response_item", {
        "type": "tool_search_output", "call_id": "c1", "status": "completed", "execution": "server", "tools": []}),
        R, "fast", record={"kind": ItemKind.OTHER, "call_id": None, "call_id_problem": None}),
    Case("tool-search-output-server-empty-id", envelope("response_item", {
        "type": "tool_search_output", "call_id": "", "execution": "server"}), R, "fast",
        record={"kind": ItemKind.OTHER, "call_id_problem": None}),
    Case("tool-search-output-server-number-id", envelope("response_item", {
        "type": "tool_search_output", "call_id": 5, "execution": "server"}), R, None,
        record={"kind": ItemKind.OTHER, "output_problem": "call_id is int, not a string", "call_id_problem": None}),
    Case("tool-search-output-null-id", envelope("response_item", {
        "type": "tool_search_output", "call_id": None, "execution": "client"}), R, "fast",
        record={"kind": ItemKind.OTHER, "call_id_problem": None}),
    Case("tool-search-output-no-id", envelope("response_item", {"type": "tool_search_output", "execution": "client"}),
         R, "fast", record={"kind": ItemKind.OTHER, "call_id_problem": None}),
    Case("tool-search-output-client-empty-id", envelope("response_item", {
        "type": "tool_search_output", "call_id": "", "execution": "client"}), R, "fast",
        record={"kind": ItemKind.OTHER, "call_id_problem": "has an empty call_id"}),
    Case("tool-search-output-client", envelope("response_item", {
        "type": "tool_search_output", "call_id": "c1", "execution": "client"}), R, "fast",
        record={"kind": ItemKind.OUTPUT, "call_id": "c1", "call_id_problem": None}),
    # num_turns: only a JSON integer counts.
    Case("num-turns-true", event(b'{"type":"thread_rolled_back","num_turns":true}'), E, None,
         record={"num_turns": None}),
    Case("num-turns-2.0", event(b'{"type":"thread_rolled_back","num_turns":2.0}'), E, None,
         record={"num_turns": None}),
    Case("num-turns-2e0", event(b'{"type":"thread_rolled_back","num_turns":2e0}'), E, None,
         record={"num_turns": None}),
    Case("num-turns-2", event(b'{"type":"thread_rolled_back","num_turns":2}'), E, "fast", record={"num_turns": 2}),
    Case("num-turns-absent", event(b'{"type":"thread_rolled_back"}'), E, "fast", record={"num_turns": None}),
    # ordinal: False when present but not an integer.
    Case("ordinal-true", event(b'{"type":"token_count"}', b',"ordinal":true'), E, None, ordinal=False),
    Case("ordinal-1.5", event(b'{"type":"token_count"}', b',"ordinal":1.5'), E, None, ordinal=False),
    Case("ordinal-1.0", event(b'{"type":"token_count"}', b',"ordinal":1.0'), E, None, ordinal=False),
    Case("ordinal-1e2", event(b'{"type":"token_count"}', b',"ordinal":1e2'), E, None, ordinal=False),
    Case("ordinal-string", event(b'{"type":"token_count"}', b',"ordinal":"3"'), E, None, ordinal=False),
    Case("ordinal-0", event(b'{"type":"token_count"}', b',"ordinal":0'), E, "fast", ordinal=0),
    Case("ordinal--1", event(b'{"type":"token_count"}', b',"ordinal":-1'), E, "fast", ordinal=-1),
    Case("ordinal-absent", event(b'{"type":"token_count"}'), E, "fast", ordinal=None),
    Case("ordinal-on-an-item", item(b'{"type":"function_call","call_id":"c1"}', b',"ordinal":41'), R, "fast",
         ordinal=41, record={"kind": ItemKind.CALL}),
    # Messages: a user message holding an injected context marker is contextual.
    Case("user-context-list", envelope("response_item", {"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": CONTEXT}]}), R, "fast", record={"contextual": True, "role": "user"}),
    Case("user-context-string", envelope("response_item", {"type": "message", "role": "user", "content": CONTEXT}),
         R, "fast", record={"contextual": True}),
    Case("user-context-padded-upper", envelope("response_item", {"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": "  \n<ENVIRONMENT_CONTEXT>x</environment_context>\n "}]}), R, "fast",
        record={"contextual": True}),
    Case("user-context-after-bad-part", envelope("response_item", {"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": 5}, "x", {"text": CONTEXT}]}), R, "fast", record={"contextual": True}),
    Case("user-plain", envelope("response_item", {"type": "message", "role": "user", "content": "hello"}), R,
         "fast", record={"contextual": False}),
    Case("assistant-context", envelope("response_item", {"type": "message", "role": "assistant",
                                                         "content": CONTEXT}), R, "fast", record={"contextual": False}),
    Case("user-content-number", envelope("response_item", {"type": "message", "role": "user", "content": 5}), R,
         "fast", record={"contextual": False}),
    Case("message-no-role", envelope("response_item", {"type": "message", "content": CONTEXT}), R, "fast",
         record={"role": None, "contextual": False}),
    Case("message-role-number", envelope("response_item", {"type": "message", "role": 5}), R, None,
         record={"role": None}),
    # item_completed: the item's id is the call id, for the item types that hold a tool's result.
    Case("item-completed-command", envelope("event_msg", {"type": "item_completed", "item": {
        "type": "CommandExecution", "id": "c1", "aggregated_output": "ok"}}), E, "fast",
        record={"call_id": "c1", "type": "item_completed"}),
    Case("item-completed-numeric-id", envelope("event_msg", {"type": "item_completed", "item": {
        "type": "CommandExecution", "id": 5}}), E, None, record=lambda r: r is None),
    Case("item-completed-no-id", envelope("event_msg", {"type": "item_completed", "item": {
        "type": "FileChange"}}), E, "fast", record=lambda r: r is None),
    Case("item-completed-other-item", envelope("event_msg", {"type": "item_completed", "item": {
        "type": "AgentMessage", "id": "c1"}}), E, "fast", record=lambda r: r is None),
    Case("item-completed-item-string", envelope("event_msg", {"type": "item_completed", "item": "x"}), E, None,
         record=lambda r: r is None),
    Case("exec-end", envelope("event_msg", {"type": "exec_command_end", "call_id": "c1"}), E, "fast",
         record={"call_id": "c1"}),
    Case("exec-end-numeric-call-id", envelope("event_msg", {"type": "exec_command_end", "call_id": 1}), E, None,
         record=lambda r: r is None),
    Case("exec-end-no-call-id", envelope("event_msg", {"type": "exec_command_end"}), E, "fast",
         record=lambda r: r is None),
    # tool_search_call: only a client-side search waits for an output.
    Case("tool-search-client", envelope("response_item", {"type": "tool_search_call", "call_id": "c1",
                                                          "execution": "client"}), R, "fast",
         record={"kind": ItemKind.CALL, "call_id": "c1"}),
    Case("tool-search-server", envelope("response_item", {"type": "tool_search_call", "call_id": "c1",
                                                          "execution": "server"}), R, "fast",
         record={"kind": ItemKind.OTHER, "call_id": None}),
    Case("tool-search-no-execution", envelope("response_item", {"type": "tool_search_call", "call_id": "c1"}), R,
         "fast", record={"kind": ItemKind.OTHER}),
    Case("local-shell-named", envelope("response_item", {"type": "local_shell_call", "call_id": "c1"}), R, "fast",
         record={"name": "local_shell"}),
    Case("call-name-number", envelope("response_item", {"type": "function_call", "call_id": "c1", "name": 5}), R,
         None, record={"name": None}),
    # null where a string is expected: line_facts reads it as absent.
    Case("role-null", item(b'{"type":"message","role":null,"content":"x"}'), R, None, record={"role": None}),
    Case("name-null", item(b'{"type":"function_call","call_id":"c1","name":null}'), R, None, record={"name": None}),
    Case("execution-null", item(b'{"type":"tool_search_call","call_id":"c1","execution":null}'), R, None,
         record={"kind": ItemKind.OTHER}),
    Case("content-null", item(b'{"type":"message","role":"user","content":null}'), R, None,
         record={"contextual": False}),
    Case("payload-type-null", item(b'{"type":null,"call_id":"c1"}'), R, None, record=lambda r: r is None),
    Case("item-id-null", event(b'{"type":"item_completed","item":{"type":"CommandExecution","id":null}}'), E, None,
         record=lambda r: r is None),
    Case("item-null", event(b'{"type":"item_completed","item":null}'), E, None, record=lambda r: r is None),
    Case("item-absent", event(b'{"type":"item_completed","call_id":"c1"}'), E, None, record=lambda r: r is None),
    Case("num-turns-null", event(b'{"type":"thread_rolled_back","num_turns":null}'), E, None,
         record={"num_turns": None}),
    Case("exec-end-empty-call-id", event(b'{"type":"exec_command_end","call_id":""}'), E, None,
         record={"call_id": ""}),
    Case("ordinal-null", event(b'{"type":"token_count"}', b',"ordinal":null'), E, None, ordinal=False),
    Case("type-null", b'{"timestamp":"t","type":null,"payload":{}}', LineKind.OTHER, None),
    # Whitespace: JSON's own around the object is fine; a form feed is not JSON whitespace.
    Case("whitespace-around", b" \t" + event(b'{"type":"token_count"}') + b" \r\t", E, "fast"),
    Case("form-feed-before", b"\x0c" + event(b'{"type":"token_count"}'), INV, "slow"),
    Case("trailing-garbage", event(b'{"type":"token_count"}') + b" {}", INV, "slow"),
    Case("trailing-comma", event(b'{"type":"token_count",}'), INV, "slow"),
    Case("blank", b"  \t ", LineKind.BLANK, "slow"),
    Case("empty", b"", LineKind.BLANK, "slow"),
    # Payloads and timestamps Codex cannot read, and lines no rule reads.
    Case("payload-list", item(b"[1,2]"), INV, "slow", record=_invalid("payload is a JSON array")),
    Case("payload-null", item(b"null"), INV, "slow", record=_invalid("payload is a JSON null")),
    Case("payload-list-unknown-type", b'{"timestamp":"t","type":"mystery","payload":[1]}', LineKind.OTHER),
    Case("turn-context-payload-list", envelope("turn_context", [1]), INV, "slow"),
    Case("timestamp-missing", b'{"type":"event_msg","payload":{"type":"token_count"}}', INV, "slow",
         record=lambda r: isinstance(r, Invalid) and r.needs_timestamp),
    Case("timestamp-number", b'{"timestamp":5,"type":"response_item","payload":{"type":"message"}}', INV, "slow",
         record=lambda r: isinstance(r, Invalid) and r.needs_timestamp),
    Case("timestamp-number-then-string", b'{"timestamp":5,"timestamp":"t","type":"event_msg","payload":{}}', E),
    Case("turn-context", envelope("turn_context", {"cwd": "/w"}), LineKind.TURN_CONTEXT, "fast"),
    Case("unknown-type", envelope("mystery", {"a": 1}), LineKind.OTHER, "fast"),
    Case("unknown-type-no-timestamp", b'{"type":"mystery","payload":{}}', LineKind.OTHER),
    # A reasoning item is a record (reasoning-order judges where it stands), without its blob.
    Case("reasoning", envelope("response_item", {"type": "reasoning", "encrypted_content": "x" * 100}), R, "fast",
         record=lambda r: r.type == "reasoning" and r.bad_id is None and r.reasoning_content is None),
    Case("reasoning-foreign", envelope("response_item", {"type": "reasoning", "id": "item_1",
                                                         "content": [{"type": "reasoning_text", "text": "t"}]}),
         R, "fast", record=lambda r: r.bad_id == "item_1" and r.reasoning_content == 1),
    Case("call-bad-id", envelope("response_item", {"type": "custom_tool_call", "id": "fc_1", "call_id": "c",
                                                   "name": "apply_patch", "input": ""}),
         R, "fast", record=lambda r: r.bad_id == "fc_1"),
    Case("agent-message", envelope("response_item", {"type": "agent_message", "id": "amsg_1", "author": "/root/w",
                                                     "recipient": "/root", "content": [{"type": "input_text",
                                                                                        "text": "t"}]}),
         R, "fast", record=lambda r: r.role == "agent"),
    Case("inter-agent-line", envelope("inter_agent_communication", {"author": "/root/w", "recipient": "/root",
                                                                    "content": "done", "trigger_turn": False}),
         LineKind.INTER_AGENT, "slow", record=lambda r: r.type == "agent_message" and r.role == "agent"),
    Case("assistant-inter-agent-instruction", envelope("response_item", {
        "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": (
            '{"author":"/root","recipient":"/root/w","other_recipients":[],"content":"go","trigger_turn":true}')}]}),
         R, "fast", record=lambda r: r.inter_agent),
    Case("assistant-mentioning-trigger-turn", envelope("response_item", {
        "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "trigger_turn is a flag"}]}),
         R, "fast", record=lambda r: not r.inter_agent),
    Case("output-bad-image", envelope("response_item", {"type": "function_call_output", "call_id": "c", "output": [
        {"type": "input_text", "text": "t"}, {"type": "input_image", "image_url": "/tmp/a.png"}]}),
         R, "fast", record=lambda r: r.image_problem == ("output[1].image_url", "is not a valid URL")),
    Case("payload-type-number", item(b'{"type":5}'), R, None, record=lambda r: r is None),
    Case("session-meta", envelope("session_meta", {"id": "x", "cli_version": "0.77.0"}), LineKind.SESSION_META,
         record={"cli_version": "0.77.0"}),
    Case("compacted", envelope("compacted", {"message": "", "replacement_history": [
        {"type": "function_call", "call_id": "c1"}]}), LineKind.COMPACTED),
    # Legacy lines: no payload.
    Case("legacy-item", b'{"type":"function_call","call_id":"c1","name":"shell","arguments":"{}"}', R,
         record={"kind": ItemKind.CALL, "name": "shell"}),
    Case("legacy-header", b'{"id":"x","timestamp":"2025-08-01T00:00:00Z","instructions":null}',
         LineKind.LEGACY_HEADER),
    Case("legacy-state", b'{"record_type":"state"}', LineKind.LEGACY_STATE),
    Case("not-an-object", b"[1,2,3]", INV, "slow", record=_invalid("a JSON array")),
    Case("a-string", b'"x"', INV, "slow"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_edge_cases(case: Case) -> None:
    """Each line: (a) and (b) hold, line_facts says what is expected, and the fast path takes the line
    when it should (the common shapes) and leaves it when it must (anything line_facts rejects)."""
    taken = check_line(case.content, 3)
    kind, ordinal, record = line_facts(case.content, 3)
    assert kind is case.kind, (kind, record)
    if case.ordinal is not None or kind not in (LineKind.INVALID, LineKind.BLANK):
        assert strict((kind, case.ordinal, None)) == strict((kind, ordinal, None))
    if callable(case.record):
        assert case.record(record), record
    elif case.record is not None:
        assert record is not None and {k: getattr(record, k) for k in case.record} == case.record, record
    if case.route == "fast":
        assert taken is not None, f"the fast path should take this line: fast_facts={fast_facts(case.content, 3)}"
    elif case.route == "slow":
        assert taken is None


def test_nesting_128_is_read_and_129_is_not_through_read_rollout(tmp_path: Path) -> None:
    """The depth rule end to end: simdjson's limit, offset by the block's padding, falls on line 129."""
    lines_ = [envelope("session_meta", {"id": "x"}), skipped_at_depth(CODEX_MAX_DEPTH),
              skipped_at_depth(CODEX_MAX_DEPTH + 1), skipped_at_depth(CODEX_MAX_DEPTH, "{"),
              skipped_at_depth(CODEX_MAX_DEPTH + 1, "{"), fco(nested(CODEX_MAX_DEPTH - 1)),
              envelope("response_item", {"type": "function_call", "call_id": "c1"})]
    data = b"\n".join(lines_) + b"\n"
    assert_reads_as_reference(written(tmp_path, data))
    with read_rollout(tmp_path / NAME) as model:
        assert [model.kind(n) for n in range(len(model))] == [
            LineKind.SESSION_META, LineKind.EVENT, LineKind.INVALID, LineKind.EVENT, LineKind.INVALID,
            LineKind.INVALID, LineKind.RESPONSE_ITEM]
        for n in (2, 4, 5):
            assert "nested more than 128" in model.records[n].reason
        assert model.records[6].call_id == "c1"


# --- 3. mutated real lines and generated objects ---------------------------------------------------------

FRAGMENTS = [
    b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"1e999", b"-1e999", b"[" * 130,
    b"{" * 3, b"\\ud800", b"\\udc00", b"\\u00e9", b'"', b",", b":", b"}", b"]", b"\x00", b"\\", b" ", b"\x0c",
    b"18446744073709551616", b"-9223372036854775809", b"1" + b"0" * 400, b"null", b"true", b"1.5", b"2",
    b'"ordinal":1,', b'"ordinal":1.0,', b'"call_id":5,', b'"call_id":null,', b'"type":"function_call",',
    b'"output":{},', b'"timestamp":0,', b'"payload":[],', b'"num_turns":true,', b'"x":' + b"[" * 127 + b"]" * 127 + b",",
]
STRUCTURAL = frozenset(b'{}[]:,"\\')


@st.composite
def mutated_lines(draw: st.DrawFn) -> bytes:
    """A real line with one to three edits, at random places or at a structural byte."""
    line = bytearray(draw(st.sampled_from([c for c in REAL_LINES if c])))
    for _ in range(draw(st.integers(1, 3))):
        marks = [i for i, b in enumerate(line) if b in STRUCTURAL] or [0]
        values = [m.end() for m in re.finditer(rb'":"', line)] or [0]  # inside a string value
        pos = draw(st.one_of(st.integers(0, len(line)), st.sampled_from(marks), st.sampled_from(values)))
        op = draw(st.sampled_from(["flip", "insert", "delete", "splice", "splice", "replace"]))
        if op == "flip" and pos < len(line):
            line[pos] ^= draw(st.integers(1, 255))
        elif op == "insert":
            line[pos:pos] = bytes([draw(st.integers(0, 255))])
        elif op == "delete":
            del line[pos : pos + draw(st.integers(1, 4))]
        elif op == "splice":
            line[pos:pos] = draw(st.sampled_from(FRAGMENTS))
        else:
            line[pos : pos + draw(st.integers(1, 8))] = draw(st.sampled_from(FRAGMENTS))
    return bytes(line)


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(mutated_lines())
@example(REAL_LINES[1][:-1] + b',"n":1e999}')
def test_mutated_real_lines(content: bytes) -> None:
    """(a), (b); and a mutated line the fast path answers for fails a block exactly when it fails alone."""
    check_line(content)
    if fast_facts(content, 0) is not None:
        assert block_valid([GOOD[0], content, GOOD[-1]]) == block_valid([content])




def field_paths(fields: Fields, prefix: str = "") -> list[str]:
    """Every field of ``fields``, a nested one as ``item.id``."""
    return [path for key, json in fields.items()
            for path in [prefix + key, *(field_paths(json, f"{prefix}{key}.") if isinstance(json, dict) else [])]]


# The keys the table reads, at any depth, and a few the reference reads beyond it (legacy lines, content
# items): generated objects use them as keys.
FIELD_NAMES = sorted({path.rsplit(".", 1)[-1] for path in field_paths(ENVELOPE_FIELDS)} | {"text", "record_type"})
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12), st.sampled_from(["", "user", "client", "server", "c1", CONTEXT, "input_text",
                                           "CommandExecution", "function_call", "state"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=6)), inner,
                                            max_size=5)),
    max_leaves=12,
)


def _maybe(plausible: st.SearchStrategy[Any], odds: int = 8) -> st.SearchStrategy[Any]:
    """Mostly a value of the shape the field should have; one time in ``odds``, any JSON value."""
    return st.integers(0, odds - 1).flatmap(lambda n: json_values if n == 1 else plausible)


call_ids = st.sampled_from(["c1", "c2", ""])
content_items = st.lists(st.fixed_dictionaries({"type": _maybe(st.sampled_from(["input_text", "output_text",
                                                                                   "input_image", "encrypted_content",
                                                                                   "input_audio", "weird"]))},
                                               optional={"text": _maybe(st.sampled_from(["ok", CONTEXT])),
                                                         "image_url": _maybe(st.just("u")),
                                                         "detail": _maybe(st.sampled_from(["low", "original", "ultra"])),
                                                         "encrypted_content": _maybe(st.just("gAAA")),
                                                         "audio_url": _maybe(st.just("data:audio/wav;base64,"))}),
                         max_size=3)
# The values a payload field should mostly have, by its path in the table. A field the table gains
# without an entry here is drawn by its JSON type alone.
PLAUSIBLE = {
    "type": st.sampled_from(sorted({*ITEM_READS, *EVENT_READS, "reasoning", "token_count"})),
    "call_id": call_ids,
    "role": st.sampled_from(["user", "assistant"]),
    "name": st.sampled_from(["shell", "apply_patch"]),
    "execution": st.sampled_from(["client", "server"]),
    "output": st.one_of(st.text(max_size=10), content_items),
    "content": st.one_of(st.just(CONTEXT), content_items),
    "num_turns": st.integers(0, 5),
    "item.type": st.sampled_from(sorted(OUTPUT_ITEM_TYPES)),
    "item.id": call_ids,
}
BY_TYPE = {STRING: st.one_of(st.text(max_size=6), scalars.filter(lambda v: isinstance(v, str))),
           INTEGER: st.integers(-(2**63), 2**64 - 1), JSON: json_values}


def table_objects(fields: Fields, prefix: str = "") -> st.SearchStrategy[dict[str, Any]]:
    """Objects of the table's ``fields``: a ``type`` always, any other field or not, each mostly of the
    shape it should have, and a field the table does not know."""
    values = {key: _maybe(table_objects(json, f"{prefix}{key}.") if isinstance(json, dict)
                          else PLAUSIBLE.get(prefix + key, BY_TYPE[json]))
              for key, json in fields.items()}
    required = {key: value for key, value in values.items() if key == "type"}
    optional = {key: value for key, value in values.items() if key != "type"}
    return st.fixed_dictionaries(required, optional={**optional, "extra": json_values})


payloads = table_objects(PAYLOAD_FIELDS)


@st.composite
def line_objects(draw: st.DrawFn) -> dict[str, Any]:
    """An envelope, its fields mostly of the right shape, sometimes one of them missing."""
    obj = {"timestamp": draw(_maybe(st.just(TS))),
           "type": draw(_maybe(st.sampled_from(["response_item", "event_msg", "turn_context", "session_meta",
                                                "compacted", "mystery"]))),
           "payload": draw(_maybe(payloads))}
    if draw(st.booleans()):
        obj["ordinal"] = draw(_maybe(st.integers(-(2**63), 2**64 - 1)))
    obj.update(draw(st.dictionaries(st.sampled_from(["call_id", "record_type", "id", "extra"]), json_values,
                                    max_size=2)))
    if draw(st.integers(0, 7)) == 1:
        del obj[draw(st.sampled_from(sorted(obj)))]
    return obj


lines_as_objects = st.one_of(line_objects(), line_objects(), line_objects(), json_values)


@SETTINGS
@given(value=lines_as_objects, pad=st.sampled_from([b"", b" ", b"\t\r "]))
def test_generated_objects(value: object, pad: bytes) -> None:
    """(a), (b) on objects built from the fields fast_facts reads, in shapes right and wrong."""
    check_line(pad + orjson.dumps(value) + pad)


def test_the_generators_reach_both_outcomes_that_matter() -> None:
    """The property tests are only as good as what they draw: mutated lines must include some the fast
    path answers for that line_facts rejects (what (b) is about), generated objects some it takes whole."""
    quick = settings(max_examples=3000, database=None, deadline=None)
    find(mutated_lines(), lambda c: fast_facts(c, 0) is not None and line_facts(c, 0)[0] is LineKind.INVALID,
         settings=quick)
    find(lines_as_objects, lambda v: isinstance((fast_route(orjson.dumps(v)) or (0, 0, None))[2], Item),
         settings=quick)


def test_the_generators_draw_what_the_table_reads() -> None:
    """Generated payloads are drawn from the table, so a field it gains is drawn too; a plausible value
    kept for a field it no longer reads would test nothing."""
    stale = set(PLAUSIBLE) - set(field_paths(PAYLOAD_FIELDS))
    assert not stale, stale
    leaves = set(_leaf_types(ENVELOPE_FIELDS))
    assert leaves <= set(BY_TYPE), leaves - set(BY_TYPE)


def _leaf_types(fields: Fields) -> list[str]:
    return [leaf for json in fields.values()
            for leaf in (_leaf_types(json) if isinstance(json, dict) else [json])]


# --- the table itself ------------------------------------------------------------------------------------


ROWS = [*((t, 3, row) for t, row in ITEM_READS.items()), *((t, 2, row) for t, row in EVENT_READS.items())]


@pytest.mark.parametrize(("payload_type", "fixed", "reads"), ROWS, ids=lambda v: v if isinstance(v, str) else "")
def test_each_row_hands_its_builder_the_fields_it_names(payload_type: str, fixed: int, reads: Any) -> None:
    """Both paths hand a row's field values to its builder in the row's order, after (line, [index,]
    type): the builder's parameters must be those fields, in that order (``item.id`` as ``item_id``), and
    each field must be declared, or the fast path's Struct would not decode it."""
    assert set(reads.fields) <= set(field_paths(PAYLOAD_FIELDS)), reads.fields
    params = list(inspect.signature(reads.build).parameters)
    assert params[fixed : fixed + len(reads.fields)] == [f.replace(".", "_") for f in reads.fields], params
    assert params[fixed + len(reads.fields):] == (["json"] if fixed == 3 else []), params


# --- 4. blocks and whole files ---------------------------------------------------------------------------

GOOD = [c for c in REAL_LINES if fast_route(c) is not None]
# Lines fast_facts answers for that block_valid must reject, one per reason.
BAD = {case.name: case.content for case in CASES
       if fast_facts(case.content, 0) is not None and not block_valid([case.content])}


def test_the_bad_lines_cover_each_reason() -> None:
    """So the block tests below really put a line the fast path answered for into a failing block."""
    assert {"invalid-utf8-in-skipped-field", "1e999", "nested-129-array", "2**64-skipped"} <= set(BAD), sorted(BAD)


def test_joining_neither_hides_nor_invents_a_failure() -> None:
    """(c) on fixed blocks: every real line together, and each bad line anywhere among them."""
    assert block_valid(GOOD)
    assert block_valid([memoryview(bytearray(c)) for c in GOOD])
    for name, bad in BAD.items():
        for at in (0, len(GOOD) // 2, len(GOOD)):
            assert not block_valid([*GOOD[:at], bad, *GOOD[at:]]), name
    deep = skipped_at_depth(CODEX_MAX_DEPTH)
    assert block_valid([deep] * 50), "lines 128 deep side by side do not add up"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(GOOD), st.sampled_from(sorted(BAD.values())), mutated_lines()),
                min_size=1, max_size=8))
def test_a_block_is_valid_exactly_when_each_line_is(block: list[bytes]) -> None:
    """(c): for lines fast_facts answered for, one call over the block is the conjunction of one per line."""
    block = [c for c in block if fast_facts(c, 0) is not None]
    assert block_valid(block) == all(block_valid([c]) for c in block)


def _file(*lines_: bytes, end: bytes = b"\n") -> bytes:
    """The lines, each terminated."""
    return b"".join(line + end for line in lines_)


def _mixed_file() -> bytes:
    """Good lines, each bad kind of line, CRLF, a BOM, blank lines, lines past the 1 MiB read block, and a
    torn last line."""
    meta = envelope("session_meta", {"id": "x", "cli_version": "0.169.0", "history_mode": "paginated"}, ordinal=0)
    body = [meta + b"\r", *GOOD[:20], b"", b"   ", BAD["invalid-utf8-in-skipped-field"], *GOOD[20:30],
            BAD["1e999"] + b"\r", BAD["nested-129-array"], skipped_at_depth(CODEX_MAX_DEPTH), *GOOD[30:40],
            envelope("response_item", {"type": "function_call_output", "call_id": "c1",
                                       "output": "x" * (3 << 19)}, ordinal=9),  # 1.5 MiB, fast path
            *GOOD[40:45],
            item(b'{"type":"reasoning","blob":"' + b"y" * (5 << 18) + b'\xff"}'),  # 1.25 MiB, bad UTF-8 at the end
            envelope("event_msg", {"type": "exec_command_end", "call_id": "c1", "stdout": "z" * (1 << 20)}),
            *GOOD[45:60], BAD["2**64-skipped"], b"\x00" * 30, *GOOD[60:]]
    return BOM + _file(*body) + GOOD[0][: len(GOOD[0]) // 2]


@pytest.mark.parametrize("chunk", [1 << 20, 4096, 64])
@pytest.mark.parametrize("line_limit", [classify_fast.BLOCK_LINE_LIMIT, 1000])
def test_a_mixed_file_reads_as_the_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int,
                                             line_limit: int) -> None:
    """(d) with blocks of every size: many lines to a block, one line to a block (the buffer grows), and
    lines too long to join (BLOCK_LINE_LIMIT) left to line_facts."""
    monkeypatch.setattr(lines, "CHUNK", chunk)
    monkeypatch.setattr(classify_fast, "BLOCK_LINE_LIMIT", line_limit)
    data = _mixed_file()
    assert_reads_as_reference(written(tmp_path, data))
    with read_rollout(tmp_path / NAME) as model:
        assert model.has_bom and model.kind(0) is LineKind.SESSION_META
        last = len(model) - 1
        assert model.kind(last) is LineKind.INVALID and "torn" in model.records[last].reason


@pytest.mark.parametrize("pays", [True, False])
def test_both_ways_of_indexing_read_as_the_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     pays: bool) -> None:
    """A small file in a process that has not loaded the fast path is indexed by line_facts alone
    (indexing.fast_path_pays); either way the model is the reference's."""
    monkeypatch.setattr(indexing, "fast_path_pays", lambda size: pays)
    assert_reads_as_reference(written(tmp_path, _mixed_file()))


def test_check_file_on_a_small_session_does_not_import_the_fast_path(tmp_path: Path) -> None:
    """`check FILE` runs before every resume: on a small session, importing msgspec and simdjson would
    cost more than they save, so a fresh process must not."""
    path = written(tmp_path, b"".join(GOOD[:20]) + b"\n")
    code = ("import sys; from rollout_doctor.cli.main import main; code = main(['check', sys.argv[1]]); "
            "sys.stdout.flush(); print('IMPORTED', sorted(m for m in ('msgspec', 'simdjson') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, check=True,
                          env={**os.environ, "NO_COLOR": "1"})
    assert done.stdout.decode().rstrip().endswith("IMPORTED []"), done.stdout.decode()[-300:]


UNTERMINATED_OK = b'{"timestamp":"t","type":"event_msg","payload":{"type":"token_count"}}'


@pytest.mark.parametrize("tail", [b"", b"\n", b"\r\n", b"\x00\x00", UNTERMINATED_OK, b'{"timestamp":"t","ty'])
def test_the_last_line_with_and_without_its_newline(tmp_path: Path, tail: bytes) -> None:
    """(d) on the torn-last-line rule: only an unterminated INVALID last line is called torn."""
    assert_reads_as_reference(written(tmp_path, _file(*GOOD[:5]) + tail))


def test_a_bom_alone_and_crlf_alone(tmp_path: Path) -> None:
    """(d) where the byte order mark and the CR of a CRLF are all there is to a line."""
    for data in (BOM, BOM + b"\n", BOM + b"\r\n", BOM + GOOD[0], b"\r\n", b"\r", BOM + _file(*GOOD[:3], end=b"\r\n")):
        assert_reads_as_reference(written(tmp_path, data))


def test_one_bad_line_does_not_spoil_its_block(tmp_path: Path) -> None:
    """A block whose one fast-answered line has invalid UTF-8 in a skipped field is read again the
    reference way: the bad line is INVALID, and its neighbours keep the facts line_facts gives them."""
    bad = BAD["invalid-utf8-in-skipped-field"]
    assert fast_facts(bad, 0) is not None  # so it is the block check, not fast_facts, that catches it
    body = [*GOOD[:40], bad, *GOOD[40:80]]
    assert not block_valid(body)
    data = _file(*body)
    assert len(data) < lines.CHUNK  # one block
    assert_reads_as_reference(written(tmp_path, data))
    with read_rollout(tmp_path / NAME) as model:
        assert model.kind(40) is LineKind.INVALID and "invalid UTF-8" in model.records[40].reason
        for n, content in enumerate(body):
            if n != 40:
                kind, ordinal, record = line_facts(content, n)
                assert (model.kind(n), model.ordinals[n], model.records.get(n)) == (
                    kind, stored_ordinal(ordinal), record), n


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_file_reads_as_the_reference(path: Path) -> None:
    """(d) on every fixture, BOM, CRLF, NUL, torn and nested-129 files included."""
    assert_reads_as_reference(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.one_of(st.sampled_from(GOOD), st.sampled_from(sorted(BAD.values())), mutated_lines(),
                               st.sampled_from([b"", b" ", b"\x00\x00"])), max_size=25),
       ends=st.lists(st.sampled_from([b"\n", b"\r\n"]), min_size=25, max_size=25),
       bom=st.booleans(), torn=st.integers(0, 200), chunk=st.sampled_from([64, 512, 1 << 20]))
def test_built_files_read_as_the_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: list[bytes],
                                           ends: list[bytes], bom: bool, torn: int, chunk: int) -> None:
    """(d) on files of real, bad and mutated lines, cut short anywhere, read in blocks of several sizes.
    A mutated line can hold a newline: it is then two lines, as in any file."""
    monkeypatch.setattr(lines, "CHUNK", chunk)
    data = (BOM if bom else b"") + b"".join(line + end for line, end in zip(body, ends))
    data = data[: max(0, len(data) - torn)]
    assert_reads_as_reference(written(tmp_path, data))


# --- block_facts: a whole block at once answers as fast_facts line by line ------------------------------


def _per_line(contents: list[bytes], first: int) -> list[Facts | None]:
    return [fast_facts(c, first + n) for n, c in enumerate(contents)]


def assert_block_agrees(contents: list[bytes], first: int) -> None:
    """block_facts says, of every line it does not defer, exactly what fast_facts says; it defers a line
    only when fast_facts would (or for a session meta or compacted line, which line_facts reads); it
    gives up on the block only when fast_facts would defer some line for its shape."""
    block = classify_fast.block_facts(contents, first)
    per_line = _per_line(contents, first)
    if block is None:
        assert None in per_line
        return
    assert len(block.kinds) == len(block.ordinals) == len(contents)
    for n, expected in enumerate(per_line):
        if n in block.deferred:
            assert expected is None
            continue
        assert expected is not None, f"block_facts answered for line {n}, fast_facts defers it"
        got = (LineKind(block.kinds[n]), block.ordinals[n], block.records.get(first + n))
        assert strict(got) == strict(expected), f"line {n}"
    assert set(block.records) <= {first + n for n in range(len(contents))}


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_a_fixture_file_as_one_block_answers_as_line_by_line(path: Path) -> None:
    contents = [c for c, _ in split_file(path.read_bytes())]
    if contents:
        assert_block_agrees(contents, 40)


def test_real_files_are_answered_block_wide() -> None:
    """The block path must actually take real sessions whole, or it would silently stop saving time."""
    taken = [p for p in sorted((FIXTURES / "real").glob("**/*.jsonl"))
             if classify_fast.block_facts([c for c, _ in split_file(p.read_bytes())], 0) is not None]
    assert len(taken) >= 8, taken


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(GOOD), mutated_lines()), min_size=1, max_size=30),
       st.integers(0, 10**6))
def test_any_block_answers_as_line_by_line(contents: list[bytes], first: int) -> None:
    assert_block_agrees(contents, first)
