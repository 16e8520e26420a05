"""`fix`, `undo` and `guard` keep the rollout's modification and access times (issue 10).

`codex resume --last` without Codex's state database, and `guard --last`, pick the session whose
rollout has the newest mtime: a rewrite that gave an old session a new mtime would make Codex open it
instead of the one the user last worked in. Each test sets the access time far in the past first:
under relatime an ordinary read of the file would then move it, so a command passes only if its reads
leave the access time alone (O_NOATIME) or it takes both times before its first read and puts them back
after the replace. (tests/test_e2e_last.py checks the same with the real Codex binaries.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rollout_doctor.cli.main import main
from tests.support.breakers import BREAKERS
from tests.support.codex_run import real_fixture, session_id_of
from tests.support.e2e import doctor

FIXTURE = real_fixture("0.169.0-responses-single-call")
PAST_ATIME_NS = 1_000_000_000 * 10**9  # 2001
MTIME_NS = 1_700_000_000_123_456_789  # 2023, with nanoseconds: they must survive too


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The recorded session with one tool output removed, in a CODEX_HOME; atime in 2001, mtime in 2023."""
    home = tmp_path / "codex-home"
    monkeypatch.setenv("CODEX_HOME", str(home))
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    path = home / "sessions" / "2026" / "11" / "21" / FIXTURE.name
    path.parent.mkdir(parents=True)
    path.write_bytes(BREAKERS["orphan-call"](FIXTURE.read_bytes()).data)
    os.utime(path, ns=(PAST_ATIME_NS, MTIME_NS))
    return path


def times(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_atime_ns


def contents(path: Path) -> bytes:
    """The file's bytes, read without leaving a trace: its times are put back after the read."""
    st = os.stat(path)
    data = path.read_bytes()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    return data


def test_reading_the_file_would_move_its_atime(broken: Path) -> None:
    """What makes the other tests meaningful here: a read moves an atime older than the mtime."""
    broken.read_bytes()
    if os.stat(broken).st_atime_ns == PAST_ATIME_NS:
        pytest.skip("this file system does not update access times on read (noatime)")


def test_fix_keeps_both_times(broken: Path) -> None:
    data = contents(broken)
    code, report = doctor("fix", "--format", "json", "--target", "responses", str(broken))
    after = times(broken)  # before reading the file here, which would move its atime
    assert code == 0 and report["files"][0]["fix"]["written"], report
    assert broken.read_bytes() != data
    assert after == (MTIME_NS, PAST_ATIME_NS)


def test_undo_keeps_both_times(broken: Path) -> None:
    data = contents(broken)
    code, report = doctor("fix", "--format", "json", "--target", "responses", str(broken))
    assert code == 0 and report["files"][0]["fix"]["written"], report
    later_mtime = MTIME_NS + 3_600 * 10**9
    os.utime(broken, ns=(PAST_ATIME_NS, later_mtime))  # the fixed file's times, whatever they are
    code, said = doctor("undo", str(broken))
    after = times(broken)
    assert code == 0, said
    assert broken.read_bytes() == data
    assert after == (later_mtime, PAST_ATIME_NS)


def test_guard_keeps_both_times(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = contents(broken)
    code = main(["guard", session_id_of(FIXTURE)])
    after = times(broken)
    err = capsys.readouterr().err
    assert code == 0 and "fixed 1 problem(s) (orphan-call)" in err, err
    assert broken.read_bytes() != data
    assert after == (MTIME_NS, PAST_ATIME_NS)


def test_guard_last_keeps_both_times(broken: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The wrapper's case: `guard --last` in the session's folder fixes the newest session."""
    import json

    lines = contents(broken).splitlines(keepends=True)
    here = broken.parents[5] / "work"
    here.mkdir()
    for n, raw in enumerate(lines):  # recorded in `here`
        line = json.loads(raw)
        if line["type"] in ("session_meta", "turn_context"):
            line["payload"]["cwd"] = str(here)
            lines[n] = json.dumps(line, separators=(",", ":")).encode() + b"\n"
    broken.write_bytes(b"".join(lines))
    (broken.parents[5] / "codex-home" / "config.toml").write_text('model_provider = "judge"\n')
    os.utime(broken, ns=(PAST_ATIME_NS, MTIME_NS))
    monkeypatch.chdir(here)
    code = main(["guard", "--last"])
    after = times(broken)
    err = capsys.readouterr().err
    assert code == 0 and "fixed 1 problem(s) (orphan-call)" in err, err
    assert after == (MTIME_NS, PAST_ATIME_NS)
