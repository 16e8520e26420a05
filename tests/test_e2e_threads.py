"""A session is a thread: forks and revert branches, against the real 0.169.0 and 0.171.0.

A fork (`codex exec fork`) is a new rollout whose session_meta.history_base points into its parent by
byte offset and ordinal; 0.171.0 writes such a file for every `thread/revert` too. Each scenario breaks
the parent the way an interrupted session is broken (a lost output, a duplicated output, a message
typed while a call waited), then forks it with the real binary, so the defect lies in the history the
child inherits. Then, as a user would: `check CHILD` names the defect and the parent line it lives in;
a plain `fix` of the sessions folder rewrites parent and child in one transaction (the child's
history_base follows the record it pointed at, its ordinals continue from the cut); `undo` brings both
back byte for byte; fixed again, both resume with exit 0, no request refused, the broker contract kept
in what Codex sends and nothing complained of (RUST_LOG=warn).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rollout_doctor.formats.codex.home import parse_name
from tests.support.breakers import BREAKERS, Broken
from tests.support.codex_run import CodexHome, CodexRun, read_jsonl
from tests.support.e2e import complaints, doctor, ordinals
from tests.support.judge import broker_contract_violations
from tests.support.loopback import LoopbackServer, Recorded, function_call, say

pytest_plugins = ["tests.support.fixtures"]

codex = pytest.mark.codex
RELEASES = ("0.169.0", "0.171.0")
BREAKS = ("orphan-call", "duplicate-output", "interleaved-message")


def thread_id(path: Path) -> str:
    return read_jsonl(path)[0]["payload"]["id"]


def exec_args(*args: str) -> list[str]:
    return ["exec", "--skip-git-repo-check", "-s", "danger-full-access", *args]


@dataclass
class Resumed:
    run: CodexRun
    requests: list[Recorded]


def resume(home: CodexHome, server: LoopbackServer, release: str, session: str, prompt: str) -> Resumed:
    server.push([say(f"answer to {prompt}")])
    seen = len(server.model_requests)
    run = home.resume(release, session, prompt)
    return Resumed(run, server.model_requests[seen:])


def two_turns(home: CodexHome, server: LoopbackServer, release: str) -> Path:
    """A real session: a turn with a tool call (Codex runs `echo A`), then a second turn."""
    server.push([function_call("exec_command", {"cmd": "echo A"})], [say("did A")])
    assert home.exec(release, "first prompt").returncode == 0
    parent = home.rollout()
    server.push([say("second")])
    assert home.resume(release, thread_id(parent), "second prompt").returncode == 0
    return parent


@dataclass
class Forked:
    release: str
    home: CodexHome
    server: LoopbackServer
    parent: Path
    child: Path
    broken: Broken
    child_before: Resumed  # the child resumed once before any fix
    check: dict[str, Any]  # `check CHILD --format json`
    before_fix: dict[Path, bytes]
    fix: dict[str, Any]
    fixed: dict[Path, bytes]
    undo: tuple[int, str]
    after_undo: dict[Path, bytes]
    parent_after: Resumed
    child_after: Resumed


def snapshot(*paths: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in paths}


def broken_parent(root: Path, server: LoopbackServer, release: str, breaker: str) -> tuple[CodexHome, Path, Broken]:
    """A real two-turn session broken one way, installed in a fresh home (Codex has not projected it:
    a file that changed under its projection makes 0.171.0 refuse to fork it, "durable rollout shrank")."""
    recording = CodexHome.create(root / "recording")
    recording.configure(server.base_url)
    recorded = two_turns(recording, server, release)
    broken = BREAKERS[breaker](recorded.read_bytes())
    home = CodexHome.create(root / "user", rust_log="warn")
    home.configure(server.base_url)
    return home, home.install_rollout_bytes(recorded.name, broken.data), broken


def play_fork(root: Path, release: str, breaker: str) -> Forked:
    with LoopbackServer() as server:
        home, parent, broken = broken_parent(root, server, release, breaker)
        fork = home.run(release, *exec_args("fork", thread_id(parent)))
        assert fork.returncode == 0, fork.describe()
        (child,) = [p for p in home.rollouts() if p != parent]
        child_before = resume(home, server, release, thread_id(child), "child first try")
        _code, check = doctor("check", "--format", "json", str(child))
        before_fix = snapshot(parent, child)
        code, fix = doctor("fix", "--format", "json", str(home.sessions))
        assert code == 0, fix
        fixed = snapshot(parent, child)
        undo = doctor("undo", str(parent))
        after_undo = snapshot(parent, child)
        assert doctor("fix", str(home.sessions))[0] == 0
        assert snapshot(parent, child) == fixed, "fixing again after the undo gives the same bytes"
        parent_after = resume(home, server, release, thread_id(parent), "parent after the fix")
        child_after = resume(home, server, release, thread_id(child), "child after the fix")
    return Forked(release, home, server, parent, child, broken, child_before, check, before_fix, fix, fixed, undo,
                  after_undo, parent_after, child_after)


@pytest.fixture(scope="module")
def forked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, str], Forked]]:
    cache: dict[tuple[str, str], Forked] = {}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path_factory.mktemp("rollout-doctor")))

        def get(release: str, breaker: str) -> Forked:
            if (release, breaker) not in cache:
                cache[release, breaker] = play_fork(tmp_path_factory.mktemp("codex"), release, breaker)
            return cache[release, breaker]

        yield get


CASES = [pytest.param(r, b, id=f"{b}@{r}") for r in RELEASES for b in BREAKS]


def contract(resumed: Resumed) -> list[str]:
    return [v for request in resumed.requests for v in broker_contract_violations(request.input)]


@codex
@pytest.mark.parametrize(("release", "breaker"), CASES)
def test_the_child_inherits_the_defect_before_the_fix(release: str, breaker: str,
                                                      forked: Callable[[str, str], Forked]) -> None:
    """What the user sees before rollout-doctor: Codex sends the parent's broken prefix for the child."""
    f = forked(release, breaker)
    run = f.child_before
    if breaker == "duplicate-output":
        assert run.run.returncode == 1 and any(r.refusal for r in run.requests), run.run.describe()
    elif breaker == "orphan-call":
        sent = run.requests[0].input
        assert any(i.get("output") == "aborted" for i in sent), "Codex patches the lost output in memory"
    else:
        assert contract(run), "the history Codex sends for the child breaks the broker contract"


@codex
@pytest.mark.parametrize(("release", "breaker"), CASES)
def test_check_child_names_the_inherited_defect_and_where_it_lives(release: str, breaker: str,
                                                                   forked: Callable[[str, str], Forked]) -> None:
    f = forked(release, breaker)
    [report] = f.check["files"]
    expected = f.broken.expected[0]
    found = [d for d in report["diagnostics"] if d["rule"] == expected.rule]
    assert found, report
    assert found[0]["inherited_from"] == str(f.parent)
    assert found[0]["line"] == expected.line, "the parent's line, numbered in the parent's file"
    assert report["thread"]["lineage"][0]["path"] == str(f.parent)
    assert report["thread"]["id"] == thread_id(f.child)


@codex
@pytest.mark.parametrize(("release", "breaker"), CASES)
def test_fix_rewrites_parent_and_child_in_one_transaction(release: str, breaker: str,
                                                          forked: Callable[[str, str], Forked]) -> None:
    f = forked(release, breaker)
    files = {Path(r["path"]): r["fix"] for r in f.fix["files"]}
    assert files[f.parent]["written"], f.fix
    assert f.fix["summary"]["remaining"] == 0
    # A fix that inserts or removes a line before the cut moves the child's cut: the child is rewritten in
    # the same transaction. One that only moves lines within the inherited part (a message put after the
    # output it interrupted) moves no byte offset or ordinal of the cut, and the child stays as it was.
    moves_the_cut = breaker != "interleaved-message"
    assert files[f.child]["written"] == moves_the_cut, f.fix
    if moves_the_cut:
        assert files[f.parent]["backup"] == files[f.child]["backup"], "one transaction, one backup folder"
    else:
        assert f.fixed[f.child] == f.before_fix[f.child]
    meta = read_jsonl(f.child)[0]
    base = meta["payload"]["history_base"]
    parent_bytes = f.fixed[f.parent]
    assert base["end_byte_offset"] == len(f.fixed[f.parent][: base["end_byte_offset"]])
    assert parent_bytes[base["end_byte_offset"] - 1 : base["end_byte_offset"]] == b"\n", "the cut is at a line end"
    prefix_ordinals = [o for o in ordinals_of(parent_bytes[: base["end_byte_offset"]]) if o is not None]
    assert base["end_ordinal_exclusive"] == prefix_ordinals[-1] + 1
    assert meta["ordinal"] == base["end_ordinal_exclusive"], "the child's numbering continues from its cut"
    assert meta["payload"].get("forked_from_ordinal_exclusive") == base["end_ordinal_exclusive"]
    child_ordinals = ordinals(f.child)
    assert child_ordinals == list(range(child_ordinals[0], child_ordinals[0] + len(child_ordinals)))


def ordinals_of(data: bytes) -> list[int | None]:
    out = []
    for raw in data.splitlines():
        try:
            out.append(json.loads(raw).get("ordinal"))
        except ValueError:
            out.append(None)
    return out


@codex
@pytest.mark.parametrize(("release", "breaker"), CASES)
def test_undo_brings_every_file_of_the_transaction_back(release: str, breaker: str,
                                                        forked: Callable[[str, str], Forked]) -> None:
    f = forked(release, breaker)
    code, text = f.undo
    assert code == 0, text
    assert f.after_undo == f.before_fix, "parent and child back byte for byte"
    assert f"restored {f.parent}" in text
    if f.fixed[f.child] != f.before_fix[f.child]:
        assert f"restored {f.child}" in text, "undo of the parent restores the whole transaction"


@codex
@pytest.mark.parametrize(("release", "breaker"), CASES)
def test_parent_and_child_resume_after_the_fix(release: str, breaker: str,
                                               forked: Callable[[str, str], Forked]) -> None:
    f = forked(release, breaker)
    for resumed in (f.parent_after, f.child_after):
        assert resumed.run.returncode == 0, resumed.run.describe()
        assert not any(r.refusal for r in resumed.requests)
        assert contract(resumed) == []
        assert complaints(resumed.run) == [], resumed.run.describe()
    sent = [i for i in f.child_after.requests[0].input if i.get("type") == "message" and i.get("role") == "user"]
    texts = " ".join(c.get("text", "") for m in sent for c in m.get("content", []))
    assert "first prompt" in texts and "second prompt" in texts, "the child is still sent its parent's history"


# --- a revert branch (0.171.0's thread/revert, driven through its app-server) -------------------------


@dataclass
class Reverted:
    home: CodexHome
    original: Path
    branch: Path
    broken: Broken
    check: dict[str, Any]
    before_fix: dict[Path, bytes]
    fix: dict[str, Any]
    undo: tuple[int, str]
    after_undo: dict[Path, bytes]
    resumed: Resumed


def turn_ids(path: Path) -> list[str]:
    return [line["payload"]["turn_id"] for line in read_jsonl(path)
            if line.get("type") == "event_msg" and line["payload"].get("type") == "task_started"]


@pytest.fixture(scope="module")
def reverted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reverted]:
    from tests.support.appserver import AppServer

    release = "0.171.0"
    with pytest.MonkeyPatch.context() as env, LoopbackServer() as server:
        env.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path_factory.mktemp("rollout-doctor")))
        home, original, broken = broken_parent(tmp_path_factory.mktemp("codex"), server, release, "orphan-call")
        thread = thread_id(original)
        with AppServer(home, release) as app:
            app.request("thread/resume", {"threadId": thread, "excludeTurns": True})
            app.request("thread/revert", {"threadId": thread, "beforeTurnId": turn_ids(original)[1]})
        (branch,) = [p for p in home.rollouts() if p != original]
        _code, check = doctor("check", "--format", "json", str(branch))
        before_fix = snapshot(original, branch)
        code, fix = doctor("fix", "--format", "json", str(home.sessions))
        assert code == 0, fix
        undo = doctor("undo", str(branch))
        after_undo = snapshot(original, branch)
        assert doctor("fix", str(home.sessions))[0] == 0
        resumed = resume(home, server, release, thread, "after the revert and the fix")
        yield Reverted(home, original, branch, broken, check, before_fix, fix, undo, after_undo, resumed)


@codex
def test_a_revert_branch_is_named_after_its_thread_and_continues_the_original(reverted: Reverted) -> None:
    branch, original = parse_name(reverted.branch), parse_name(reverted.original)
    assert branch is not None and original is not None
    assert branch.thread_id == original.thread_id and branch.rollout_id != original.rollout_id
    meta = read_jsonl(reverted.branch)[0]["payload"]
    assert meta["id"] == thread_id(reverted.original) and meta["history_base"]["thread_id"] == meta["id"]


@codex
def test_check_of_a_revert_branch_names_the_defect_in_the_original(reverted: Reverted) -> None:
    [report] = reverted.check["files"]
    [found] = [d for d in report["diagnostics"] if d["rule"] == "orphan-call"]
    assert found["inherited_from"] == str(reverted.original)
    assert found["line"] == reverted.broken.expected[0].line
    assert report["thread"]["rollout_id"] != report["thread"]["id"], "the branch's own rollout id, from its name"


@codex
def test_fix_rewrites_the_original_and_the_branch_and_undo_restores_both(reverted: Reverted) -> None:
    files = {Path(r["path"]): r["fix"] for r in reverted.fix["files"]}
    assert files[reverted.original]["written"] and files[reverted.branch]["written"], reverted.fix
    history = files[reverted.branch]["codex_history"]
    assert history is not None, "the app-server projected the branch when it wrote it"
    # Codex files a branch's projection rows under the uuid after "_" in its name, not its session_meta id.
    name = parse_name(reverted.branch)
    assert name is not None and history["thread_id"] == name.rollout_id and history["rows_deleted"] > 0
    code, text = reverted.undo
    assert code == 0, text
    assert reverted.after_undo == reverted.before_fix


@codex
def test_the_thread_resumes_from_its_branch_after_the_fix(reverted: Reverted) -> None:
    resumed = reverted.resumed
    assert resumed.run.returncode == 0, resumed.run.describe()
    assert not any(r.refusal for r in resumed.requests) and contract(resumed) == []
    assert complaints(resumed.run) == [], resumed.run.describe()
    texts = json.dumps(resumed.requests[0].input)
    assert "first prompt" in texts and "second prompt" not in texts, "the reverted turn stays out of the history"
    assert "after the revert and the fix" in reverted.branch.read_text(), "Codex resumed the branch"


# --- a child whose history_base an earlier repair broke ------------------------------------------------


DAMAGES = {
    # A repair of the parent alone that shortened it before the cut (rollout-doctor 0.1, and others):
    "parent-shortened": "cutoff byte offset is past the source rollout",
    # A repair of the child that renumbered it from 0 (rollout-doctor 0.1).
    "child-renumbered-from-0": "skipping duplicate or regressed rollout ordinal",
}


@dataclass
class Damaged:
    before: Resumed
    fix: tuple[int, str]
    after: Resumed


def damage(parent: Path, child: Path, how: str) -> None:
    from tests.support.threads import lines_of, renumber

    if how == "parent-shortened":
        parent.write_bytes(b"".join(lines_of(parent)[:-1]))
    else:
        child.write_bytes(b"".join(renumber(lines_of(child), 0)))


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, str], Damaged]]:
    cache: dict[tuple[str, str], Damaged] = {}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path_factory.mktemp("rollout-doctor")))

        def get(release: str, how: str) -> Damaged:
            if (release, how) not in cache:
                root = tmp_path_factory.mktemp("codex")
                with LoopbackServer() as server:
                    recording = CodexHome.create(root / "recording")
                    recording.configure(server.base_url)
                    recorded = two_turns(recording, server, release)
                    home = CodexHome.create(root / "user", rust_log="warn")
                    home.configure(server.base_url)
                    parent = home.install_rollout_bytes(recorded.name, recorded.read_bytes())
                    assert home.run(release, *exec_args("fork", thread_id(parent))).returncode == 0
                    (child,) = [p for p in home.rollouts() if p != parent]
                    damage(parent, child, how)
                    before = resume(home, server, release, thread_id(child), "before the fix")
                    # The refused resume appended nothing; a resume that went through appended a turn
                    # numbered after the damaged ordinals, which the fix renumbers with the rest.
                    fix = doctor("fix", "--unsafe-fixes", str(child))
                    after = resume(home, server, release, thread_id(child), "after the fix")
                cache[release, how] = Damaged(before, fix, after)
            return cache[release, how]

        yield get


@codex
@pytest.mark.parametrize("how", list(DAMAGES))
@pytest.mark.parametrize("release", RELEASES)
def test_a_broken_history_base_is_found_and_mended(release: str, how: str,
                                                   damaged: Callable[[str, str], Damaged]) -> None:
    d = damaged(release, how)
    said = d.before.run.stderr + d.before.run.stdout
    assert DAMAGES[how] in said, d.before.run.describe()
    code, text = d.fix
    assert code == 0, text
    assert "fixed" in text and "0 problem(s) remain" in text, text
    assert d.after.run.returncode == 0, d.after.run.describe()
    assert not any(r.refusal for r in d.after.requests) and complaints(d.after.run) == [], d.after.run.describe()
    texts = json.dumps(d.after.requests[0].input)
    assert "first prompt" in texts, "the child is sent its parent's history again"


# --- a transaction killed half-way, completed by the next run, resumed by the real client ---------------


KILL_AT = """
import os, signal, sys
from rollout_doctor.store import files
from rollout_doctor.cli.app import main
seen = []
def hook(name):
    seen.append(name)
    if name == "swapped":  # the parent replaced, its fork not yet: the thread is inconsistent on disk
        os.kill(os.getpid(), signal.SIGKILL)
files.STAGE_HOOK = hook
sys.exit(main(sys.argv[1:]))
"""


@codex
@pytest.mark.parametrize("release", RELEASES)
def test_a_fix_killed_between_parent_and_fork_is_completed_and_both_resume(
        release: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import subprocess
    import sys

    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "rollout-doctor"))
    with LoopbackServer() as server:
        home, parent, _broken = broken_parent(tmp_path, server, release, "orphan-call")
        assert home.run(release, *exec_args("fork", thread_id(parent))).returncode == 0
        (child,) = [p for p in home.rollouts() if p != parent]
        before = snapshot(parent, child)
        killed = subprocess.run([sys.executable, "-c", KILL_AT, "fix", str(home.sessions)], capture_output=True,
                                text=True, timeout=120, check=False, env={**os.environ})
        assert killed.returncode == -9
        assert parent.read_bytes() != before[parent] and child.read_bytes() == before[child], "half-written"
        code, text = doctor("fix", str(home.sessions))  # completes the transaction, then finds nothing to do
        assert code == 0 and "interrupted run's transaction" in text and "committed" in text, text
        for session in (parent, child):
            resumed = resume(home, server, release, thread_id(session), "after the interrupted fix")
            assert resumed.run.returncode == 0, resumed.run.describe()
            assert not any(r.refusal for r in resumed.requests) and contract(resumed) == []
            assert complaints(resumed.run) == [], resumed.run.describe()
