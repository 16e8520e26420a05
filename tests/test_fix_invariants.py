"""The fix loop's invariants: a rule marked INVARIANT (reasoning-order) must never report more after a
pass than before it, whichever rule's fix made the new problem. The duplicate-call-id case
``repeat-after-reasoning`` shows the fix avoiding it (it renames instead of removing the repeat); here the
avoidance is switched off, and the loop must refuse to write rather than strand the reasoning."""

from __future__ import annotations

from pathlib import Path

import pytest

from rollout_doctor.formats.codex import check_file, fix_file
from rollout_doctor.formats.codex.rules import REGISTRY, duplicate_call_id
from tests.support.case_files import load_all
from tests.support.case_run import options_of
from tests.support.rollouts import rollout_name

CASE = next(c for c in load_all([r.name for r in REGISTRY.rules])
            if c.rule == "duplicate-call-id" and c.name == "repeat-after-reasoning")


@pytest.fixture
def rollout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    path = tmp_path / rollout_name(CASE, "envelope")
    path.write_bytes(CASE.input("envelope"))
    return path


def test_the_reasoning_invariant_holds_with_the_fix_as_written(rollout: Path) -> None:
    result = fix_file(rollout, options_of(CASE))
    assert result.written
    assert [d.rule for d in check_file(rollout, options_of(CASE)).diagnostics] == []


def test_a_fix_that_would_strand_reasoning_is_refused_and_nothing_is_written(
        rollout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = rollout.read_bytes()
    monkeypatch.setattr(duplicate_call_id, "strands_reasoning", lambda history, removed: False)
    result = fix_file(rollout, options_of(CASE))
    assert not result.written
    assert "reasoning-order" in (result.error or ""), result.error
    assert rollout.read_bytes() == before


def test_moving_a_user_message_keeps_reasoning_with_its_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """interleaved-message moves a user message out from between two parallel calls' reasoning and their
    outputs: the reasoning of the second call still stands before it afterwards."""
    from tests.support.case_files import case_of

    case = case_of("interleaved-message", {"name": "n", "items": [
        "context", {"user": "go"}, "reasoning", {"call": "call_A"}, "reasoning", {"call": "call_B"},
        {"user": "hurry"}, {"out": "call_A"}, {"out": "call_B"}, {"assistant": "done"}]})
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    path = tmp_path / rollout_name(case, "paginated")
    path.write_bytes(case.input("paginated"))
    assert [d.rule for d in check_file(path, options_of(case)).diagnostics] == ["interleaved-message"]
    assert fix_file(path, options_of(case)).written
    assert check_file(path, options_of(case)).diagnostics == []
