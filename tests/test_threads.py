"""A session is a thread: forks, forks of forks and revert branches (recorded from the real 0.169.0 and
0.171.0 in fixtures/threads), checked and fixed as Codex resumes them. tests/test_e2e_threads.py resumes
the same shapes in the real binaries; this file covers the cases one by one, fast.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson
import pytest

from tests.support.breakers import BREAKERS, Lines
from tests.support.cli import isolate, run
from tests.support.threads import (
    Home,
    break_before_fork,
    copy_thread,
    history_base,
    last_ordinal,
    lines_of,
    meta_of,
    renumber,
    set_cut,
)

SCENARIOS = ["0.169.0-fork", "0.171.0-fork", "0.171.0-fork-of-fork", "0.171.0-revert"]


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(tmp_path, monkeypatch)


def report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code, out, _err = run(capsys, *argv, "--format", "json")
    return code, orjson.loads(out)


def files_of(result: dict) -> dict[Path, dict]:  # type: ignore[type-arg]
    return {Path(f["path"]): f for f in result["files"]}


def ordinals(path: Path) -> list[int]:
    return [json.loads(line)["ordinal"] for line in lines_of(path)]


def cut_is_consistent(parent: Path, child: Path) -> None:
    """What Codex writes for a fork: the cut at a line end of the parent, its ordinal the one after the
    last record before it, the child's own numbering continuing from there."""
    base = history_base(child)
    data = parent.read_bytes()
    assert 0 < base["end_byte_offset"] <= len(data) and data[base["end_byte_offset"] - 1] == 0x0A
    assert base["end_ordinal_exclusive"] == last_ordinal(data[: base["end_byte_offset"]]) + 1
    own = ordinals(child)
    assert own == list(range(base["end_ordinal_exclusive"], base["end_ordinal_exclusive"] + len(own)))
    meta = meta_of(child)["payload"]
    if "forked_from_ordinal_exclusive" in meta:
        assert meta["forked_from_ordinal_exclusive"] == base["end_ordinal_exclusive"]


# --- reading threads -----------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_real_threads_check_clean_and_know_their_lineage(scenario: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    home = copy_thread(tmp_path, scenario)
    code, result = report(capsys, "check", str(home.sessions))
    assert code == 0 and result["summary"]["diagnostics"] == 0, result
    files = files_of(result)
    root, *children = home.files
    assert files[root]["thread"]["lineage"] == []
    for n, child in enumerate(children):
        lineage = files[child]["thread"]["lineage"]
        assert lineage[-1]["path"] == str(children[n - 1] if scenario.endswith("fork-of-fork") and n else root)
        assert lineage[-1]["end_byte_offset"] == history_base(child)["end_byte_offset"]
        assert files[child]["thread"]["id"] == meta_of(child)["payload"]["id"]
    if scenario.endswith("revert"):
        [branch] = children
        thread = files[branch]["thread"]
        assert thread["id"] == files[root]["thread"]["id"] != thread["rollout_id"]
    if scenario.endswith("fork-of-fork"):
        assert len(files[children[-1]]["thread"]["lineage"]) == 2


@pytest.mark.parametrize("breaker", ["orphan-call", "duplicate-output", "interleaved-message", "misplaced-output"])
@pytest.mark.parametrize("scenario", ["0.169.0-fork", "0.171.0-fork"])
def test_check_child_reports_what_it_inherits_with_the_parent_file_and_line(
        scenario: str, breaker: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = copy_thread(tmp_path, scenario)
    parent, child = home.files
    broken = break_before_fork(parent, [child], BREAKERS[breaker])
    code, result = report(capsys, "check", str(child))
    assert code == 1
    [found] = [d for d in result["files"][0]["diagnostics"] if d["rule"] == broken.expected[0].rule]
    assert found["inherited_from"] == str(parent) and found["line"] == broken.expected[0].line
    assert found["message"].startswith("inherited: ")
    code, out, _ = run(capsys, "check", str(child))
    lines = out.splitlines()
    assert f"  {child}" in lines, "the session's own file, in its header"
    assert f"  inherits from {parent}" in lines, "the parent's file, named once"
    assert any(line.startswith(f"  {broken.expected[0].line}  {found['code']} ") for line in lines)


def test_guard_of_a_child_is_not_ready_while_its_inherited_history_is_broken(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    home = copy_thread(tmp_path, "0.171.0-fork")
    monkeypatch.setenv("CODEX_HOME", str(home.path))
    parent, child = home.files
    break_before_fork(parent, [child], BREAKERS["duplicate-output"])
    before = {p: p.read_bytes() for p in (parent, child)}
    code, _out, err = run(capsys, "guard", meta_of(child)["payload"]["id"])
    assert code == 1 and "ready to resume" not in err and "duplicate-output" in err and str(parent) in err
    assert {p: p.read_bytes() for p in (parent, child)} == before, "the guard fixes only the session it guards"


# --- fixing threads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("breaker", ["orphan-call", "duplicate-output", "orphan-output"])
def test_fix_of_the_folder_rewrites_parent_and_child_together_and_undo_restores_both(
        breaker: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = copy_thread(tmp_path, "0.171.0-fork")
    parent, child = home.files
    break_before_fork(parent, [child], BREAKERS[breaker])
    before = {p: p.read_bytes() for p in home.files}
    code, result = report(capsys, "fix", str(home.sessions))
    assert code == 0, result
    fixes = {path: f["fix"] for path, f in files_of(result).items()}
    assert fixes[parent]["written"] and fixes[child]["written"]
    assert fixes[parent]["backup"] == fixes[child]["backup"]
    cut_is_consistent(parent, child)
    assert report(capsys, "check", str(home.sessions))[0] == 0
    code, out, _ = run(capsys, "undo", str(child))
    assert code == 0 and f"restored {parent}" in out and f"restored {child}" in out
    assert {p: p.read_bytes() for p in home.files} == before


@pytest.mark.parametrize("breaker", ["misplaced-output", "interleaved-message"])
def test_a_fix_that_only_moves_lines_before_the_cut_leaves_the_child_as_it_is(
        breaker: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A move within the inherited part changes no byte offset or ordinal of the cut: the child still
    points at the same record, and is not rewritten."""
    home = copy_thread(tmp_path, "0.171.0-fork")
    parent, child = home.files
    break_before_fork(parent, [child], BREAKERS[breaker])
    child_bytes = child.read_bytes()
    code, result = report(capsys, "fix", str(home.sessions))
    assert code == 0 and files_of(result)[parent]["fix"]["written"]
    assert child.read_bytes() == child_bytes
    cut_is_consistent(parent, child)
    assert report(capsys, "check", str(child))[0] == 0


def test_fix_of_the_parent_alone_rewrites_the_child_with_it(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    home = copy_thread(tmp_path, "0.171.0-fork")
    parent, child = home.files
    break_before_fork(parent, [child], BREAKERS["orphan-call"])
    code, result = report(capsys, "fix", str(parent))
    assert code == 0
    files = files_of(result)
    assert files[parent]["fix"]["role"] == "requested" and files[child]["fix"]["role"] == "child"
    assert files[child]["fix"]["written"]
    cut_is_consistent(parent, child)
    assert report(capsys, "check", str(home.sessions))[0] == 0
    code, result = report(capsys, "fix", str(parent))
    assert code == 0 and result["summary"]["files_written"] == 0, "fixing twice is fixing once"


def test_fix_of_the_child_alone_never_touches_the_parent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = copy_thread(tmp_path, "0.171.0-fork")
    parent, child = home.files
    break_before_fork(parent, [child], BREAKERS["duplicate-output"])
    before = parent.read_bytes()
    code, result = report(capsys, "fix", str(child))
    assert code == 1 and parent.read_bytes() == before
    [remaining] = result["files"][0]["fix"]["remaining"]
    assert remaining["inherited_from"] == str(parent) and "fixing the parent fixes it here too" in remaining["message"]


def test_an_orphan_call_at_the_cut_is_answered_in_the_child(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A fork taken while a call waited: the parent's last record is the call. The child's own fix puts
    the cancelled output right after its session_meta (the same place in what the model is sent)."""
    home = copy_thread(tmp_path, "0.171.0-fork")
    parent, child = home.files
    lines = Lines(parent.read_bytes())
    call = lines.calls()[0]
    output = lines.output_of(call)
    del lines.raw[call + 1:]  # the session stopped right after the call
    lines.renumber()
    parent.write_bytes(lines.data())
    set_cut(child, len(lines.data()), last_ordinal(lines.data()) + 1)
    assert output is not None
    before = parent.read_bytes()
    code, result = report(capsys, "fix", str(child))
    assert code == 0 and parent.read_bytes() == before, result
    second = json.loads(lines_of(child)[1])
    assert second["payload"]["type"] == "function_call_output" and second["payload"]["output"] == "aborted"
    cut_is_consistent(parent, child)


def test_renumbering_a_child_continues_from_its_cut_and_moves_the_grandchilds(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = copy_thread(tmp_path, "0.171.0-fork-of-fork")
    parent, child, grandchild = home.files
    first = ordinals(child)[0]
    data = child.read_bytes()
    at = data.index(b'"function_call_output"')
    start, end = data.rindex(b"\n", 0, at) + 1, data.index(b"\n", at) + 1
    removed = end - start
    lines = renumber((data[:start] + data[end:]).splitlines(keepends=True), first)
    child.write_bytes(b"".join(lines))
    base = history_base(grandchild)
    set_cut(grandchild, base["end_byte_offset"] - removed, base["end_ordinal_exclusive"] - 1)
    code, result = report(capsys, "fix", str(child))
    assert code == 0, result
    assert ordinals(child)[0] == first, "not from 0: from the cut in the parent"
    assert files_of(result)[grandchild]["fix"]["written"]
    cut_is_consistent(parent, child)
    cut_is_consistent(child, grandchild)
    assert report(capsys, "check", str(home.sessions))[0] == 0


def test_a_child_renumbered_from_zero_is_reported_and_fixed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What rollout-doctor 0.1 did to a fork: 0.171.0 then skips every line of it."""
    home = copy_thread(tmp_path, "0.171.0-fork")
    parent, child = home.files
    child.write_bytes(b"".join(renumber(lines_of(child), 0)))
    code, result = report(capsys, "check", str(child))
    assert code == 1 and [d["rule"] for d in result["files"][0]["diagnostics"]] == ["ordinal-order"]
    assert run(capsys, "fix", str(child))[0] == 0
    cut_is_consistent(parent, child)


def test_a_missing_parent_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = copy_thread(tmp_path, "0.171.0-fork")
    parent, child = home.files
    archived = home.path / "archived_sessions" / parent.name
    archived.parent.mkdir()
    parent.rename(archived)
    assert report(capsys, "check", str(child))[0] == 0, "an archived parent is found, as Codex finds it"
    archived.unlink()
    code, result = report(capsys, "check", str(child))
    [d] = result["files"][0]["diagnostics"]
    assert code == 1 and d["rule"] == "history-base" and d["fix"] is None
    assert "missing source rollout" in d["message"]


def test_a_parent_shortened_before_the_cut_is_reported_with_an_unsafe_fix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What a repair of the parent alone did: 0.169.0 and 0.171.0 then refuse the child ("cutoff byte
    offset is past the source rollout")."""
    home = copy_thread(tmp_path, "0.171.0-fork")
    parent, child = home.files
    lines = lines_of(parent)
    parent.write_bytes(b"".join(lines[:-1]))  # a dropped last event: the cut now lies past the end
    code, result = report(capsys, "check", str(child))
    [d] = result["files"][0]["diagnostics"]
    assert code == 1 and d["rule"] == "history-base" and "past the end" in d["message"]
    assert d["fix"]["applicability"] == "unsafe"
    assert run(capsys, "fix", str(child))[0] == 1
    assert run(capsys, "fix", "--unsafe-fixes", str(child))[0] == 0
    assert history_base(child)["end_byte_offset"] == len(parent.read_bytes())
    assert report(capsys, "check", str(child))[0] == 0


def test_a_fix_that_would_move_a_line_across_a_cut_is_held_back(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A fork taken while a call waited, with a message typed meanwhile: moving the message after the
    output would take it out of the child's history. Nothing is carried across the cut."""
    home = copy_thread(tmp_path, "0.171.0-fork")
    parent, child = home.files
    lines = Lines(BREAKERS["interleaved-message"](parent.read_bytes()).data)
    call = lines.calls()[0]
    output = lines.output_of(call)
    assert output is not None
    cut = sum(len(raw) for raw in lines.raw[:output])  # the fork was taken just before the output
    parent.write_bytes(lines.data())
    set_cut(child, cut, json.loads(lines.raw[output])["ordinal"])
    before = {p: p.read_bytes() for p in home.files}
    code, result = report(capsys, "fix", str(home.sessions))
    assert code == 1
    assert {p: p.read_bytes() for p in home.files} == before
    remaining = files_of(result)[parent]["fix"]["remaining"]
    assert [d["rule"] for d in remaining] == ["interleaved-message"]


def test_a_transaction_that_would_break_a_child_not_asked_about_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The parent lost a call's output; the child, forked before the output was written, holds it. The
    parent's fix (a cancelled output) would reach the child and give it two outputs: refused, exit 3."""
    home = copy_thread(tmp_path, "0.171.0-fork")
    parent, child = home.files
    lines = Lines(parent.read_bytes())
    call = lines.calls()[0]
    output = lines.output_of(call)
    assert output is not None
    output_line = lines.raw.pop(output)
    lines.renumber()
    parent.write_bytes(lines.data())
    set_cut(child, len(lines.data()), last_ordinal(lines.data()) + 1, renumber_child=False)
    child_lines = lines_of(child)
    child.write_bytes(b"".join(renumber([child_lines[0], output_line, *child_lines[1:]],
                                        last_ordinal(lines.data()) + 1)))
    before = {p: p.read_bytes() for p in home.files}
    code, out, _ = run(capsys, "fix", str(parent))
    assert code == 3 and "not asked about" in out and "duplicate-output" in out
    assert {p: p.read_bytes() for p in home.files} == before


def test_fixing_twice_writes_nothing_and_times_stay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = copy_thread(tmp_path, "0.171.0-fork-of-fork")
    parent, child, grandchild = home.files
    break_before_fork(parent, [child], BREAKERS["orphan-call"])
    for path in home.files:
        os.utime(path, ns=(1_000_000_000 * 10**9, 1_700_000_000 * 10**9))
    assert run(capsys, "fix", str(home.sessions))[0] == 0
    assert all(p.stat().st_mtime_ns == 1_700_000_000 * 10**9 for p in home.files)
    cut_is_consistent(parent, child)
    cut_is_consistent(child, grandchild)
    written = {p: p.read_bytes() for p in home.files}
    assert run(capsys, "fix", str(home.sessions))[0] == 0
    assert {p: p.read_bytes() for p in home.files} == written


def home_of(tmp_path: Path) -> Home:
    return Home(tmp_path / "codex-home")
