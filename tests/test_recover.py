"""Recovered outputs: a call whose output line is gone, while an event line still holds what the tool
printed. Real data first: every output of the real 0.169.0 and 0.171.0 fixtures is deleted in turn and
must come back as the documented reconstruction of the original (the original without its random chunk id).
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex import check_file, fix_file
from rollout_doctor.formats.codex.recover import (
    _Result,
    _sibling_format,
    format_output,
    output_events,
    recover_output,
    truncate_middle,
)
from rollout_doctor.formats.codex.rollout import read_rollout
from tests.support.codex_run import CodexHome, real_fixture, response_items, session_id_of
from tests.support.loopback import LoopbackServer, judge_responses_input, say
from tests.support.scenarios import NEW, OLD, PAGINATED

pytest_plugins = ["tests.support.fixtures"]

NEW_SCENARIOS = ["responses-single-call", "responses-sequential-calls", "responses-parallel-calls",
                 "responses-resumed", "responses-interrupted-stream"]
UNSAFE = Options(unsafe_fixes=True)


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))


def without_line(source: Path, line: int, tmp_path: Path) -> Path:
    """The rollout with one line removed, under its own name (the name carries the session id)."""
    lines = source.read_bytes().splitlines(keepends=True)
    target = tmp_path / "work" / source.name
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(b"".join(lines[:line] + lines[line + 1 :]))
    return target


def output_lines(source: Path) -> list[tuple[int, dict]]:
    lines = [json.loads(raw) for raw in source.read_bytes().splitlines()]
    return [(n, line["payload"]) for n, line in enumerate(lines)
            if line["type"] == "response_item" and line["payload"]["type"].endswith("_output")]


def cases() -> list:
    found = []
    for release in PAGINATED:
        for scenario in NEW_SCENARIOS:
            fixture = real_fixture(f"{release}-{scenario}")
            for n, payload in output_lines(fixture):
                found.append(pytest.param(fixture, n, payload, id=f"{release}-{scenario}-line{n + 1}"))
    return found


@pytest.mark.parametrize(("fixture", "line", "original"), cases())
def test_a_deleted_paginated_exec_output_comes_back_as_codex_wrote_it(
    fixture: Path, line: int, original: dict, tmp_path: Path
) -> None:
    broken = without_line(fixture, line, tmp_path)
    (orphan,) = [d for d in check_file(broken, Options()).diagnostics if d.rule == "orphan-call"]
    assert orphan.fix is not None and orphan.fix.applicability.value == "safe", "aborted stays the safe fix"
    assert orphan.alternative is not None and orphan.alternative.applicability.value == "unsafe"
    assert "survives in the item_completed CommandExecution event" in orphan.message

    report = fix_file(broken, UNSAFE)
    assert report.written and not report.remaining
    inserted = [c for c in report.changes if c.kind == "insert"]
    assert [c.note for c in inserted] == ["recovered output"]
    (restored,) = [p for _n, p in output_lines(broken) if p["call_id"] == original["call_id"]]
    chunk_line, rest = original["output"].split("\n", 1)
    assert chunk_line.startswith("Chunk ID: ") and len(chunk_line) == len("Chunk ID: ") + 6
    assert restored["output"] == rest, "the original text, less the random chunk id line"
    assert restored["type"] == original["type"] and restored["id"].startswith("fco_")
    items = response_items(broken)
    at = next(i for i, item in enumerate(items) if item.get("call_id") == original["call_id"])
    assert items[at + 1]["call_id"] == original["call_id"], "right after its call"
    assert check_file(broken, UNSAFE).diagnostics == []


@pytest.mark.parametrize("release", PAGINATED)
def test_a_deleted_apply_patch_output_comes_back_byte_for_byte(release: str, tmp_path: Path) -> None:
    fixture = real_fixture(f"{release}-responses-custom-tool-call")
    ((line, original),) = output_lines(fixture)
    broken = without_line(fixture, line, tmp_path)
    (orphan,) = [d for d in check_file(broken, Options()).diagnostics if d.rule == "orphan-call"]
    assert "item_completed FileChange event" in orphan.message
    assert fix_file(broken, UNSAFE).written
    ((_n, restored),) = output_lines(broken)
    assert restored["type"] == "custom_tool_call_output"
    assert restored["output"] == original["output"] == (
        "Exit code: 0\nWall time: 0 seconds\nOutput:\nSuccess. Updated the following files:\nA hello.txt\n")


def test_without_unsafe_fixes_the_call_gets_aborted_and_the_event_is_named(tmp_path: Path) -> None:
    fixture = real_fixture(f"{NEW}-responses-single-call")
    ((line, original),) = output_lines(fixture)
    broken = without_line(fixture, line, tmp_path)
    report = fix_file(broken, Options())
    assert [c.note for c in report.changes if c.kind == "insert"] == ["cancelled output"]
    ((_n, written),) = output_lines(broken)
    assert written["output"] == "aborted" and written["call_id"] == original["call_id"]


def test_nothing_is_offered_when_no_event_holds_the_output(tmp_path: Path) -> None:
    # 0.77.0 in exec mode persists no exec_command_end: its interrupted call has nothing to recover.
    fixture = real_fixture(f"{OLD}-responses-interrupted-stream")
    (orphan,) = check_file(fixture, Options()).diagnostics
    assert orphan.alternative is None and "survives" not in orphan.message
    single = real_fixture(f"{NEW}-responses-single-call")
    lines = single.read_bytes().splitlines(keepends=True)
    kept = [raw for raw in lines if b'"CommandExecution"' not in raw and b'"function_call_output"' not in raw]
    target = tmp_path / single.name
    target.write_bytes(b"".join(kept))
    (orphan,) = [d for d in check_file(target, UNSAFE).diagnostics if d.rule == "orphan-call"]
    assert orphan.fix is not None and orphan.fix.applicability.value == "safe" and orphan.alternative is None


def with_event(source: Path, drop_output: bool, event: dict, tmp_path: Path) -> Path:
    """``source`` (an envelope rollout) with ``event`` appended after its first call, minus that call's output."""
    lines = source.read_bytes().splitlines(keepends=True)
    call_at = next(n for n, raw in enumerate(lines) if b'"type":"function_call"' in raw)
    call_id = json.loads(lines[call_at])["payload"]["call_id"]
    event = json.loads(json.dumps(event).replace("CALL", call_id))
    stamp = json.loads(lines[call_at])["timestamp"]
    extra = orjson.dumps({"timestamp": stamp, "type": "event_msg", "payload": event}) + b"\n"
    out = []
    for n, raw in enumerate(lines):
        if drop_output and b'"function_call_output"' in raw and call_id.encode() in raw:
            continue
        out.append(raw)
        if n == call_at:
            out.append(extra)
    target = tmp_path / source.name
    target.write_bytes(b"".join(out))
    return target


def recovered_text(path: Path) -> str | list | None:
    with read_rollout(path) as model:
        from rollout_doctor.formats.codex.records import Item

        call = next(r for r in model.records.values() if isinstance(r, Item) and r.type == "function_call")
        found = recover_output(model, call, model.parsed(call.line)["payload"], output_events(model))
        return None if found is None else found.output


def test_a_077_shell_call_is_rebuilt_in_the_files_own_structured_format(tmp_path: Path) -> None:
    """0.77.0's shell outputs are structured JSON (seen); an exec_command_end (source shape) rebuilds one."""
    fixture = real_fixture(f"{OLD}-responses-parallel-calls")
    outputs = [p["output"] for _n, p in output_lines(fixture)]
    assert outputs[0] == '{"output":"A\\n","metadata":{"exit_code":0,"duration_seconds":0.0}}'
    event = {"type": "exec_command_end", "call_id": "CALL", "stdout": "A\n", "stderr": "", "aggregated_output": "A\n",
             "exit_code": 0, "duration": {"secs": 0, "nanos": 31_000_000}, "formatted_output": "A\n"}
    target = with_event(fixture, True, event, tmp_path)
    assert recovered_text(target) == outputs[0]
    assert fix_file(target, UNSAFE).written
    assert check_file(target, Options(target="chat")).diagnostics == [], "on either wire"


def test_the_siblings_format_is_the_first_in_the_file_whatever_the_tables_order(tmp_path: Path) -> None:
    """The format of a rebuilt output follows the first output of the same tool in the file, however the
    index's table is ordered (a fresh index, one from the cache and a fix's derived index may differ)."""
    fixture = real_fixture(f"{OLD}-responses-parallel-calls")
    lines = fixture.read_bytes().splitlines(keepends=True)
    found = output_lines(fixture)
    assert len(found) >= 2
    last, payload = found[-1]
    record = json.loads(lines[last])
    record["payload"]["output"] = "Wall time: 0.1 seconds\nOutput:\nA\n"  # a later output, in the unified format
    lines[last] = json.dumps(record, separators=(",", ":")).encode() + b"\n"
    target = tmp_path / fixture.name
    target.write_bytes(b"".join(lines))
    calls = [json.loads(raw)["payload"] for raw in lines if b'"function_call"' in raw]
    name = calls[0]["name"]
    with read_rollout(target) as model:
        first = _sibling_format(model, name, "none")
        model.records = dict(reversed(list(model.records.items())))
        assert _sibling_format(model, name, "none") == first == "structured"


@pytest.mark.parametrize(("event", "expected"), [
    pytest.param({"type": "item_completed", "item": {"type": "CommandExecution", "id": "CALL", "status": "completed",
                                                     "aggregatedOutput": "ok\n", "exitCode": 2,
                                                     "duration": {"secs": 1, "nanos": 250_000_000}}},
                 '{"output":"ok\\n","metadata":{"exit_code":2,"duration_seconds":1.3}}', id="camelCase-item-half-rounds-up"),
    pytest.param({"type": "item_completed", "item": {"type": "CommandExecution", "id": "CALL", "status": "inProgress"}},
                 None, id="still-running"),
    pytest.param({"type": "item_completed", "item": {"type": "CommandExecution", "id": "CALL", "status": "declined",
                                                     "exit_code": -1, "aggregated_output": ""}},
                 None, id="declined"),
    pytest.param({"type": "mcp_tool_call_end", "call_id": "CALL", "result": {"Ok": {
        "content": [{"type": "text", "text": "42"}], "structuredContent": {"answer": 42}}}},
                 '{"answer":42}', id="mcp-structured"),
    pytest.param({"type": "mcp_tool_call_end", "call_id": "CALL", "result": {"Ok": {
        "content": [{"type": "text", "text": "42"}], "isError": True}}},
                 '[{"type":"text","text":"42"}]', id="mcp-content-even-on-error"),
    pytest.param({"type": "item_completed", "item": {"type": "McpToolCall", "id": "CALL", "status": "completed",
                                                     "result": {"content": [{"type": "text", "text": "see"},
                                                                            {"type": "image", "data": "AAAA",
                                                                             "mimeType": "image/png"}]}}},
                 [{"type": "input_text", "text": "see"}, {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}],
                 id="mcp-image-items"),
    pytest.param({"type": "mcp_tool_call_end", "call_id": "CALL", "result": {"Err": "server gone"}},
                 None, id="mcp-error"),
])
def test_event_shapes(event: dict, expected: object, tmp_path: Path) -> None:
    fixture = real_fixture(f"{OLD}-responses-single-call")
    assert recovered_text(with_event(fixture, True, event, tmp_path)) == expected


def test_formats_and_truncation() -> None:
    result = _Result("line\n" * 3, 1, 12.34)
    assert format_output("freeform", result, 10_000) == "Exit code: 1\nWall time: 12.3 seconds\nOutput:\n" + "line\n" * 3
    assert format_output("freeform", _Result("x", 0, 0.04), 10_000).startswith("Exit code: 0\nWall time: 0 seconds\n")
    assert format_output("unified", _Result("hi\n", 0, 0.000159087), 10_000) == (
        "Wall time: 0.0002 seconds\nProcess exited with code 0\nOriginal token count: 1\nOutput:\nhi\n")
    big = "".join(f"{n}\n" for n in range(20_000))
    cut = truncate_middle(big, 1_000)
    assert cut.startswith("0\n1\n") and cut.endswith("19999\n") and "tokens truncated…" in cut
    assert len(cut.encode()) < 4_100
    removed = int(cut.split("…")[1].split()[0])
    assert removed == (len(big) + 3) // 4 - (len(cut.split("…")[0]) + 3) // 4 - (len(cut.split("…")[2]) + 3) // 4
    unified = format_output("unified", _Result(big, 0, 1.0), 1_000)
    assert f"Original token count: {(len(big) + 3) // 4}\n" in unified and "tokens truncated" in unified
    freeform = format_output("freeform", _Result(big, 0, 1.0), 1_000)
    assert "\nTotal output lines: 20000\nOutput:\n" in freeform
    assert truncate_middle("é" * 10, 1) == "é…3 tokens truncated…é"
    assert truncate_middle("aé" * 10, 1) == "a…6 tokens truncated…é", "half a character is dropped, not mangled"


@pytest.mark.codex
@pytest.mark.parametrize("release", PAGINATED)
def test_real_codex_sends_the_recovered_output(
    release: str, codex_home: CodexHome, loopback: LoopbackServer, tmp_path: Path
) -> None:
    """After `fix --unsafe-fixes`, 0.169.0 and 0.171.0 send the real output instead of synthesizing
    `aborted`."""
    fixture = real_fixture(f"{release}-responses-single-call")
    ((line, original),) = output_lines(fixture)
    broken = without_line(fixture, line, tmp_path)
    assert fix_file(broken, UNSAFE).written
    installed = codex_home.install_rollout(broken)
    loopback.push([say("resumed")])
    run = codex_home.resume(release, session_id_of(fixture), "continue")
    assert run.returncode == 0, run.describe()
    (request,) = loopback.model_requests
    sent = request.input
    at = next(i for i, item in enumerate(sent) if item.get("call_id") == original["call_id"])
    assert sent[at + 1]["type"] == "function_call_output"
    assert sent[at + 1]["output"] == original["output"].split("\n", 1)[1]
    assert judge_responses_input(sent) is None
    assert b'"aborted"' not in installed.read_bytes()
