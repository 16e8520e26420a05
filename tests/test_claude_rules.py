"""Claude Code's rules on transcripts recorded with the real 2.1.332 (fixtures/claude/), broken each way
the rules know: what check finds, what fix writes (only the lines the fix needs, the chain kept), that a
fixed file checks clean, that fixing twice is fixing once, and that undo gives the bytes back."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rollout_doctor.core.check import check_file
from rollout_doctor.core.discovery import discover
from rollout_doctor.core.fixer import fix_files
from rollout_doctor.core.model import read_model
from rollout_doctor.core.rules import Options
from rollout_doctor.formats import known
from rollout_doctor.formats.claude import CLAUDE
from rollout_doctor.formats.claude.conversation import Conversation
from rollout_doctor.formats.codex import CODEX
from rollout_doctor.store import restore
from tests.support.claude_breaks import BREAKERS, Lines, dumps, find, parsed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "claude"
SESSION = "43ef9735-de42-4102-b5f1-623d525c4fb6"


def lines_of(name: str) -> Lines:
    return (FIXTURES / f"{name}.jsonl").read_bytes().split(b"\n")[:-1]


def write(tmp_path: Path, lines: Lines, name: str = SESSION) -> Path:
    path = tmp_path / f"{name}.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def codes(path: Path, unsafe: bool = False) -> list[tuple[str, int]]:
    report = check_file(CLAUDE, path, Options(target=None, unsafe_fixes=unsafe))
    assert report.error is None
    return [(d.code, d.line) for d in report.diagnostics]


def conversation(path: Path) -> list[tuple[str, list[str]]]:
    """Role and block kinds/ids of each message the chain gives (what a resume sends)."""
    with read_model(CLAUDE, path) as model:
        conv = Conversation(model)
        out = []
        for turn in conv.turns:
            blocks = []
            for line in turn.lines:
                content = model.parsed(line)["message"]["content"]
                for b in [{"type": "text", "text": content}] if isinstance(content, str) else content:
                    blocks.append(f"{b['type']}:{b.get('id') or b.get('tool_use_id') or b.get('text', '')[:20]}")
            out.append((turn.role, blocks))
        return out


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))


@pytest.mark.parametrize("name", ["single", "parallel", "resumed", "compacted"])
def test_recorded_transcripts_are_clean(name: str, tmp_path: Path) -> None:
    """Parallel calls hang one result off the chain (regathered by message id): not a problem."""
    assert codes(write(tmp_path, lines_of(name))) == []


def test_parallel_calls_are_regathered_into_one_response_and_one_answer() -> None:
    turns = conversation(FIXTURES / "parallel.jsonl")
    assert [role for role, _ in turns] == ["user", "assistant", "user", "assistant"]
    uses = sorted(b.split(":")[1] for b in turns[1][1] if b.startswith("tool_use"))
    results = sorted(b.split(":")[1] for b in turns[2][1] if b.startswith("tool_result"))
    assert len(uses) == 2 and uses == results


CASES = {
    # name: (fixture, breaker, expected codes, unsafe fixes needed)
    "unanswered-call": ("single", BREAKERS["unanswered-call"], ["CC101"], False),
    "orphan-result": ("single", BREAKERS["orphan-result"], ["CC102"], False),
    "separated-result": ("single", BREAKERS["separated-result"], ["CC102"], False),
    "repeated-result": ("single", BREAKERS["repeated-result"], ["CC104"], False),
    "duplicate-call-id": ("resumed", BREAKERS["duplicate-call-id"], ["CC103"], False),
    "orphan-advisor-result": ("single", BREAKERS["orphan-advisor-result"], ["CC105"], False),
    "hollow-thinking": ("single", BREAKERS["hollow-thinking"], ["CC106"], True),
    "torn-tail": ("single", BREAKERS["torn-tail"], ["CC201"], False),
    "torn-answer": ("single", BREAKERS["torn-answer"], ["CC201"], False),
    "null-parent": ("single", BREAKERS["null-parent"], ["CC202"], False),
    "dangling-parent": ("single", BREAKERS["dangling-parent"], ["CC202"], False),
    "lost-side-result": ("parallel", BREAKERS["lost-side-result"], ["CC101"], False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_break_is_found_and_fixed_keeping_every_other_line(case: str, tmp_path: Path) -> None:
    fixture, breaker, expected, unsafe = CASES[case]
    broken = breaker(lines_of(fixture))
    path = write(tmp_path, broken)
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    assert [code for code, _line in codes(path)] == expected

    [report] = list(fix_files(CLAUDE, [path], Options(target=None, unsafe_fixes=unsafe)))
    assert report.written and report.error is None and report.remaining == []
    assert path.stat().st_mtime_ns == 1_700_000_000_000_000_000
    fixed = path.read_bytes().split(b"\n")[:-1]
    # Every line the fix did not need keeps its bytes; the chain has no hole and no loop.
    assert len(set(broken) - set(fixed)) <= 3
    assert codes(path, unsafe=True) == []
    with read_model(CLAUDE, path) as model:
        conv = Conversation(model)
        assert conv.chain and conv.entries[conv.chain[0]].parent is None
        uuids = [conv.entries[line].uuid for line in conv.main()]
        assert len(uuids) == len(set(uuids))
    again = list(fix_files(CLAUDE, [path], Options(target=None, unsafe_fixes=unsafe)))
    assert not again[0].written and again[0].diagnostics == []
    restore(path)
    assert path.read_bytes() == b"\n".join(broken) + b"\n"


def test_unanswered_call_gets_the_interrupted_result_on_the_chain(tmp_path: Path) -> None:
    path = write(tmp_path, BREAKERS["unanswered-call"](lines_of("single")))
    list(fix_files(CLAUDE, [path], Options(target=None)))
    turns = conversation(path)
    assert [role for role, _ in turns] == ["user", "assistant", "user", "assistant"]
    [use] = [b for b in turns[1][1] if b.startswith("tool_use")]
    assert turns[2][1] == [use.replace("tool_use", "tool_result")]
    added = [json.loads(line) for line in path.read_bytes().splitlines() if b"rollout-doctor" not in line
             and b"Tool call interrupted" in line]
    [result] = added
    assert result["message"]["content"][0]["is_error"] is True
    assert result["sessionId"] == SESSION and result["type"] == "user"


def test_separated_result_is_moved_before_the_typed_message(tmp_path: Path) -> None:
    path = write(tmp_path, BREAKERS["separated-result"](lines_of("single")))
    list(fix_files(CLAUDE, [path], Options(target=None)))
    turns = conversation(path)
    assert turns[2][0] == "user" and turns[2][1][0].startswith("tool_result") and turns[2][1][1] == "text:also print two"


def test_null_parent_is_relinked_to_the_line_before_and_nothing_is_cut(tmp_path: Path) -> None:
    clean = conversation(FIXTURES / "single.jsonl")
    path = write(tmp_path, BREAKERS["null-parent"](lines_of("single")))
    assert conversation(path) == clean[-1:]
    list(fix_files(CLAUDE, [path], Options(target=None)))
    assert conversation(path) == clean


def test_a_compact_boundary_starts_the_chain_anew_and_is_never_crossed(tmp_path: Path) -> None:
    lines = lines_of("single")
    objs = parsed(lines)
    last = find(lines, "text", -1)
    boundary = {"parentUuid": None, "logicalParentUuid": objs[last]["uuid"], "isSidechain": False, "type": "system",
                "subtype": "compact_boundary", "content": "Conversation compacted", "uuid": "0b7e0b7e-0000-4000-8000-00000000c001",
                "sessionId": SESSION, "compactMetadata": {"trigger": "manual"}}
    after = dict(objs[find(lines, "tool_result")], uuid="0b7e0b7e-0000-4000-8000-00000000c002",
                 parentUuid="0b7e0b7e-0000-4000-8000-0000000dead0",
                 message={"role": "user", "content": "summary of what came before"})
    after.pop("toolUseResult", None)
    path = write(tmp_path, [*lines, dumps(boundary), dumps(after)])
    assert codes(path) == [("CC202", len(lines) + 1)]
    list(fix_files(CLAUDE, [path], Options(target=None)))
    assert json.loads(path.read_bytes().splitlines()[-1])["parentUuid"] == boundary["uuid"]
    assert conversation(path) == [("user", ["text:summary of what came"])]


def test_format_is_recognised_by_name_in_a_folder_and_by_content_by_name(tmp_path: Path) -> None:
    (tmp_path / "projects" / "p").mkdir(parents=True)
    named = write(tmp_path / "projects" / "p", lines_of("single"))
    other = write(tmp_path, lines_of("single"), "kept-by-hand")
    (tmp_path / "notes.jsonl").write_bytes(b'{"a":1}\n')
    found = {f.path.name: (f.format.name if f.format else f.error) for f in discover([tmp_path / "projects"], known())}
    assert found == {named.name: "claude"}
    [by_content] = list(discover([other], known()))
    assert by_content.format is CLAUDE
    [notes] = list(discover([tmp_path / "notes.jsonl"], known()))
    assert notes.format is None and "left as it is" in (notes.error or "")
    assert not CODEX.owns_content(other)


def test_a_copy_of_a_response_on_an_abandoned_branch_is_not_gathered(tmp_path: Path) -> None:
    """Regathering by message id keeps to lines linked to the response: the same message id on another
    branch (a rewind, a copied session) is not part of what a resume sends."""
    lines = lines_of("single")
    objs = parsed(lines)
    text_at, use_at = find(lines, "text"), find(lines, "tool_use")
    branch = []
    parent = objs[text_at]["parentUuid"]
    for n, at in enumerate((text_at, use_at)):
        copy = dict(objs[at], uuid=f"0b7e0b7e-0000-4000-8000-00000000b00{n}", parentUuid=parent)
        parent = copy["uuid"]
        branch.append(dumps(copy))
    path = write(tmp_path, [*lines[:text_at], *branch, *lines[text_at:]])
    assert codes(path) == []
    assert conversation(path) == conversation(FIXTURES / "single.jsonl")


def test_the_session_is_known_by_its_id_its_folder_and_the_name_claude_was_given(tmp_path: Path) -> None:
    """`claude -n NAME` (2.1.332) writes a custom-title line; a later rename writes another."""
    titles = [b'{"type":"custom-title","customTitle":"first try","sessionId":"%s"}' % SESSION.encode(),
              b'{"type":"custom-title","customTitle":"login bug hunt","sessionId":"%s"}' % SESSION.encode()]
    path = write(tmp_path, [*lines_of("single"), *titles])
    report = check_file(CLAUDE, path, Options(target=None))
    assert report.session is not None
    assert (report.session.id, report.session.name) == (SESSION, "login bug hunt")
    assert report.session.cwd is not None and report.session.cwd.endswith("/single/project")


def test_a_recorded_compaction_starts_the_conversation_at_its_boundary() -> None:
    """/compact (2.1.332) writes a compact boundary with a null parent and the summary after it: the chain a
    resume walks stops there, and that is no broken chain."""
    turns = conversation(FIXTURES / "compacted.jsonl")
    assert turns[0][0] == "user" and turns[0][1][0].startswith("text:This session is bein")
    assert turns[-1] == ("assistant", ["text:After compaction."])
