"""What the API refuses beyond pairing, against the real client: a session Codex 0.169.0 or 0.171.0 wrote
is broken one way (an item id with the wrong prefix, a call id over 64 characters, reasoning written after
its message, an image path where a URL belongs, another provider's reasoning text), resumed once (the
loopback API refuses it in the words of the upstream report: tests/support/judge.py), fixed by
`rollout-doctor fix`, and resumed again: Codex must exit 0 and the API take every request.

The breaks replace one line of the recorded session that Codex does not need for the history (an event
or a token record), keeping its ordinal, or edit one field, so that no other rule has anything to say.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.codex_run import MODEL_CATALOG, CodexHome, real_fixture, session_id_of
from tests.support.e2e import doctor
from tests.support.loopback import LoopbackServer, say
from tests.support.scenarios import PAGINATED

pytest_plugins = ["tests.support.fixtures"]

LONG_CALL_ID = "cursor-pi-bridge-run-c2417032-9686-40f2-bd3c-a763fbaa7693-tool-10-" + "x" * 20  # 86 characters
Lines = list[dict[str, Any]]


def replace_line(lines: Lines, at: int, payload: dict[str, Any]) -> None:
    """Line ``at`` becomes a response_item holding ``payload``, with the line's timestamp and ordinal."""
    old = lines[at]
    assert old["type"] in ("event_msg", "token_usage_record"), old["type"]  # nothing the history needs
    lines[at] = {"timestamp": old["timestamp"], "ordinal": old["ordinal"], "type": "response_item",
                 "payload": payload}


def payload_at(lines: Lines, at: int, item_type: str) -> dict[str, Any]:
    assert lines[at]["payload"]["type"] == item_type, lines[at]
    return lines[at]["payload"]


def wrong_prefix(lines: Lines) -> None:  # openai/codex#40039
    payload_at(lines, 9, "custom_tool_call")["id"] = "fc_08d2f9b0333b7690016a88ed74f82c87d0aa6bf2edc704ebc0"


def foreign_reasoning_id(lines: Lines) -> None:  # jlcodes99/cockpit-tools#2090
    replace_line(lines, 13, {"type": "reasoning", "id": "item_df7e40c3f04fc8ade5c3800e", "summary": [],
                             "content": None, "encrypted_content": "gAAAAABpbase64blob=="})


def review_message_id(lines: Lines) -> None:  # openai/codex#27928, #34283
    payload_at(lines, 7, "message")["id"] = "review_rollout_user"


def long_call_id(lines: Lines) -> None:
    old = payload_at(lines, 9, "function_call")["call_id"]
    for line in lines:  # the call, its output and the events naming it
        text = json.dumps(line)
        if old in text:
            line.clear()
            line.update(json.loads(text.replace(old, LONG_CALL_ID)))


def reasoning_after_message(lines: Lines) -> None:  # openai/codex#33044
    payload_at(lines, 15, "message")
    replace_line(lines, 16, {"type": "reasoning", "id": "rs_083fb2d2a8606450006a561f629aac81a48c129f085ecd82c7",
                             "summary": [], "content": None, "encrypted_content": "gAAAAABpbase64blob=="})


def image_path(lines: Lines) -> None:  # openai/codex#33011
    payload_at(lines, 12, "function_call_output")["output"] = [
        {"type": "input_text", "text": "screenshot taken"}, {"type": "input_image", "image_url": "/tmp/shot.png"}]


def reasoning_text(lines: Lines) -> None:  # openai/codex#36551
    replace_line(lines, 13, {"type": "reasoning", "id": "rs_07f5da51d4930c320069a95c0418688196a15aa483c08870af",
                             "summary": [], "content": [{"type": "reasoning_text", "text": "Let me check."}],
                             "encrypted_content": None})


@dataclass(frozen=True)
class Break:
    rule: str
    scenario: str  # recorded by each paginated release
    apply: Callable[[Lines], None]
    refusal: str  # the start of what the API answers
    unsafe: bool = False


BREAKS = [
    Break("item-id-prefix", "responses-custom-tool-call", wrong_prefix,
          "Invalid 'input[4].id': 'fc_08d2f9b0333b7690016a88ed74f82c87d0aa6bf2edc704ebc0'. Expected an ID that "
          "begins with 'ctc'."),
    Break("item-id-prefix", "responses-single-call", foreign_reasoning_id,
          "Invalid 'input[6].id': 'item_df7e40c3f04fc8ade5c3800e'. Expected an ID that begins with 'rs'."),
    Break("item-id-prefix", "responses-single-call", review_message_id,
          "Invalid 'input[3].id': 'review_rollout_user'. Expected an ID that begins with 'msg'."),
    Break("long-call-id", "responses-single-call", long_call_id,
          "Invalid 'input[4].call_id': string too long. Expected a string with maximum length 64, but got a "
          "string with length 86 instead."),
    Break("reasoning-order", "responses-single-call", reasoning_after_message,
          "Item 'rs_083fb2d2a8606450006a561f629aac81a48c129f085ecd82c7' of type 'reasoning' was provided "
          "without its required following item."),
    Break("bad-image-url", "responses-single-call", image_path,
          "Invalid 'input[5].output[1].image_url'. Expected a valid URL", unsafe=True),
    Break("foreign-reasoning-content", "responses-single-call", reasoning_text,
          "Invalid 'input[6].content': array too long. Expected an array with maximum length 0, but got an array "
          "with length 1 instead.", unsafe=True),
]
CASES = [pytest.param(b, release, id=f"{b.apply.__name__}@{release}") for b in BREAKS for release in PAGINATED]


def broken_copy(scenario: str, apply: Callable[[Lines], None]) -> tuple[Path, bytes]:
    fixture = real_fixture(scenario)
    lines = [json.loads(line) for line in fixture.read_text().splitlines()]
    apply(lines)
    return fixture, "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()


def seeing_model(home: CodexHome) -> None:
    """The loopback's model takes images, so that Codex sends a tool output's image as written (to a
    text-only model 0.169.0 and 0.171.0 send a note in its place)."""
    catalog = json.loads(json.dumps(MODEL_CATALOG))
    catalog["models"][0]["input_modalities"] = ["text", "image"]
    (home.codex_home / "model_catalog.json").write_text(json.dumps(catalog))


@pytest.mark.codex
@pytest.mark.parametrize(("broken", "release"), CASES)
def test_refused_in_the_reports_words_then_resumes_after_fix(
        broken: Break, release: str, tmp_path: Path, doctor_home: Path) -> None:
    fixture, data = broken_copy(f"{release}-{broken.scenario}", broken.apply)
    home = CodexHome.create(tmp_path / "codex", rust_log="warn")
    with LoopbackServer() as server:
        home.configure(server.base_url)
        seeing_model(home)
        rollout = home.install_rollout_bytes(fixture.name, data)
        session = session_id_of(fixture)

        code, report = doctor("check", "--format", "json", str(rollout))
        assert [d["rule"] for d in report["files"][0]["diagnostics"]] == [broken.rule], report

        server.push([say("never")])
        before = home.resume(release, session, "first try")
        refused = [r.refusal.message for r in server.model_requests if r.refusal]
        assert refused and refused[0].startswith(broken.refusal), (refused, before.describe())
        assert before.returncode != 0

        flags = ["--unsafe-fixes"] if broken.unsafe else []
        code, report = doctor("fix", "--format", "json", *flags, str(rollout))
        assert code == 0, report
        assert report["files"][0]["fix"]["written"] and report["files"][0]["fix"]["remaining"] == []

        seen = len(server.model_requests)
        after = home.resume(release, session, "second try")
    requests = server.model_requests[seen:]
    assert after.returncode == 0, after.describe()
    assert requests and [r.status for r in requests] == [200] * len(requests), [r.refusal for r in requests]


def user_texts(request_input: list[dict[str, Any]]) -> list[str]:
    return [part.get("text", "") for item in request_input if item.get("role") == "user"
            for part in item.get("content") or [] if not part.get("text", "").startswith("<")]


@pytest.mark.codex
@pytest.mark.parametrize("release", PAGINATED)
def test_a_spurious_rollback_hides_the_turn_until_fixed(release: str, tmp_path: Path, doctor_home: Path) -> None:
    """openai/codex#31239's shape, one turn and a rollback of two: Codex drops the prompt from what it
    sends; once `fix --unsafe-fixes` removed the rollback, the model is told it again."""
    def rollback_of_two(lines: Lines) -> None:
        last = lines[-1]
        lines.append({"timestamp": last["timestamp"], "ordinal": last["ordinal"] + 1, "type": "event_msg",
                      "payload": {"type": "thread_rolled_back", "num_turns": 2}})

    fixture, data = broken_copy(f"{release}-responses-single-call", rollback_of_two)
    home = CodexHome.create(tmp_path / "codex", rust_log="warn")
    with LoopbackServer() as server:
        home.configure(server.base_url)
        rollout = home.install_rollout_bytes(fixture.name, data)
        session = session_id_of(fixture)
        _code, report = doctor("check", "--format", "json", str(rollout))
        assert [d["rule"] for d in report["files"][0]["diagnostics"]] == ["spurious-rollback"], report

        server.push([say("one")])
        before = home.resume(release, session, "first try")
        assert before.returncode == 0, before.describe()
        assert user_texts(server.model_requests[-1].input) == ["first try"]

        code, report = doctor("fix", "--format", "json", "--unsafe-fixes", str(rollout))
        assert code == 0 and report["files"][0]["fix"]["written"], report
        server.push([say("two")])
        after = home.resume(release, session, "second try")
    assert after.returncode == 0, after.describe()
    assert user_texts(server.model_requests[-1].input) == ["run echo hi", "first try", "second try"]
