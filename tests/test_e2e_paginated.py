"""Paginated rollouts (Codex 0.169.0 and 0.171.0) and Codex's SQLite thread history: the experiment behind
rollout_doctor/formats/codex/projection.py, kept as tests so that it can be rerun against the real binary.

The setting is the usual one: the user resumed the broken session before reaching for the doctor, so
`thread_history_1.sqlite` already holds Codex's projection of the file (rows keyed by ordinal and byte
offset, and a cursor). Then a fix inserts a line (orphan-call), moves one (misplaced-output) or renumbers
(ordinal-order, #41566's duplicate), and the session is resumed again with RUST_LOG=warn.

What 0.169.0 did:
* renumber + reset the thread's projection (what `fix` does): no warning, the resumed turn is projected,
  ordinals strictly increase, every projected row points at the line it came from;
* renumber only: the resumed turn is projected, but Codex warns ("skipping malformed rollout line during
  projection", "skipping missing rollout ordinal range during projection") and the rows projected before
  keep stale byte offsets; a move that changes no line's length and no event line happens to go unnoticed;
* neither (the inserted line repeats its call's ordinal): ordinals no longer strictly increase and Codex
  warns ("skipping duplicate or regressed rollout ordinal").
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rollout_doctor.formats.codex.format import CodexFormat
from rollout_doctor.formats.codex.projection import forget_projection
from tests.support.breakers import BREAKERS, Lines
from tests.support.codex_run import CodexHome, CodexRun, real_fixture, session_id_of
from tests.support.e2e import (
    complaints,
    doctor,
    history_items,
    line_at_offsets,
    ordinals,
    projection_cursor,
    projection_rows,
    user_texts,
)
from tests.support.loopback import LoopbackServer, say
from tests.support.scenarios import PAGINATED

pytest_plugins = ["tests.support.fixtures"]

codex = pytest.mark.codex

# The three ways a fix changes a paginated file: insert a line, move one, renumber from a duplicate; each
# on the session as every paginated release recorded it, resumed by that release.
EDITS = {
    "insert": ("orphan-call", "responses-single-call"),
    "move": ("misplaced-output", "responses-single-call"),
    "renumber": ("ordinal-order", "responses-resumed"),
    "untouched": (None, "responses-resumed"),
}


def on_each_release(*edits: str) -> list:
    """`resumed_once` parameters: each edit with each paginated release (0.169.0, 0.171.0)."""
    return [pytest.param((edit, release), id=f"{edit}@{release}") for edit in edits for release in PAGINATED]


@dataclass
class Resumable:
    """A broken paginated session that was resumed once, so Codex's thread history for it exists."""

    release: str
    home: CodexHome
    server: LoopbackServer
    rollout: Path
    session: str
    call_id: str | None

    def resume(self, prompt: str) -> CodexRun:
        self.server.push([say(f"answer to {prompt}")])
        return self.home.resume(self.release, self.session, prompt)


@pytest.fixture
def resumed_once(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Resumable]:
    edit, release = request.param
    breaker, scenario = EDITS[edit]
    fixture = real_fixture(f"{release}-{scenario}")
    data, call_id = fixture.read_bytes(), None
    if breaker is not None:
        broken = BREAKERS[breaker](data)
        data, call_id = broken.data, broken.notes.get("call_id")
    home = CodexHome.create(tmp_path / "codex", rust_log="warn")
    with LoopbackServer() as server:
        home.configure(server.base_url)
        rollout = home.install_rollout_bytes(fixture.name, data)
        state = Resumable(release, home, server, rollout, session_id_of(fixture), call_id)
        first = state.resume("first try")
        assert projection_cursor(home, state.session) is not None, first.describe()
        yield state


def projected_where_it_says(state: Resumable) -> list[str]:
    """Rows of Codex's projection that no longer point at their line: each turn's start offset must be the
    start of a line holding the turn's ordinal, and each item's ordinal a line that names the item."""
    lines = line_at_offsets(state.rollout)
    by_ordinal = {line.get("ordinal"): line for line in lines.values()}
    wrong = []
    db = sqlite3.connect(state.home.codex_home / "thread_history_1.sqlite")
    try:
        turns = db.execute("SELECT turn_id, rollout_ordinal, rollout_byte_offset FROM thread_turns WHERE thread_id = ?",
                           (state.session,)).fetchall()
    finally:
        db.close()
    for turn_id, ordinal, offset in turns:
        if offset is not None and (lines.get(offset) or {}).get("ordinal") != ordinal:
            wrong.append(f"turn {turn_id}: no line with ordinal {ordinal} at byte {offset}")
    for ordinal, kind, item in history_items(state.home, state.session):
        if str(item.get("id")) not in json.dumps(by_ordinal.get(ordinal)):
            wrong.append(f"{kind} {item.get('id')}: not on the line with ordinal {ordinal}")
    return wrong


def fix(rollout: Path) -> dict:
    code, report = doctor("fix", "--format", "json", str(rollout))
    assert code == 0, report
    return report["files"][0]["fix"]


@codex
@pytest.mark.parametrize("resumed_once", on_each_release("insert", "move", "renumber"), indirect=True)
def test_fix_resets_codex_history_and_codex_rebuilds_it_cleanly(resumed_once: Resumable, doctor_home: Path) -> None:
    state = resumed_once
    before = projection_rows(state.home, state.session)
    done = fix(state.rollout)
    history = done["codex_history"]
    assert history["rows_deleted"] == sum(len(rows) for rows in before.values()) > 0
    assert history["database"] == str(state.home.codex_home / "thread_history_1.sqlite")
    assert Path(history["backup"]).parent == Path(done["backup"]), "the database backup sits with the rollout's"
    saved = sqlite3.connect(history["backup"])
    try:
        kept = {t: sorted(saved.execute(f"SELECT * FROM {t} WHERE thread_id = ?", (state.session,)).fetchall())
                for t in before}
    finally:
        saved.close()
    assert kept == before, "the backup holds the projection as Codex left it"
    assert projection_cursor(state.home, state.session) is None

    run = state.resume("second try")
    assert run.returncode == 0, run.describe()
    assert complaints(run) == [], run.describe()
    found = ordinals(state.rollout)
    assert found == list(range(len(found)))
    assert projection_cursor(state.home, state.session) == (state.rollout.stat().st_size, len(found))
    said = [user_texts(item) for _, kind, item in history_items(state.home, state.session) if kind == "userMessage"]
    assert said[-2:] == ["first try", "second try"]
    assert projected_where_it_says(state) == []


@codex
@pytest.mark.parametrize("resumed_once", on_each_release("insert", "renumber"), indirect=True)
def test_renumbering_without_the_reset_makes_codex_warn_and_leaves_stale_rows(
    resumed_once: Resumable, doctor_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = resumed_once
    monkeypatch.setattr(CodexFormat, "after_write", lambda self, *args: None)
    assert fix(state.rollout)["codex_history"] is None
    run = state.resume("second try")
    assert run.returncode == 0, run.describe()
    warned = " ".join(complaints(run))
    assert "during projection" in warned, run.describe()
    found = ordinals(state.rollout)
    assert found == list(range(len(found))), "the file itself is fine"
    if state.call_id is not None:  # an inserted line shifts every later byte offset Codex stored
        assert projected_where_it_says(state) != []


@codex
@pytest.mark.parametrize("resumed_once", on_each_release("move"), indirect=True)
def test_a_move_that_keeps_line_lengths_goes_unnoticed_even_without_the_reset(
    resumed_once: Resumable, doctor_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the reset is not strictly needed for every fix, and is done anyway: here the moved lines are
    response items (not projected), their ordinals keep their digit count, so no stored offset moves."""
    state = resumed_once
    monkeypatch.setattr(CodexFormat, "after_write", lambda self, *args: None)
    fix(state.rollout)
    run = state.resume("second try")
    assert run.returncode == 0 and complaints(run) == [], run.describe()
    assert projected_where_it_says(state) == []


@codex
@pytest.mark.parametrize("resumed_once", on_each_release("insert"), indirect=True)
def test_neither_renumbering_nor_reset_repeats_an_ordinal_and_codex_warns(
    resumed_once: Resumable, doctor_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = resumed_once
    monkeypatch.setattr(CodexFormat, "after_write", lambda self, *args: None)
    fix(state.rollout)
    # Undo the renumbering: the inserted output repeats its call's ordinal, later lines keep theirs.
    lines = Lines(state.rollout.read_bytes())
    inserted = next(i for i in lines.items() if lines.payload(i).get("output") == "aborted")
    for i in range(inserted, len(lines)):
        ordinal = lines.ordinal(i)
        assert ordinal is not None
        lines.set_ordinal(i, ordinal - 1)
    state.rollout.write_bytes(lines.data())
    run = state.resume("second try")
    assert run.returncode == 0, run.describe()
    found = [o for o in ordinals(state.rollout) if o is not None]
    assert any(b <= a for a, b in itertools.pairwise(found)), "ordinals no longer strictly increase"
    assert "during projection" in " ".join(complaints(run)), run.describe()


@codex
@pytest.mark.parametrize("resumed_once", on_each_release("untouched"), indirect=True)
def test_forgetting_the_projection_loses_nothing_codex_cannot_rebuild(resumed_once: Resumable) -> None:
    """Reset with no change to the file: Codex rebuilds rows identical to the ones it had."""
    state = resumed_once
    before = projection_rows(state.home, state.session)
    reset = forget_projection(state.rollout, state.session, state.home.root)
    assert reset is not None and reset.error is None and reset.rows == sum(len(r) for r in before.values())
    run = state.resume("second try")
    assert run.returncode == 0, run.describe()
    after = projection_rows(state.home, state.session)
    for table, rows in before.items():
        if table == "thread_history_projection_state":
            continue
        assert set(rows) <= set(after[table]), f"{table}: rebuilt rows differ from those Codex had"
