"""Tool output shapes as the real client reads them (issue 10): each shape, put by hand into a session a real
Codex recorded, resumed by 0.77.0, 0.169.0 and 0.171.0, before and after `rollout-doctor fix --unsafe-fixes`.

Before the fix, what the loopback API received shows what each release does with each shape: sends the
output as written, reads it and changes it for the model (an audio or image item it cannot pass on),
drops the line and sends 'aborted' in its place, sends it without a call_id, or sends nothing. rollout-doctor
must report exactly the shapes that the release that wrote the file, or a newer one, fails on (it takes the
writer as the oldest release that will resume the file; see bad-output-shape's doc). After the fix every
release resumes with exit 0, no
request is refused, no line is skipped, every call id is unique and within the API's 64 characters, and
the model receives the output intended: the one written where Codex reads it, else its readable rewrite.

0.171.0 resumes the session 0.169.0 wrote, as it does after an upgrade. One session per release holds
every shape (each a call and its output, or a lone output), so the module costs six Codex runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.codex_run import CodexHome, CodexRun, real_fixture, session_id_of
from tests.support.e2e import doctor
from tests.support.judge import responses_refusal
from tests.support.loopback import LoopbackServer, Recorded, say

pytest_plugins = ["tests.support.fixtures"]

codex = pytest.mark.codex

OLD, NEW, NEWEST = "0.77.0", "0.169.0", "0.171.0"
RELEASES = (OLD, NEW, NEWEST)
LONG_ID = "call_" + "L" * 59  # 64 characters, the most the API takes
MAX_CALL_ID = 64

ENCRYPTED = [{"type": "input_text", "text": "enc text"},
             {"type": "encrypted_content", "encrypted_content": "gAAAAB"}]
AUDIO = [{"type": "input_text", "text": "audio text"},
         {"type": "input_audio", "audio_url": "data:audio/wav;base64,UklGRg=="}]
OUTPUT_TEXT = [{"type": "input_text", "text": "first"},
               {"type": "output_text", "text": "second", "annotations": []}]
CUSTOM_LIST = [{"type": "input_text", "text": "Success."}, {"type": "input_text", "text": "A a.txt"}]
DETAIL = [{"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "ultra"}]


@dataclass(frozen=True)
class Probe:
    """One shape: an output (``call_id`` names its call; None for a lone output with no call_id)."""

    name: str
    output: dict[str, Any]
    call: dict[str, Any] | None = None

    @property
    def call_id(self) -> str | None:
        return self.output.get("call_id") if isinstance(self.output.get("call_id"), str) else None


def function_call(call_id: str, release: str, cmd: str | None = None) -> dict[str, Any]:
    cmd = cmd or f"echo {call_id}"  # a command of its own: the probe's call is found by its arguments
    if release == OLD:
        arguments = json.dumps({"command": ["bash", "-lc", cmd]})
        return {"type": "function_call", "name": "shell", "arguments": arguments, "call_id": call_id}
    return {"type": "function_call", "id": f"fc_{call_id}", "name": "exec_command",
            "arguments": json.dumps({"cmd": cmd}), "call_id": call_id}


def custom_call(call_id: str, release: str) -> dict[str, Any]:
    call = {"type": "custom_tool_call", "call_id": call_id, "name": "apply_patch",
            "input": "*** Begin Patch\n*** Add File: a.txt\n+a\n*** End Patch\n"}
    return call if release == OLD else {"id": f"ctc_{call_id}", **call}


def probes(release: str) -> list[Probe]:
    def fco(call_id: str | None, output: Any, **extra: Any) -> dict[str, Any]:
        item: dict[str, Any] = {"type": "function_call_output"}
        if call_id is not None:
            item["call_id"] = call_id
        return {**item, **extra, "output": output}

    def lone(item_type: str, **fields: Any) -> dict[str, Any]:
        return {"type": item_type, **fields}

    return [
        Probe("encrypted_content", fco("call_enc", ENCRYPTED), function_call("call_enc", release)),
        Probe("input_audio", fco("call_audio", AUDIO), function_call("call_audio", release)),
        Probe("output_text", fco("call_otext", OUTPUT_TEXT), function_call("call_otext", release)),
        Probe("custom list", lone("custom_tool_call_output", call_id="call_clist", output=CUSTOM_LIST),
              custom_call("call_clist", release)),
        Probe("image detail", fco("call_detail", DETAIL), function_call("call_detail", release)),
        Probe("input_text without text", fco("call_notext", [{"type": "input_text"}]),
              function_call("call_notext", release)),
        Probe("function output, no call_id", fco(None, "orphan text")),
        Probe("custom output, null call_id", lone("custom_tool_call_output", call_id=None, output="x")),
        Probe("function output, empty call_id", fco("", "empty id")),
        Probe("first 64-char id", fco(LONG_ID, "listed"), function_call(LONG_ID, release, "ls")),
        Probe("second 64-char id", fco(LONG_ID, "/work"), function_call(LONG_ID, release, "pwd")),
        Probe("server tool search", lone("tool_search_output", call_id="ts_server", status="completed",
                                         execution="server", tools=[])),
        Probe("tool search, null call_id", lone("tool_search_output", call_id=None, status="completed",
                                                execution="client", tools=[])),
    ]


def fixture_of(release: str) -> Path:
    return real_fixture(f"{OLD if release == OLD else NEW}-responses-single-call")


def build(release: str) -> tuple[bytes, dict[str, int]]:
    """The fixture with every probe's lines after its own output, and the 1-based line of each probe's
    output. Inserted lines take the envelope of that output line; a paginated file is renumbered."""
    lines = [json.loads(line) for line in fixture_of(release).read_text().splitlines()]
    at = max(n for n, line in enumerate(lines) if line["type"] == "response_item"
             and line["payload"]["type"] == "function_call_output")
    template, inserted, where = lines[at], [], {}
    for probe in probes(release):
        for payload in ([probe.call] if probe.call else []) + [probe.output]:
            inserted.append({**template, "payload": payload})
        where[probe.name] = at + 1 + len(inserted)
    lines[at + 1 : at + 1] = inserted
    if "ordinal" in lines[0]:
        for n, line in enumerate(lines):
            line["ordinal"] = n
    return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode(), where


@dataclass(frozen=True)
class Resumed:
    run: CodexRun
    requests: list[Recorded]


@dataclass
class Played:
    release: str
    where: dict[str, int]
    before: Resumed
    fix_exit: int
    report: dict[str, Any]  # `rollout-doctor fix --format json`: what check found, what fix did
    after: Resumed


def resume(home: CodexHome, server: LoopbackServer, release: str, session: str, prompt: str) -> Resumed:
    server.push([say(f"answer to {prompt}")])
    seen = len(server.model_requests)
    run = home.resume(release, session, prompt)
    return Resumed(run, server.model_requests[seen:])


def play(release: str, root: Path) -> Played:
    data, where = build(release)
    fixture = fixture_of(release)
    session = session_id_of(fixture)
    home = CodexHome.create(root, rust_log="warn")
    # The loopback's judge refuses a server-side tool_search_output that carries a call_id, as an output
    # without its call; Codex keeps and sends it. `refusal` below judges without that mistake.
    with LoopbackServer(judge=False) as server:
        home.configure(server.base_url, model_catalog=release != OLD)
        rollout = home.install_rollout_bytes(fixture.name, data)
        before = resume(home, server, release, session, "first try")
        code, report = doctor("fix", "--format", "json", "--unsafe-fixes", str(rollout))
        after = resume(home, server, release, session, "second try")
    return Played(release, where, before, code, report["files"][0], after)


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Played]]:
    """Each release's session played once for the module (two Codex runs), whichever test looks at it."""
    cache: dict[str, Played] = {}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path_factory.mktemp("rollout-doctor")))

        def get(release: str) -> Played:
            if release not in cache:
                cache[release] = play(release, tmp_path_factory.mktemp(f"codex-{release}"))
            return cache[release]

        yield get


# --- what Codex sent ---------------------------------------------------------------------------------


def refusal(items: list[dict[str, Any]]) -> str | None:
    """What the API would answer: tests.support.judge for pairing, less its mistake about server-side tool
    searches; and an output without a call_id, which the API requires (its reference), is refused too."""
    answers = ("function_call_output", "custom_tool_call_output")
    if any(i.get("type") in answers and not isinstance(i.get("call_id"), str) for i in items):
        return "Missing required parameter: call_id"
    paired = [i for i in items if (i.get("type"), i.get("execution")) != ("tool_search_output", "server")]
    found = responses_refusal(paired)
    return None if found is None else found.message


MATCH = ("type", "call_id", "output", "execution")  # how a lone output is recognised in what Codex sent


def sent(request: Recorded, probe: Probe) -> list[dict[str, Any]]:
    """The items the request carried for the probe: what follows its call (found by its arguments, since
    a fix may rename its call_id), or the lone output itself."""
    items = request.input
    if probe.call is None:
        return [i for i in items if all(i.get(key) == probe.output.get(key) for key in MATCH)]
    found = [n for n, i in enumerate(items) if i.get("type") == probe.call["type"]
             and i.get("arguments", i.get("input")) == probe.call.get("arguments", probe.call.get("input"))]
    assert len(found) == 1, (probe.name, found)
    answer = items[found[0] + 1]
    assert answer["type"] == probe.output["type"], answer
    assert answer.get("call_id") == items[found[0]]["call_id"], answer
    return [answer]


def sent_outputs(request: Recorded, probe: Probe) -> list[Any]:
    return [item.get("output") for item in sent(request, probe)]


def fate(request: Recorded, probe: Probe) -> str:
    """What Codex did with the probe's output line: "as written", "changed" (read, then altered for the
    model), "aborted" (dropped; 'aborted' sent in its place), "no call_id" (sent without one) or "not
    sent"."""
    items = sent(request, probe)
    if not items:
        return "not sent"
    (item,) = items
    if item.get("output") == "aborted":
        return "aborted"
    if item["type"] != "tool_search_output" and not isinstance(item.get("call_id"), str):
        return "no call_id"
    written = {key: value for key, value in probe.output.items() if key != "call_id" or probe.call is None}
    return "as written" if {k: v for k, v in item.items() if k in written} == written else "changed"


# What each release did with each shape on the first resume, before the fix (RUST_LOG=warn, loopback API).
# "changed": 0.169.0 and 0.171.0 replace an audio item with the text "audio content omitted because you do
# not support audio input" for a text-only model, 0.77.0 sends an image without its detail.
BEFORE: dict[str, dict[str, str]] = {
    "encrypted_content": {OLD: "aborted", NEW: "as written", NEWEST: "as written"},
    "input_audio": {OLD: "aborted", NEW: "changed", NEWEST: "changed"},
    "output_text": {OLD: "aborted", NEW: "aborted", NEWEST: "aborted"},
    "custom list": {OLD: "aborted", NEW: "as written", NEWEST: "as written"},
    "image detail": {OLD: "changed", NEW: "aborted", NEWEST: "aborted"},
    "input_text without text": {r: "aborted" for r in RELEASES},
    "function output, no call_id": {OLD: "not sent", NEW: "no call_id", NEWEST: "no call_id"},
    "custom output, null call_id": {OLD: "not sent", NEW: "not sent", NEWEST: "not sent"},
    "function output, empty call_id": {r: "not sent" for r in RELEASES},  # dropped as an orphan
    "first 64-char id": {OLD: "as written", NEW: "as written", NEWEST: "as written"},
    "second 64-char id": {OLD: "as written", NEW: "as written", NEWEST: "as written"},
    "server tool search": {OLD: "not sent", NEW: "as written", NEWEST: "as written"},
    "tool search, null call_id": {OLD: "not sent", NEW: "as written", NEWEST: "as written"},
}
# What rollout-doctor reports for each probe's line in the file each release resumes (0.77.0 resumes the file
# 0.77.0 wrote, 0.169.0 and 0.171.0 the one 0.169.0 wrote).
REPORTED: dict[str, dict[str, str | None]] = {
    "encrypted_content": {OLD: "bad-output-shape", NEW: None, NEWEST: None},
    "input_audio": {OLD: "bad-output-shape", NEW: None, NEWEST: None},
    "output_text": {OLD: "bad-output-shape", NEW: "bad-output-shape", NEWEST: "bad-output-shape"},
    "custom list": {OLD: "bad-output-shape", NEW: None, NEWEST: None},
    "image detail": {r: "bad-output-shape" for r in RELEASES},
    "input_text without text": {r: "bad-output-shape" for r in RELEASES},
    "function output, no call_id": {r: "orphan-output" for r in RELEASES},
    "custom output, null call_id": {r: "orphan-output" for r in RELEASES},
    "function output, empty call_id": {r: "orphan-output" for r in RELEASES},
    "first 64-char id": {r: None for r in RELEASES},
    "second 64-char id": {r: None for r in RELEASES},  # its call is duplicate-call-id's, one line up
    "server tool search": {r: None for r in RELEASES},
    "tool search, null call_id": {r: None for r in RELEASES},
}
# The output the model must get for each probe after the fix; None: the line is gone (and nothing is sent).
AFTER: dict[str, dict[str, Any]] = {
    "encrypted_content": {OLD: ENCRYPTED[:1], NEW: ENCRYPTED, NEWEST: ENCRYPTED},
    "input_audio": {OLD: AUDIO[:1], NEW: "changed", NEWEST: "changed"},
    # the same text as an input_text item (Codex reads no `annotations` there and sends none)
    "output_text": {r: [OUTPUT_TEXT[0], {"type": "input_text", "text": "second"}] for r in RELEASES},
    "custom list": {OLD: "Success.\nA a.txt", NEW: CUSTOM_LIST, NEWEST: CUSTOM_LIST},
    # read: 0.77.0 sends the image, 0.169.0 and 0.171.0 a note for an image they cannot pass on
    "image detail": {OLD: [{"type": "input_image", "image_url": DETAIL[0]["image_url"]}], NEW: "changed",
                     NEWEST: "changed"},
    "input_text without text": {r: '[{"type":"input_text"}]' for r in RELEASES},  # only a string will do
    "function output, no call_id": {r: None for r in RELEASES},
    "custom output, null call_id": {r: None for r in RELEASES},
    "function output, empty call_id": {r: None for r in RELEASES},
    "first 64-char id": {r: "listed" for r in RELEASES},
    "second 64-char id": {r: "/work" for r in RELEASES},
    "server tool search": {OLD: None, NEW: "as written", NEWEST: "as written"},
    "tool search, null call_id": {OLD: None, NEW: "as written", NEWEST: "as written"},
}
# What Codex logs when it cannot use a line of the rollout, or drops an output (RUST_LOG=warn).
SKIPPED = ("failed to parse rollout line", "skipping unknown rollout line", "Orphan ", "output is missing")


@codex
@pytest.mark.parametrize("release", RELEASES)
def test_what_each_release_does_with_each_shape(release: str, played: Callable[[str], Played]) -> None:
    p = played(release)
    assert p.before.run.returncode == 0, p.before.run.describe()
    (request,) = p.before.requests
    seen = {probe.name: fate(request, probe) for probe in probes(release)}
    assert seen == {name: fates[release] for name, fates in BEFORE.items()}


@codex
@pytest.mark.parametrize("release", RELEASES)
def test_rollout_doctor_reports_what_the_release_that_wrote_the_file_cannot_read(
        release: str, played: Callable[[str], Played]) -> None:
    p = played(release)
    by_line = {d["line"]: d["rule"] for d in p.report["diagnostics"]}
    assert {name: by_line.get(line) for name, line in p.where.items()} == {
        name: rules[release] for name, rules in REPORTED.items()}
    renamed = [d for d in p.report["diagnostics"] if d["rule"] == "duplicate-call-id"]
    assert [d["call_id"] for d in renamed] == [LONG_ID]
    assert len(p.report["diagnostics"]) == len([r for r in REPORTED.values() if r[release]]) + 1, p.report


@codex
@pytest.mark.parametrize("release", RELEASES)
def test_after_the_fix_the_model_gets_the_intended_outputs(
        release: str, played: Callable[[str], Played]) -> None:
    p = played(release)
    fixed = p.report["fix"]
    assert p.fix_exit == 0 and fixed["written"] and fixed["remaining"] == [], fixed
    assert p.after.run.returncode == 0, p.after.run.describe()
    (request,) = p.after.requests
    assert request.status == 200 and refusal(request.input) is None, refusal(request.input)
    logged = p.after.run.stderr + p.after.run.stdout
    assert [line for line in logged.splitlines() if any(word in line for word in SKIPPED)] == []
    for probe in probes(release):
        intended = AFTER[probe.name][release]
        outputs = sent_outputs(request, probe)
        if intended is None:
            assert outputs == [], probe.name
        elif intended in ("changed", "as written"):
            assert fate(request, probe) == intended, (probe.name, outputs)
        else:
            assert outputs == [intended], probe.name
    call_ids = [i["call_id"] for i in request.input if i.get("type") in ("function_call", "custom_tool_call")]
    assert len(set(call_ids)) == len(call_ids) and max(map(len, call_ids)) <= MAX_CALL_ID, call_ids
    assert LONG_ID in call_ids and LONG_ID[:60] + "-rd2" in call_ids


@codex
@pytest.mark.parametrize("release", RELEASES)
def test_before_the_fix_codex_says_it_skipped_what_it_could_not_read(
        release: str, played: Callable[[str], Played]) -> None:
    """The counterpart of the clean log after the fix: the same words did appear before it."""
    p = played(release)
    logged = p.before.run.stderr + p.before.run.stdout
    assert [line for line in logged.splitlines() if any(word in line for word in SKIPPED)] != []
