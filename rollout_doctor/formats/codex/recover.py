"""What a tool printed, recovered from the event lines, for a call whose output line was lost.

Codex records a tool's result twice: as the output item the model is sent, and as an event for the
user interface. When the output line is lost (a crash between the two writes, a torn line removed) the
event often survives, and the orphan-call fix can write what the tool really printed instead of
``aborted``.

Events read (docs/codex-facts.md §5):

* 0.169.0 (**seen** in fixtures/real): ``event_msg`` ``item_completed`` whose ``item`` is a
  ``CommandExecution`` (``id`` = call_id, ``aggregated_output``, ``exit_code``, ``duration``
  ``{secs, nanos}``) or a ``FileChange`` (apply_patch: ``status``, ``stdout``). The source declares
  these camelCase (``aggregatedOutput``, ``exitCode``); both spellings are read. ``McpToolCall``
  (``result`` a CallToolResult) is read from the source's shape, not seen.
* Older releases: ``exec_command_end`` (``aggregated_output``, ``exit_code``, ``duration``,
  ``formatted_output``), ``patch_apply_end`` (``stdout``, ``success``), ``mcp_tool_call_end``
  (``result`` ``{"Ok": CallToolResult}`` or ``{"Err": …}``), from the source. Codex 0.77.0 in
  ``exec`` mode does not persist these events at all (fixtures/real/0.77.0-*), so there is nothing to
  recover from its files unless another client wrote them.

The text rebuilt is what Codex would have sent for that tool, in the format the file itself shows
(another output of the same tool in the same session), else the format of the release:

* unified exec (``exec_command``/``write_stdin``, 0.169-era): ``Wall time: {:.4} seconds``,
  ``Process exited with code N``, ``Original token count: N`` (bytes / 4, rounded up, as Codex
  approximates), ``Output:``, the output. The real text starts with a ``Chunk ID: xxxxxx`` line, a
  random id nothing recorded, so the rebuilt text has no such line: otherwise it equals the original
  byte for byte (tests/test_recover.py, on every 0.169.0 fixture).
* freeform (apply_patch and, for some models, shell): ``Exit code: N``, ``Wall time: S seconds``
  (rounded to 0.1, as Rust prints an f32), ``Output:``, the output. An apply_patch ``FileChange`` has
  no duration; Codex's own output says ``0`` there for an in-process patch (seen), and so does this.
* structured (shell, 0.77-era default, seen): ``{"output":…,"metadata":{"exit_code":N,"duration_seconds":S}}``.
* MCP: the ``structuredContent`` as JSON when present, else the ``content`` list as JSON, or as
  content items when it holds images (``FunctionCallOutputPayload::from(&CallToolResult)``).
* The output is an event's ``formatted_output`` when present (Codex's own truncation of it), else
  ``aggregated_output``; one longer than the budget (the call's ``max_output_tokens``, else 10 000
  tokens) is cut in the middle as Codex does, with ``…N tokens truncated…``.

Nothing is recovered from a command that did not finish (no exit code), was declined, or an MCP call
that failed: the event does not say what the model was told then.

Applicability (see rules/orphan_call.py): the ``aborted`` output stays the safe fix, since it is
exactly what Codex sends anyway; the recovered output is offered as an **unsafe** fix. It tells the
model something Codex would not tell it on resume (the truth, but still a change to what the model
sees), and it is a reconstruction: the chunk id, and the exact truncation of a large output, are not in
the file. ``--unsafe-fixes`` writes it, and the diff marks the line "recovered output".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import orjson

from rollout_doctor.formats.codex.records import Event, Item
from rollout_doctor.formats.codex.rollout import Rollout

DEFAULT_TOKEN_BUDGET = 10_000  # unified exec's default max_output_tokens, and the 0.169.0 turn policy
BYTES_PER_TOKEN = 4  # Codex's approx_token_count
UNIFIED_TOOLS = frozenset({"exec_command", "write_stdin"})


@dataclass(frozen=True)
class Recovered:
    output: str | list[dict[str, Any]]
    event_line: int  # 0-based
    source: str  # "item_completed CommandExecution", "exec_command_end", ...


def output_events(model: Rollout) -> dict[str, list[Event]]:
    """Events that hold a tool's result, by call_id, in file order."""
    found: dict[str, list[Event]] = {}
    for record in model.records.values():
        if isinstance(record, Event) and record.call_id:
            found.setdefault(record.call_id, []).append(record)
    for events in found.values():
        events.sort(key=lambda e: e.line)
    return found


def approx_tokens(text: str) -> int:
    return (len(text.encode()) + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN


def truncate_middle(text: str, budget_tokens: int) -> str:
    """Keep the head and the tail within ``budget_tokens``, marking what was cut as Codex does."""
    data = text.encode()
    budget = budget_tokens * BYTES_PER_TOKEN
    if len(data) <= budget:
        return text
    head = data[: budget // 2].decode(errors="ignore")
    tail = data[len(data) - budget // 2 :].decode(errors="ignore")
    removed = approx_tokens(text) - approx_tokens(head) - approx_tokens(tail)
    return f"{head}…{removed} tokens truncated…{tail}"


def _field(obj: dict[str, Any], snake: str) -> Any:
    """A field in snake_case (seen in 0.169.0 files) or camelCase (the source's serde rename)."""
    if snake in obj:
        return obj[snake]
    head, *rest = snake.split("_")
    return obj.get(head + "".join(part.title() for part in rest))


def _seconds(duration: Any) -> float | None:
    if isinstance(duration, dict) and isinstance(duration.get("secs"), int) and isinstance(duration.get("nanos"), int):
        return duration["secs"] + duration["nanos"] / 1e9
    if isinstance(duration, (int, float)) and not isinstance(duration, bool):
        return float(duration)
    return None


def _tenths(seconds: float) -> float:
    """``(secs * 10.0).round() / 10.0`` as Codex computes it: halves round away from zero (Rust's
    ``f32::round``), where Python's ``round`` would round them to even."""
    return math.floor(seconds * 10 + 0.5) / 10


def _rust_f32(seconds: float) -> str:
    """Wall time as Codex's freeform text prints it: to 0.1, no trailing ``.0`` (Rust's f32 Display)."""
    text = f"{_tenths(seconds):.1f}"
    return text.removesuffix(".0")


@dataclass(frozen=True)
class _Result:
    body: str
    exit_code: int
    seconds: float | None
    truncated: bool = False  # Codex already cut the body (formatted_output)


def _exec_result(payload: dict[str, Any]) -> _Result | None:
    exit_code = _field(payload, "exit_code")
    if type(exit_code) is not int:
        return None
    if str(_field(payload, "status") or "").lower() == "declined":
        return None
    formatted = _field(payload, "formatted_output")
    body = _field(payload, "aggregated_output")
    if isinstance(formatted, str) and formatted:
        return _Result(formatted, exit_code, _seconds(payload.get("duration")), truncated=True)
    if not isinstance(body, str):
        stdout, stderr = _field(payload, "stdout"), _field(payload, "stderr")
        if not isinstance(stdout, str) and not isinstance(stderr, str):
            return None
        body = (stdout or "") + (stderr or "")
    return _Result(body, exit_code, _seconds(payload.get("duration")))


def _patch_result(payload: dict[str, Any]) -> _Result | None:
    success = payload.get("success")
    status = payload.get("status")
    done = success is True or status == "completed"
    if not done or not isinstance(payload.get("stdout"), str):
        return None
    return _Result(payload["stdout"], 0, None)


def _mcp_output(result: Any) -> str | list[dict[str, Any]] | None:
    if isinstance(result, dict) and set(result) == {"Ok"}:
        result = result["Ok"]
    elif isinstance(result, dict) and "Err" in result:
        return None
    if not isinstance(result, dict):  # an error result is still sent (isError only sets success)
        return None
    structured = _field(result, "structured_content")
    if structured is not None:
        return orjson.dumps(structured).decode()
    content = result.get("content")
    if not isinstance(content, list):
        return None
    if any(isinstance(c, dict) and c.get("type") == "image" for c in content):
        items: list[dict[str, Any]] = []
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
                items.append({"type": "input_text", "text": block["text"]})
            elif isinstance(block, dict) and block.get("type") == "image":
                data, mime = block.get("data"), block.get("mimeType", block.get("mime_type"))
                if not isinstance(data, str):
                    return None
                url = data if data.startswith("data:") else f"data:{mime};base64,{data}"
                items.append({"type": "input_image", "image_url": url})
            else:
                return None
        return items
    return orjson.dumps(content).decode()


# What another output of the same tool, in the same file, shows of the format Codex used.
_UNIFIED = re.compile(r"^(Chunk ID: [^\n]*\n)?Wall time: ")
_FREEFORM = re.compile(r"^Exit code: -?\d+\n")


def _sibling_format(model: Rollout, name: str | None, skip: str) -> str | None:
    if name is None:
        return None
    calls = {r.call_id for r in model.records.values()
             if isinstance(r, Item) and r.name == name and r.call_id and r.call_id != skip and r.index is None}
    # The first in the file, whatever the order of the table: an index from the cache, a fix's derived
    # index and a fresh one may hold the same records in other orders.
    outputs = sorted((r for r in model.records.values()
                      if isinstance(r, Item) and r.call_id in calls and r.type.endswith("_output")),
                     key=lambda r: r.line)
    for record in outputs:
        line = model.parsed(record.line)
        output = (line.get("payload", line) if isinstance(line, dict) else {}).get("output")
        if not isinstance(output, str):
            continue
        if _UNIFIED.match(output):
            return "unified"
        if _FREEFORM.match(output):
            return "freeform"
        try:
            parsed = orjson.loads(output)
        except orjson.JSONDecodeError:
            continue
        if isinstance(parsed, dict) and set(parsed) == {"output", "metadata"}:
            return "structured"
    return None


def _budget(call: dict[str, Any]) -> int:
    try:
        arguments = orjson.loads(call.get("arguments", "{}")) if isinstance(call.get("arguments"), str) else {}
    except orjson.JSONDecodeError:
        arguments = {}
    tokens = arguments.get("max_output_tokens") if isinstance(arguments, dict) else None
    return tokens if type(tokens) is int and tokens > 0 else DEFAULT_TOKEN_BUDGET


def format_output(kind: str, result: _Result, budget: int) -> str:
    body = result.body if result.truncated else truncate_middle(result.body, budget)
    if kind == "unified":
        sections = [f"Wall time: {result.seconds or 0.0:.4f} seconds", f"Process exited with code {result.exit_code}",
                    f"Original token count: {approx_tokens(result.body)}", "Output:", body]
        return "\n".join(sections)
    seconds = _tenths(result.seconds or 0.0)
    if kind == "structured":
        return orjson.dumps({"output": body, "metadata": {"exit_code": result.exit_code,
                                                          "duration_seconds": seconds}}).decode()
    sections = [f"Exit code: {result.exit_code}", f"Wall time: {_rust_f32(result.seconds or 0.0)} seconds"]
    lines_before, lines_after = len(result.body.splitlines()), len(body.splitlines())
    if lines_before != lines_after:
        sections.append(f"Total output lines: {lines_before}")
    return "\n".join([*sections, "Output:", body])


def _event_payload(model: Rollout, event: Event) -> tuple[str, dict[str, Any]] | None:
    line = model.parsed(event.line)
    payload = line.get("payload") if isinstance(line, dict) else None
    if not isinstance(payload, dict):
        return None
    if event.type == "item_completed":
        item = payload.get("item")
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            return None
        return f"item_completed {item['type']}", item
    return event.type, payload


def recover_output(model: Rollout, call: Item, call_payload: dict[str, Any],
                   events: dict[str, list[Event]]) -> Recovered | None:
    """The output Codex would have sent for ``call``, rebuilt from its events; None when none says."""
    if call.call_id is None:
        return None
    name = call.name
    for event in reversed(events.get(call.call_id, [])):
        found = _event_payload(model, event)
        if found is None:
            continue
        source, payload = found
        output: str | list[dict[str, Any]] | None = None
        if source in ("item_completed McpToolCall", "mcp_tool_call_end"):
            output = _mcp_output(payload.get("result"))
        elif source in ("item_completed FileChange", "patch_apply_end"):
            result = _patch_result(payload)
            if result is not None:
                kind = _sibling_format(model, name, call.call_id) or "freeform"
                output = format_output(kind, result, _budget(call_payload))
        elif source in ("item_completed CommandExecution", "exec_command_end"):
            result = _exec_result(payload)
            if result is not None:
                default = "unified" if name in UNIFIED_TOOLS else "structured"
                kind = _sibling_format(model, name, call.call_id) or default
                output = format_output(kind, result, _budget(call_payload))
        if output is not None:
            return Recovered(output, event.line, source)
    return None
