"""Hostile rollouts as named fixtures: real Codex sessions damaged the ways files get damaged.

Each case is built from a recorded rollout (fixtures/real, see its NOTES.md) and written to
``fixtures/hostile/<case>/`` under the session's own name, so the session-meta check runs as on a
real file. ``python -m tests.hostile`` rewrites them; tests/test_hostile.py checks that the
committed files are exactly what this module builds, and what check and fix make of each. Cases too
big to commit (a 20 MB line, 100,000 levels of nesting) are built by the tests themselves with
``big_cases``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from tests.support.safety import HOSTILE, real

ENVELOPE = "0.77.0-responses-single-call"  # 15 lines; line 8 is the function_call, 10 its output
PAGINATED = "0.169.0-responses-single-call"  # 19 lines with ordinals 0..18


def lines(scenario: str) -> list[bytes]:
    return real(scenario).read_bytes().splitlines(keepends=True)


def record(payload: object, line_type: str = "response_item", **extra: object) -> bytes:
    return orjson.dumps({"timestamp": "2026-11-21T15:00:44.050Z", "type": line_type, "payload": payload,
                         **extra}) + b"\n"


def nested(depth: int) -> bytes:
    """A user message line whose unknown field makes the whole line ``depth`` levels deep."""
    inner = depth - 3  # the line object, its payload, and the field's own list
    return (b'{"timestamp":"2026-11-21T15:00:44.050Z","type":"response_item","payload":{"type":"message",'
            b'"role":"user","content":[{"type":"input_text","text":"deep"}],"x":[' + b"[" * inner + b"]" * inner
            + b"]}}\n")


def _truncated_mid_line() -> bytes:
    base = lines(ENVELOPE)
    return b"".join(base[:8]) + base[8][: len(base[8]) // 2]


def _torn_then_appended() -> bytes:
    base = lines(ENVELOPE)
    return b"".join(base[:8]) + base[8][: len(base[8]) // 2] + b"\n" + b"".join(base[9:])


def _torn_then_glued() -> bytes:
    base = lines(ENVELOPE)
    return b"".join(base[:8]) + base[8][: len(base[8]) // 2] + b"".join(base[9:])


def _flipped_bytes() -> bytes:
    base = [bytearray(line) for line in lines(ENVELOPE)]
    base[2][0] ^= 0x20  # "{" -> "[": no longer an object, not even valid JSON
    at = base[4].index(b"run echo hi")
    base[4][at] ^= 0x20  # "r" -> "R" inside a string: still valid, and nothing to report
    at = base[5].index(b'"cwd"') + 2
    base[5][at] ^= 0x80  # "c" -> 0xE3, a UTF-8 lead byte with nothing after it
    return b"".join(bytes(line) for line in base)


def _nul_bytes() -> bytes:
    base = lines(ENVELOPE)
    # A crash on ext4 leaves zeroed blocks: a run of NULs as a line of its own, NULs in front of a
    # record, and a NUL tail where the file ends.
    return (b"".join(base[:5]) + b"\x00" * 512 + b"\n" + b"\x00" * 64 + base[5] + b"".join(base[6:])
            + b"\x00" * 4096)


def _bom() -> bytes:
    return b"\xef\xbb\xbf" + b"".join(lines(ENVELOPE))


def _crlf() -> bytes:
    return b"".join(line.replace(b"\n", b"\r\n") for line in lines(ENVELOPE))


def _no_final_newline() -> bytes:
    return b"".join(lines(ENVELOPE)).rstrip(b"\n")


def _not_objects() -> bytes:
    base = lines(ENVELOPE)
    return b"".join(base[:5]) + b'[1,2]\n"text"\n42\nnull\ntrue\n{}\n' + b"".join(base[5:])


def _invalid_utf8() -> bytes:
    base = lines(ENVELOPE)
    bad = record({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "XX"}]})
    return b"".join(base[:5]) + bad.replace(b"XX", b"\xff\xfe") + b"".join(base[5:])


def _wrong_types() -> bytes:
    base = lines(ENVELOPE)
    odd = [
        (b'{"timestamp":12,"type":"response_item","payload":{"type":"function_call","name":7,'
         b'"arguments":{"a":[1]},"call_id":"call_wrong_types"}}\n'),  # a call with no output (and odd fields)
        record({"type": "function_call_output", "call_id": 5, "output": "x"}),
        record({"type": "function_call_output", "call_id": base_call_id(), "output": {"content": "x"}}),
        record({"type": "thread_rolled_back", "num_turns": "2"}, "event_msg"),
        record({"message": "", "replacement_history": "not a list"}, "compacted"),
        record({"type": ["function_call"]}),
        orjson.dumps({"timestamp": "2026-11-21T15:00:44.050Z", "type": 7, "payload": {}}) + b"\n",
        record({"type": "message", "role": 5, "content": "not a list"}),
    ]
    return b"".join(base[:11]) + b"".join(odd) + b"".join(base[11:])


def base_call_id() -> str:
    for line in lines(ENVELOPE):
        obj = orjson.loads(line)
        if obj["payload"].get("type") == "function_call":
            return obj["payload"]["call_id"]
    raise AssertionError("the envelope fixture has a function_call")


def _payload_not_object() -> bytes:
    base = lines(ENVELOPE)
    odd = [record([1]), record("x"), record(None), record(7, "event_msg"), record([], "compacted"),
           record(False, "turn_context")]
    return b"".join(base[:5]) + b"".join(odd) + b"".join(base[5:])


def _empty() -> bytes:
    return b""


def _blank_lines() -> bytes:
    return b"\n\n \n\t\n"


def _meta_torn() -> bytes:
    base = lines(ENVELOPE)
    return base[0][:200] + b"\n" + b"".join(base[1:])


def _nested_128() -> bytes:
    base = lines(ENVELOPE)
    return b"".join(base[:5]) + nested(128) + b"".join(base[5:])


def _nested_129() -> bytes:
    base = lines(ENVELOPE)
    return b"".join(base[:5]) + nested(129) + b"".join(base[5:])


def _paginated_truncated() -> bytes:
    base = lines(PAGINATED)
    return b"".join(base[:12]) + base[12][:100]


def _paginated_garbage_between() -> bytes:
    base = lines(PAGINATED)
    return b"".join(base[:6]) + b"\x00garbage\xff\n" + b"".join(base[6:])


def _paginated_glued_meta() -> bytes:
    # Found by tests/test_fuzz.py: two records glued on one line (split by the fix into two lines), then
    # a second pass renumbering ordinals: the engine lost track of which line came from where.
    base = lines(PAGINATED)
    meta = base[0].rstrip(b"\n")
    return meta + b"\r" + meta + b"\r\r\n" + b"".join(base[1:])


@dataclass(frozen=True)
class Case:
    name: str
    about: str
    build: Callable[[], bytes]
    scenario: str = ENVELOPE

    @property
    def path(self) -> Path:
        return HOSTILE / self.name / real(self.scenario).name


CASES = (
    Case("truncated-mid-line", "the file ends half-way through line 9 (a crash mid-write)", _truncated_mid_line),
    Case("torn-then-appended", "line 9 torn, then Codex appended the rest after a newline", _torn_then_appended),
    Case("torn-then-glued", "line 9 torn, with the next record glued on without a newline", _torn_then_glued),
    Case("flipped-bytes", "bit flips: a brace on line 3, a letter on line 5, invalid UTF-8 on line 6",
         _flipped_bytes),
    Case("nul-bytes", "NUL runs: a line of them, a prefix on a record, and a tail at the end", _nul_bytes),
    Case("bom", "a UTF-8 byte order mark before session_meta", _bom),
    Case("crlf", "every line ends in CRLF (Codex reads it; nothing to report, nothing to write)", _crlf),
    Case("no-final-newline", "the last record has no newline (complete, so nothing to report)", _no_final_newline),
    Case("empty", "zero bytes", _empty),
    Case("blank-lines", "only blank and whitespace lines", _blank_lines),
    Case("not-objects", "lines that are JSON but not objects: array, string, number, null, true", _not_objects),
    Case("invalid-utf8", "a record holding bytes that are not UTF-8", _invalid_utf8),
    Case("wrong-types", "fields of the wrong type: numbers for strings, objects for lists and strings",
         _wrong_types),
    Case("payload-not-object", "known line types whose payload is a list, string, null, number, false",
         _payload_not_object),
    Case("meta-torn", "session_meta cut short: the session has no readable meta", _meta_torn),
    Case("nested-128", "a line nested 128 levels deep: the most Codex reads", _nested_128),
    Case("nested-129", "a line nested 129 levels deep: Codex skips it", _nested_129),
    Case("paginated-truncated", "a 0.169.0 rollout cut off inside line 13", _paginated_truncated, PAGINATED),
    Case("paginated-garbage-between", "a 0.169.0 rollout with a garbage line after line 6",
         _paginated_garbage_between, PAGINATED),
    Case("paginated-glued-meta", "a 0.169.0 rollout whose session_meta is glued to a copy of itself by CRs",
         _paginated_glued_meta, PAGINATED),
)


def big_cases() -> dict[str, bytes]:
    """Cases built at test time: too big to commit."""
    base = lines(ENVELOPE)
    huge_output = record({"type": "function_call_output", "call_id": base_call_id(), "output": "x" * (20 << 20)})
    return {
        "nested-100000": b"".join(base[:5]) + b"[" * 100_000 + b"]" * 100_000 + b"\n" + b"".join(base[5:]),
        "nested-100000-object": b"".join(base[:5]) + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"\n"
        + b"".join(base[5:]),
        "line-20mb-valid": b"".join(base[:9]) + huge_output + b"".join(base[10:]),  # the real output, grown
        "line-20mb-garbage": b"".join(base[:5]) + b"\x01garbage" * (20 << 17) + b"\n" + b"".join(base[5:]),
        "line-20mb-torn-at-end": b"".join(base) + huge_output[: 10 << 20],
    }


def write(root: Path = HOSTILE) -> None:
    if root.exists():
        shutil.rmtree(root)
    for case in CASES:
        path = root / case.name / real(case.scenario).name
        path.parent.mkdir(parents=True)
        path.write_bytes(case.build())
    notes = ["# Hostile rollouts", "",
             "Written by `python -m tests.hostile` (do not edit by hand). Each folder holds one real Codex",
             "session (fixtures/real) damaged as below; tests/test_hostile.py holds what `check` must report.",
             ""]
    notes += [f"- `{case.name}` ({case.scenario}): {case.about}" for case in CASES]
    (root / "NOTES.md").write_text("\n".join(notes) + "\n")


if __name__ == "__main__":
    write()
    sys.exit(0)
