"""Proof by the real client: Claude Code 2.1.332, driven against the loopback Messages API, resumes
each broken transcript before and after `fix`.

Because 2.1.332 patches most pairing breaks in memory, "it resumes" proves little: after the fix the
request the real client sends must carry the file's conversation as it is (every turn, every call
answered, nothing dropped, merged, reordered or invented by the client). Two real-binary runs a case
(about 1.5 s each): before and after.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from rollout_doctor.core.fixer import fix_files
from rollout_doctor.core.model import read_model
from rollout_doctor.core.rules import Options
from rollout_doctor.formats.claude import CLAUDE
from rollout_doctor.formats.claude.conversation import Conversation
from rollout_doctor.formats.claude.home import project_folder
from rollout_doctor.formats.claude.transcript import Transcript
from tests.support.claude_breaks import BREAKERS
from tests.support.claude_run import ClaudeHome
from tests.support.messages_api import MessagesServer, Recorded, blocks_of, text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "claude"
PROMPT = "carry on"




def essence(block: dict[str, Any]) -> tuple[str, str, str]:
    """What a block says, as the file and the request both hold it."""
    kind = block.get("type", "")
    if kind == "tool_use":
        return kind, block["id"], json.dumps(block.get("input"), sort_keys=True)
    if kind == "tool_result":
        content = block.get("content")
        if isinstance(content, list):
            content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
        return kind, block["tool_use_id"], str(content)
    return kind, "", block.get("text", "") if kind == "text" else ""


def sent_conversation(request: Recorded) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The request's messages without what Claude Code adds around the transcript (system entries and
    reminders, the prompt typed to resume)."""
    out = []
    for message in request.messages:
        if message.get("role") not in ("user", "assistant"):
            continue
        kept = [essence(b) for b in blocks_of(message)
                if not (b.get("type") == "text" and b.get("text", "").startswith("<system-reminder>"))]
        if kept:
            out.append((message["role"], kept))
    assert out[-1] == ("user", [("text", "", PROMPT)])
    return out[:-1]


def file_conversation(path: Path) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The conversation the transcript holds, read the way the rules read it (the parentUuid chain)."""
    with read_model(CLAUDE, path) as model:
        assert isinstance(model, Transcript)
        conversation = Conversation(model)
        out = []
        for turn in conversation.turns:
            kept = []
            for line in turn.lines:
                content = model.parsed(line)["message"]["content"]
                items = [{"type": "text", "text": content}] if isinstance(content, str) else content
                kept += [essence(b) for b in items
                         if not (b.get("type") == "text" and b.get("text", "").startswith("<system-reminder>"))]
            out.append((turn.role, kept))
        return out


def placed(fixture: str, breaker: str, root: Path) -> tuple[ClaudeHome, Path]:
    """A home holding the recorded transcript, broken, where `claude --resume` finds it."""
    home = ClaudeHome.make(root)
    source = FIXTURES / f"{fixture}.jsonl"
    session = json.loads(source.read_bytes().split(b"\n", 1)[0])["sessionId"]
    path = home.projects / project_folder(home.project) / f"{session}.jsonl"
    path.parent.mkdir(parents=True)
    lines = source.read_bytes().split(b"\n")[:-1]
    path.write_bytes(b"\n".join(BREAKERS[breaker](lines)) + b"\n")
    return home, path


def resume(home: ClaudeHome, path: Path) -> tuple[int, MessagesServer]:
    with MessagesServer([[text("Resumed.")]]) as server:
        done = home.run(server, "-p", "--resume", path.stem, PROMPT)
    return done.returncode, server


def first_request(server: MessagesServer) -> Recorded:
    return server.model_requests[0]


def every_call_answered(conversation: list[tuple[str, list[tuple[str, str, str]]]]) -> bool:
    for at, (role, blocks) in enumerate(conversation):
        uses = {b[1] for b in blocks if b[0] == "tool_use"}
        if role == "assistant" and uses:
            following = conversation[at + 1][1] if at + 1 < len(conversation) else []
            if not uses <= {b[1] for b in following if b[0] == "tool_result"}:
                return False
    return True


# case: (fixture, what 2.1.332 does before the fix: "refused" on the first request; "altered": the
# request is not the file's conversation; "cut": the turns before the break are not sent; "filler": the
# turn's answer is lost, and 2.1.332 sends "No response requested." in its place, before and after the fix)
CASES = {
    "unanswered-call": ("single", "altered"),
    "orphan-result": ("single", "altered"),
    "null-parent": ("single", "cut"),
    "dangling-parent": ("single", None),
    "duplicate-call-id": ("resumed", "altered"),
    "orphan-advisor-result": ("single", "altered"),
    "hollow-thinking": ("single", "refused"),
    "torn-tail": ("single", None),
    "torn-answer": ("single", "filler"),
    "separated-result": ("single", "altered"),
    "repeated-result": ("single", "altered"),
    "lost-side-result": ("parallel", "altered"),
}


@pytest.mark.parametrize("breaker", list(CASES))
def test_real_client_sends_the_fixed_file_as_it_is(breaker: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    fixture, before = CASES[breaker]
    home, path = placed(fixture, breaker, tmp_path)
    broken = path.read_bytes()

    code, server = resume(home, path)
    request = first_request(server)
    if before == "refused":
        assert request.refusal is not None and "cannot be modified" in request.refusal.message
    elif before == "altered":
        assert request.refusal is None
        assert sent_conversation(request) != file_conversation(_as_written(path, broken, tmp_path))
    elif before == "filler":
        assert sent_conversation(request)[-1] == ("assistant", [("text", "", "No response requested.")])
    elif before == "cut":
        assert request.refusal is None
        assert sent_conversation(request)[0] == ("assistant", [("text", "", "It printed one.")])
    path.write_bytes(broken)  # the resume appended its turn; the fix is judged on the broken file

    [report] = list(fix_files(CLAUDE, [path], Options(target=None, unsafe_fixes=True)))
    assert report.written and report.error is None and report.remaining == []
    fixed = _as_written(path, path.read_bytes(), tmp_path)

    code, server = resume(home, path)
    assert code == 0 and server.refusals == []
    sent = sent_conversation(first_request(server))
    # A turn that ended without an answer gets the client's filler between it and the new prompt; nothing else.
    filler = [("assistant", [("text", "", "No response requested.")])] if before == "filler" else []
    assert sent == file_conversation(fixed) + filler
    assert every_call_answered(sent)


def _as_written(path: Path, content: bytes, tmp_path: Path) -> Path:
    copy = tmp_path / f"as-written-{len(list(tmp_path.glob('as-written-*')))}" / path.name
    copy.parent.mkdir()
    copy.write_bytes(content)
    return copy


def test_clean_recordings_send_what_the_file_holds(tmp_path: Path) -> None:
    """A parallel-call transcript (one result off the chain, regathered by message id) reads as the
    conversation the client sends: the chain walk does not flag it, nor lose the side result."""
    home = ClaudeHome.make(tmp_path)
    source = FIXTURES / "parallel.jsonl"
    session = json.loads(source.read_bytes().split(b"\n", 1)[0])["sessionId"]
    path = home.projects / project_folder(home.project) / f"{session}.jsonl"
    path.parent.mkdir(parents=True)
    shutil.copyfile(source, path)
    code, server = resume(home, path)
    assert code == 0
    sent = sent_conversation(first_request(server))
    expected = file_conversation(source)
    # Claude Code may order the results of parallel calls as they finished; the set is what must match.
    assert [(r, sorted(b)) for r, b in sent] == [(r, sorted(b)) for r, b in expected]
    assert sum(b[0] == "tool_result" for _r, blocks in sent for b in blocks) == 2
