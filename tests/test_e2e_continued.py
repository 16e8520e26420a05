"""Real Codex releases appending turns to a session that was checked: the report is continued over what
each resume appended, and it is the report a full check makes.

Each release writes a session with a tool call (``codex exec``) against the loopback server; rollout-doctor
checks it, keeping the report and its summary in the cache; then ``codex exec resume`` appends a turn
with calls, and the report is continued over that turn alone (core/report_cache.continued). A turn the
release ended badly (a stream cut after a call, which leaves the call without its output) must go to a
full check, and the guard then reports it.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from rollout_doctor.cli.json_report import report_json
from rollout_doctor.cli.main import main
from rollout_doctor.core import report_cache
from rollout_doctor.core.check import check_file
from rollout_doctor.core.reports import FileReport
from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex import CODEX
from tests.support.cli import isolate
from tests.support.codex_run import CodexHome, session_id_of
from tests.support.loopback import LoopbackServer, interrupted, say
from tests.support.scenarios import NEW, NEWEST, OLD, command_call, is_paginated

OPTIONS = Options(target=None)


def as_json(report: FileReport) -> bytes:
    return orjson.dumps(report_json([report], unsafe=False, fixing=False))


def full(path: Path) -> FileReport:
    os.environ["ROLLOUT_DOCTOR_NO_CACHE"] = "1"
    try:
        return check_file(CODEX, path, OPTIONS)
    finally:
        os.environ["ROLLOUT_DOCTOR_NO_CACHE"] = ""


@pytest.mark.parametrize("release", [OLD, NEW, NEWEST])
def test_turns_a_release_appends_are_judged_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str], release: str) -> None:
    isolate(tmp_path, monkeypatch)
    home = CodexHome.create(tmp_path / "codex")
    with LoopbackServer([[command_call(release, "echo one")], [say("done")]]) as server:
        home.configure(server.base_url, wire="responses", model_catalog=is_paginated(release))
        first = home.exec(release, "run echo one")
        assert first.returncode == 0, first.describe()
        rollout = home.rollout()
        check_file(CODEX, rollout, OPTIONS)  # the report and its summary kept
        for n, script in enumerate(([[command_call(release, "echo two"), command_call(release, "echo three")],
                                     [say("done")]],
                                    [[command_call(release, "echo four")], [say("done")]])):
            server.push(*script)
            again = home.resume(release, session_id_of(rollout), f"turn {n + 2}")
            assert again.returncode == 0, again.describe()
            report = report_cache.continued(CODEX, rollout, OPTIONS)
            assert report is not None, f"turn {n + 2} of {release} was not continued"
            assert not report.diagnostics
            assert as_json(report) == as_json(full(rollout))
        # A turn whose stream was cut after its call. 0.77.0 keeps the call without its output (an orphan);
        # the later releases keep nothing of it (fixtures/real/*-interrupted-stream). Either way the
        # continued report, when there is one, is the full check's, and an orphan is never continued.
        server.push(interrupted(command_call(release, "echo five")))
        home.resume(release, session_id_of(rollout), "turn 4")
        whole = full(rollout)
        report = report_cache.continued(CODEX, rollout, OPTIONS)
        if release == OLD:
            assert [d.rule for d in whole.diagnostics] == ["orphan-call"]
        if whole.diagnostics:
            assert report is None
        else:
            assert report is not None and as_json(report) == as_json(whole)
    # The guard before the next resume, on the cache these checks left: what a full check says.
    monkeypatch.setenv("CODEX_HOME", str(home.codex_home))
    code = main(["guard", session_id_of(rollout)])
    err = capsys.readouterr().err
    assert code == 0, err
    if whole.diagnostics:
        assert "fixed 1 problem(s) (orphan-call); ready to resume" in err
    else:
        assert err.endswith(f"(Codex {release}): ready to resume\n")
