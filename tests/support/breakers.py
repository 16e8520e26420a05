"""Break a rollout written by real Codex in exactly one known way, for the end-to-end tests.

Each breaker takes the bytes of a clean recorded rollout (fixtures/real) and returns a `Broken`: the
damaged bytes and the diagnostics `rollout-doctor check` must report for them, no more and no fewer.
A breaker changes as little as it can: lines it does not touch keep their bytes, and in a paginated
file (0.169.0, 0.171.0) it renumbers ordinals in file order afterwards, the way Codex would have
numbered the lines it wrote, so that the one defect it made is the only one in the file (the ordinal
breaker excepted, whose defect is the numbering).

    broken = BREAKERS["orphan-call"](fixture.read_bytes())
    broken.data, broken.expected   # -> (Expected("orphan-call", line, call_id),)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CALL_TYPES = ("function_call", "custom_tool_call")
OUTPUT_TYPE = {"function_call": "function_call_output", "custom_tool_call": "custom_tool_call_output"}
# 0.169.0 and 0.171.0 write `{"timestamp":"…","ordinal":N,…}`: the ordinal's digits are the only bytes
# renumbering touches.
ORDINAL = re.compile(rb'^(\{"timestamp":"[^"]*","ordinal":)(\d+)')


@dataclass(frozen=True)
class Expected:
    """One diagnostic `check` must report: rule name, 1-based line in the broken file, call id."""

    rule: str
    line: int
    call_id: str | None = None


@dataclass(frozen=True)
class Broken:
    defect: str
    data: bytes
    expected: tuple[Expected, ...]
    target: str = "responses"  # the wire the fixed file must resume on
    unsafe: bool = False  # whether the fix needs --unsafe-fixes
    notes: dict[str, Any] = field(default_factory=dict)  # what the breaker did, for the test to use


class Lines:
    """The raw lines of a rollout, edited as bytes; only the lines a breaker touches are re-serialised."""

    def __init__(self, data: bytes) -> None:
        self.raw: list[bytes] = data.splitlines(keepends=True)

    def __len__(self) -> int:
        return len(self.raw)

    def data(self) -> bytes:
        return b"".join(self.raw)

    def parsed(self, i: int) -> dict[str, Any] | None:
        try:
            value = json.loads(self.raw[i])
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def payload(self, i: int) -> dict[str, Any]:
        line = self.parsed(i) or {}
        payload = line.get("payload")
        return payload if isinstance(payload, dict) else {}

    @property
    def paginated(self) -> bool:
        meta = next(i for i in range(len(self)) if (self.parsed(i) or {}).get("type") == "session_meta")
        return self.payload(meta).get("history_mode") == "paginated"

    def items(self) -> list[int]:
        return [i for i in range(len(self)) if (self.parsed(i) or {}).get("type") == "response_item"]

    def calls(self) -> list[int]:
        """Lines holding a call that has an output in the file, in file order."""
        return [i for i in self.items() if self.payload(i).get("type") in CALL_TYPES and self.output_of(i) is not None]

    def output_of(self, call_line: int) -> int | None:
        call = self.payload(call_line)
        wanted = OUTPUT_TYPE.get(str(call.get("type")))
        return next(
            (
                i
                for i in self.items()
                if self.payload(i).get("type") == wanted and self.payload(i).get("call_id") == call.get("call_id")
            ),
            None,
        )

    def call_id(self, i: int) -> str:
        return str(self.payload(i)["call_id"])

    def last(self, payload_type: str, role: str | None = None, before: int | None = None) -> int:
        found = [
            i
            for i in self.items()
            if self.payload(i).get("type") == payload_type
            and (role is None or self.payload(i).get("role") == role)
            and (before is None or i < before)
        ]
        return found[-1]

    def rewrite(self, i: int, edit: Callable[[dict[str, Any]], None]) -> bytes:
        """Line `i` re-serialised after `edit` changed its parsed form (compact, like Codex's serde_json)."""
        line = self.parsed(i)
        assert line is not None, f"line {i + 1} is not a record"
        edit(line)
        return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"

    def ordinal(self, i: int) -> int | None:
        match = ORDINAL.match(self.raw[i])
        return int(match[2]) if match else None

    def set_ordinal(self, i: int, value: int) -> None:
        self.raw[i] = ORDINAL.sub(lambda m: m[1] + str(value).encode(), self.raw[i], count=1)

    def renumber(self) -> None:
        """Ordinals 0, 1, 2, … over the readable records, in file order (paginated files only)."""
        if not self.paginated:
            return
        n = 0
        for i in range(len(self)):
            if self.parsed(i) is not None and self.ordinal(i) is not None:
                self.set_ordinal(i, n)
                n += 1


def _text_message(payload: dict[str, Any], text: str) -> None:
    kind = "output_text" if payload.get("role") == "assistant" else "input_text"
    payload["content"] = [{"type": kind, "text": text, **({"annotations": []} if kind == "output_text" else {})}]
    if isinstance(payload.get("id"), str):
        payload["id"] = "msg_" + "e2e0" * 12  # a fresh item id: a different message than the one copied


# --- the breakers --------------------------------------------------------------------------------


def orphan_call(data: bytes) -> Broken:
    """A call whose output was never written (a crash or an interrupted turn after the call)."""
    lines = Lines(data)
    call = lines.calls()[0]
    output = lines.output_of(call)
    assert output is not None
    call_id = lines.call_id(call)
    del lines.raw[output]
    lines.renumber()
    return Broken("orphan-call", lines.data(), (Expected("orphan-call", call + 1, call_id),),
                  notes={"call_id": call_id, "call_type": lines.payload(call)["type"]})


def orphan_output(data: bytes) -> Broken:
    """An output whose call was lost."""
    lines = Lines(data)
    call = lines.calls()[0]
    output = lines.output_of(call)
    assert output is not None
    call_id = lines.call_id(call)
    del lines.raw[call]
    lines.renumber()
    return Broken("orphan-output", lines.data(), (Expected("orphan-output", output, call_id),),
                  notes={"call_id": call_id})


def misplaced_output(data: bytes) -> Broken:
    """An output written just before its call."""
    lines = Lines(data)
    call = lines.calls()[0]
    output = lines.output_of(call)
    assert output is not None
    call_id = lines.call_id(call)
    lines.raw.insert(call, lines.raw.pop(output))
    lines.renumber()
    return Broken("misplaced-output", lines.data(), (Expected("misplaced-output", call + 1, call_id),),
                  notes={"call_id": call_id})


def interleaved_message(data: bytes) -> Broken:
    """A user message recorded right after a call, while the call still waits for its output."""
    lines = Lines(data)
    call = lines.calls()[0]
    call_id = lines.call_id(call)
    prompt = lines.last("message", role="user", before=call)
    typed = lines.rewrite(prompt, lambda line: _text_message(line["payload"], "also print the date"))
    lines.raw.insert(call + 1, typed)
    lines.renumber()
    return Broken("interleaved-message", lines.data(), (Expected("interleaved-message", call + 2, call_id),),
                  notes={"call_id": call_id})


def duplicate_call_id(data: bytes) -> Broken:
    """Two different calls (and their outputs) sharing the first call's id, as providers that number
    calls per turn write them. Needs a file with two calls."""
    lines = Lines(data)
    first, second = lines.calls()[:2]
    output = lines.output_of(second)
    assert output is not None
    call_id = lines.call_id(first)

    def reuse(line: dict[str, Any]) -> None:
        line["payload"]["call_id"] = call_id

    lines.raw[second] = lines.rewrite(second, reuse)
    lines.raw[output] = lines.rewrite(output, reuse)
    return Broken("duplicate-call-id", lines.data(), (Expected("duplicate-call-id", second + 1, call_id),),
                  notes={"call_id": call_id})


def duplicate_output(data: bytes) -> Broken:
    """An output line written twice (a replayed write)."""
    lines = Lines(data)
    call = lines.calls()[0]
    output = lines.output_of(call)
    assert output is not None
    call_id = lines.call_id(call)
    lines.raw.insert(output + 1, lines.raw[output])
    lines.renumber()
    return Broken("duplicate-output", lines.data(), (Expected("duplicate-output", output + 2, call_id),),
                  notes={"call_id": call_id})


def _after_first_output(lines: Lines) -> int:
    output = lines.output_of(lines.calls()[0])
    assert output is not None
    return output + 1


def torn_line(data: bytes) -> Broken:
    """The file ends in the middle of a record: a crash mid-write of the last line."""
    lines = Lines(data)
    last = lines.raw[-1]
    lines.raw.append(last[: len(last) // 2])
    return Broken("invalid-line", lines.data(), (Expected("invalid-line", len(lines)),), notes={"variant": "torn"})


def garbage_line(data: bytes) -> Broken:
    """A line that is not JSON at all, in the middle of the file."""
    lines = Lines(data)
    at = _after_first_output(lines)
    lines.raw.insert(at, b"this is not json {\n")
    return Broken("invalid-line", lines.data(), (Expected("invalid-line", at + 1),), notes={"variant": "garbage"})


def nul_line(data: bytes) -> Broken:
    """A run of NUL bytes where a crash left allocated but unwritten blocks; Codex appended after a newline."""
    lines = Lines(data)
    at = _after_first_output(lines)
    lines.raw.insert(at, b"\x00" * 512 + b"\n")
    return Broken("invalid-line", lines.data(), (Expected("invalid-line", at + 1),), notes={"variant": "nul"})


def glued_line(data: bytes) -> Broken:
    """A torn record with the next complete record glued onto it on the same line (openai/codex#24425):
    the torn bytes are a first, cut-off attempt at the record that follows them. The record is an
    event, not a response item, so that Codex losing it hides no call or output."""
    lines = Lines(data)
    at = next(i for i in range(_after_first_output(lines), len(lines)) if i not in lines.items())
    record = lines.raw[at]
    lines.raw[at] = record[: len(record) // 3] + record
    return Broken("invalid-line", lines.data(), (Expected("invalid-line", at + 1),), notes={"variant": "glued"})


def bad_output_shape(data: bytes) -> Broken:
    """An output written as the old `{content, success}` object, which Codex cannot read."""
    lines = Lines(data)
    call = lines.calls()[0]
    output = lines.output_of(call)
    assert output is not None
    call_id = lines.call_id(call)
    text = lines.payload(output)["output"]
    assert isinstance(text, str)

    def to_object(line: dict[str, Any]) -> None:
        line["payload"]["output"] = {"content": text, "success": True}

    lines.raw[output] = lines.rewrite(output, to_object)
    return Broken("bad-output-shape", lines.data(), (Expected("bad-output-shape", output + 1, call_id),),
                  unsafe=True, notes={"call_id": call_id, "text": text})


def misplaced_meta(data: bytes) -> Broken:
    """The session_meta line is the second line instead of the first."""
    lines = Lines(data)
    lines.raw.insert(1, lines.raw.pop(0))
    lines.renumber()
    return Broken("session-meta", lines.data(), (Expected("session-meta", 2),))


def duplicate_ordinal(data: bytes) -> Broken:
    """openai/codex#41566: after a turn, `thread_settings_applied` reuses the ordinal of the record before
    it and every later record is one short. Needs a paginated file that was resumed once."""
    lines = Lines(data)
    assert lines.paginated
    settings = next(
        i for i in range(2, len(lines))
        if lines.payload(i).get("type") == "thread_settings_applied"
        and lines.payload(i - 1).get("type") in ("task_complete", "token_count")
    )
    previous = lines.ordinal(settings - 1)
    assert previous is not None
    for i in range(settings, len(lines)):
        ordinal = lines.ordinal(i)
        assert ordinal is not None
        lines.set_ordinal(i, ordinal - 1)
    assert lines.ordinal(settings) == previous
    return Broken("ordinal-order", lines.data(), (Expected("ordinal-order", settings + 1),),
                  notes={"line": settings, "ordinal": previous})


def assistant_between(data: bytes) -> Broken:
    """An assistant message between a call and its output: fine on the Responses wire, refused on the
    Chat wire, where a call must be followed at once by its tool message."""
    lines = Lines(data)
    call = lines.calls()[0]
    call_id = lines.call_id(call)
    said = lines.last("message", role="assistant")
    lines.raw.insert(call + 1, lines.rewrite(said, lambda line: _text_message(line["payload"], "running it")))
    lines.renumber()
    return Broken("chat-adjacency", lines.data(), (Expected("chat-adjacency", call + 1, call_id),),
                  target="chat", notes={"call_id": call_id})


Breaker = Callable[[bytes], Broken]

# Keyed by a case name; several invalid-line variants share the rule.
BREAKERS: dict[str, Breaker] = {
    "orphan-call": orphan_call,
    "orphan-output": orphan_output,
    "misplaced-output": misplaced_output,
    "interleaved-message": interleaved_message,
    "duplicate-call-id": duplicate_call_id,
    "duplicate-output": duplicate_output,
    "invalid-line-torn": torn_line,
    "invalid-line-garbage": garbage_line,
    "invalid-line-nul": nul_line,
    "invalid-line-glued": glued_line,
    "bad-output-shape": bad_output_shape,
    "session-meta": misplaced_meta,
    "ordinal-order": duplicate_ordinal,
    "chat-adjacency": assistant_between,
}
