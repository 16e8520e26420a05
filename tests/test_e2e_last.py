"""`fix`, `undo` and `guard` keep a rollout's times, so `codex resume --last` and `guard --last` still
pick the same session after rollout-doctor has written an older one (issue 10), with the real binaries.

For each release and each way Codex finds the newest session (through its state database
`state_5.sqlite`, or, with the database deleted, through the files' modification times; see
docs/codex-facts.md, "How `--last` chooses"), one home holds three sessions Codex recorded in the same
folder, the OLDEST with a tool call whose output line is then removed (`orphan-call`). Before and after
each rollout-doctor command run on that older session, `codex exec resume --last` is asked which
session it opens (the rollout that grows) and `rollout-doctor guard --last` which one it names; both
must name the newest session every time, and the older rollout's st_mtime_ns and st_atime_ns must not
move. The older rollout's access time is set far in the past before each command, so that merely
reading it would move it (relatime), and only putting it back keeps it.

One home per (release, database) is played once for the module: 3 `codex exec` runs to record the
sessions and 5 `codex exec resume --last` runs.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rollout_doctor.cli.main import main as entry_main
from tests.support.breakers import BREAKERS
from tests.support.codex_run import CodexHome, session_id_of
from tests.support.e2e import doctor
from tests.support.loopback import LoopbackServer, say
from tests.support.scenarios import command_call

pytest_plugins = ["tests.support.fixtures"]

codex = pytest.mark.codex

RELEASES = ("0.169.0", "0.171.0")  # the releases with the state database
STATE_DB = "state_5.sqlite"
PAST_ATIME_NS = 1_000_000_000 * 10**9  # 2001: older than any mtime here, so a read would move it (relatime)
SESSION = re.compile(r"session ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


@dataclass(frozen=True)
class Look:
    """Which session each one picks for `--last`, by thread id."""

    codex: str | None
    guard: str | None
    detail: str = ""


@dataclass(frozen=True)
class Step:
    """One rollout-doctor command run on the older session."""

    code: int
    output: Any
    before: tuple[int, int]  # (st_mtime_ns, st_atime_ns) of the older rollout just before the command
    after: tuple[int, int]
    changed: bool  # whether the command changed the older rollout's bytes
    look: Look  # what --last picks afterwards


@dataclass
class Played:
    release: str
    with_db: bool
    older: str
    newest: str
    before: Look
    steps: dict[str, Step] = field(default_factory=dict)
    touched: Look | None = None  # after the older rollout's mtime was made the newest by hand


def times(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_atime_ns


def drop_state_db(home: CodexHome) -> None:
    for path in home.codex_home.glob(f"{STATE_DB}*"):
        path.unlink()


def rollout_doctor(home: CodexHome, *argv: str) -> tuple[int, str]:
    """``rollout-doctor ARGV`` in this process, run as the shell wrapper runs it: in the working folder,
    with the home's CODEX_HOME; returns the exit code and what it printed on stderr."""
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as env, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(err):
        env.setenv("CODEX_HOME", str(home.codex_home))
        env.chdir(home.workdir)
        code = entry_main(list(argv))
    return code, err.getvalue()


def guard_last(home: CodexHome) -> tuple[str | None, str]:
    """The session `rollout-doctor guard --last` names (and guards)."""
    code, said = rollout_doctor(home, "guard", "--last")
    found = SESSION.search(said)
    return (found[1] if found else None), f"guard exit {code}: {said.strip()}"


def codex_last(home: CodexHome, server: LoopbackServer, release: str) -> tuple[str | None, str]:
    """`codex exec resume --last`: the session it opened is the rollout that grew."""
    sizes = {p: p.stat().st_size for p in home.rollouts()}
    server.push([say("resumed")])
    run = home.run(release, "exec", "--skip-git-repo-check", "-s", "danger-full-access", "resume", "--last",
                   "go")
    grown = [p for p in home.rollouts() if p.stat().st_size != sizes.get(p)]
    picked = session_id_of(grown[0]) if run.returncode == 0 and len(grown) == 1 else None
    return picked, f"codex exit {run.returncode}, grown {[p.name for p in grown]}"


def look(home: CodexHome, server: LoopbackServer, release: str, with_db: bool) -> Look:
    if not with_db:
        drop_state_db(home)  # the Codex run before made it again; guard --last only reads it
    guard, guard_said = guard_last(home)
    picked, codex_said = codex_last(home, server, release)
    return Look(picked, guard, f"{codex_said}; {guard_said}")


def record_sessions(home: CodexHome, server: LoopbackServer, release: str) -> list[Path]:
    """Three sessions in the working folder, oldest first; the oldest ran one command."""
    server.push([command_call(release, "echo hi")], [say("done")])
    for prompt in ("run echo hi", "second session", "third session"):
        run = home.exec(release, prompt)
        assert run.returncode == 0, run.describe()
        if prompt != "third session":
            server.push([say("ok")])
    rollouts = sorted(home.rollouts(), key=lambda p: p.stat().st_mtime_ns)
    assert len(rollouts) == 3, rollouts
    return rollouts


def play(release: str, with_db: bool, root: Path) -> Played:
    home = CodexHome.create(root)
    with LoopbackServer() as server:
        home.configure(server.base_url)
        older, _middle, newest = record_sessions(home, server, release)
        mtime = older.stat().st_mtime_ns
        broken = BREAKERS["orphan-call"](older.read_bytes()).data

        def reset() -> None:
            """The older session broken as a crash left it long ago; its atime far in the past."""
            if older.read_bytes() != broken:
                older.write_bytes(broken)
            os.utime(older, ns=(PAST_ATIME_NS, mtime))

        def step(run: Callable[[], tuple[int, Any]]) -> Step:
            os.utime(older, ns=(PAST_ATIME_NS, older.stat().st_mtime_ns))
            before, data = times(older), older.read_bytes()
            os.utime(older, ns=(before[1], before[0]))  # reading it above may have moved the atime
            code, output = run()
            after = times(older)
            return Step(code, output, before, after, older.read_bytes() != data,
                        look(home, server, release, with_db))

        reset()
        if not with_db:
            drop_state_db(home)
        played = Played(release, with_db, session_id_of(older), session_id_of(newest),
                        look(home, server, release, with_db))
        reset()
        played.steps["fix"] = step(lambda: doctor("fix", "--format", "json", "--target", "responses",
                                                  str(older)))
        played.steps["undo"] = step(lambda: doctor("undo", str(older)))
        reset()
        played.steps["guard"] = step(lambda: rollout_doctor(home, "guard", played.older))
        # By hand (cp without -p, a restore from a backup, touch): the older rollout now has the newest mtime.
        os.utime(older, ns=(PAST_ATIME_NS, newest.stat().st_mtime_ns + 60 * 10**9))
        played.touched = look(home, server, release, with_db)
    return played


CASES = [(release, with_db) for release in RELEASES for with_db in (True, False)]


def case_id(case: tuple[str, bool]) -> str:
    return f"{case[0]}-{'with' if case[1] else 'without'}-state-db"


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[tuple[str, bool]], Played]]:
    """Each (release, database) home played once for the whole module."""
    cache: dict[tuple[str, bool], Played] = {}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path_factory.mktemp("rollout-doctor")))

        def get(case: tuple[str, bool]) -> Played:
            if case not in cache:
                cache[case] = play(*case, tmp_path_factory.mktemp("codex"))
            return cache[case]

        yield get


def same_newest(p: Played, seen: Look) -> None:
    assert seen.codex == p.newest, f"codex opened {seen.codex}, not the newest {p.newest}: {seen.detail}"
    assert seen.guard == p.newest, f"guard named {seen.guard}, not the newest {p.newest}: {seen.detail}"


@codex
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_before_anything_both_pick_the_newest(case: tuple[str, bool], played: Callable[..., Played]) -> None:
    p = played(case)
    same_newest(p, p.before)


@codex
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_fix_of_an_older_session_keeps_its_times_and_the_pick(
    case: tuple[str, bool], played: Callable[..., Played]
) -> None:
    s = played(case).steps["fix"]
    assert s.code == 0 and s.output["files"][0]["fix"]["written"], s.output
    assert s.changed
    assert s.after == s.before, "st_mtime_ns and st_atime_ns of the fixed rollout"
    same_newest(played(case), s.look)


@codex
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_undo_keeps_the_times_and_the_pick(case: tuple[str, bool], played: Callable[..., Played]) -> None:
    s = played(case).steps["undo"]
    assert s.code == 0 and s.changed, s.output
    assert s.after == s.before, "st_mtime_ns and st_atime_ns of the restored rollout"
    same_newest(played(case), s.look)


@codex
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_guard_of_an_older_session_keeps_its_times_and_the_pick(
    case: tuple[str, bool], played: Callable[..., Played]
) -> None:
    p = played(case)
    s = p.steps["guard"]
    assert s.code == 0 and "fixed 1 problem(s) (orphan-call)" in s.output and s.changed, s.output
    assert s.after == s.before, "st_mtime_ns and st_atime_ns of the guarded rollout"
    same_newest(p, s.look)


@codex
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_guard_last_follows_what_codex_orders_by_when_the_mtime_says_otherwise(
    case: tuple[str, bool], played: Callable[..., Played]
) -> None:
    """An older rollout given the newest mtime by hand: with the state database Codex keeps its own
    order (updated_at_ms) and opens the newest session; without it, the mtime rules. guard --last
    agrees both ways."""
    p = played(case)
    assert p.touched is not None
    expected = p.newest if p.with_db else p.older
    assert (p.touched.codex, p.touched.guard) == (expected, expected), p.touched.detail
