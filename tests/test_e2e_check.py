"""`rollout-doctor check` on sessions real Codex wrote and a breaker then damaged in one known way:
it reports exactly that defect, on the right line and call id, and nothing it did not see.

These need no Codex binary; tests/test_e2e_resume.py resumes the same broken sessions after the fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.breakers import BREAKERS
from tests.support.codex_run import real_fixture
from tests.support.e2e import E2E_CASES, E2ECase, doctor

pytest_plugins = ["tests.support.fixtures"]


def diagnostics(report: dict) -> list[tuple[str, int, str | None]]:
    (file,) = report["files"]
    assert file["error"] is None, file["error"]
    return [(d["rule"], d["line"], d["call_id"]) for d in file["diagnostics"]]


@pytest.mark.parametrize("case", E2E_CASES, ids=lambda c: c.id)
def test_check_reports_exactly_the_defect_made(case: E2ECase, tmp_path: Path) -> None:
    fixture = real_fixture(case.scenario)
    broken = BREAKERS[case.breaker](fixture.read_bytes())
    path = tmp_path / fixture.name
    path.write_bytes(broken.data)
    code, report = doctor("check", "--format", "json", "--target", broken.target, str(path))
    assert diagnostics(report) == [(e.rule, e.line, e.call_id) for e in broken.expected]
    assert code == 1


def targets_of(scenario: str) -> list[str]:
    """The wires the cases resume a scenario on."""
    return sorted({"chat" if c.breaker == "chat-adjacency" else "responses" for c in E2E_CASES if c.scenario == scenario})


@pytest.mark.parametrize(
    ("scenario", "target"), [(s, t) for s in sorted({c.scenario for c in E2E_CASES}) for t in targets_of(s)]
)
def test_the_sessions_the_breakers_start_from_are_clean(scenario: str, target: str, tmp_path: Path) -> None:
    """Whatever check reports on a broken copy comes from the breaker, not from the recording."""
    path = tmp_path / real_fixture(scenario).name
    path.write_bytes(real_fixture(scenario).read_bytes())
    code, report = doctor("check", "--format", "json", "--target", target, str(path))
    assert (code, diagnostics(report)) == (0, [])


@pytest.mark.parametrize("case", E2E_CASES, ids=lambda c: c.id)
def test_fix_leaves_nothing_behind(case: E2ECase, tmp_path: Path, doctor_home: Path) -> None:
    fixture = real_fixture(case.scenario)
    broken = BREAKERS[case.breaker](fixture.read_bytes())
    path = tmp_path / fixture.name
    path.write_bytes(broken.data)
    flags = ["--target", broken.target, *(["--unsafe-fixes"] if broken.unsafe else [])]
    code, report = doctor("fix", "--format", "json", *flags, str(path))
    assert code == 0, report
    assert report["files"][0]["fix"]["written"] and report["files"][0]["fix"]["remaining"] == []
    again, second = doctor("fix", "--format", "json", *flags, str(path))
    assert again == 0 and not second["files"][0]["fix"]["written"], "fixing twice is fixing once"
