"""core/ works with any format that implements core.format.Format: a toy one (tests/support/toy/),
which shares nothing with Codex, is checked, fixed and undone by the same engine, with the same
promises (only the fix's lines change, a clean file is not written, undo is byte-exact)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rollout_doctor.core.check import check_file
from rollout_doctor.core.discovery import discover
from rollout_doctor.core.fixer import fix_files
from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex import CODEX
from rollout_doctor.store import restore
from tests.support.toy import TOY

BROKEN = b'{"t":"head"}\n{"t":"call","id":"a"}\n{"t":"call","id":"b"}\r\n{"t":"out","id":"b"}\n'
FIXED = (b'{"t":"head"}\n{"t":"call","id":"a"}\n{"t":"out","id":"a","cancelled":true}\n'
         b'{"t":"call","id":"b"}\r\n{"t":"out","id":"b"}\n')


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    path = tmp_path / "one.toy.jsonl"
    path.write_bytes(BROKEN)
    return path


def test_discovery_gives_each_file_its_format(session: Path) -> None:
    (session.parent / "rollout-2026-01-05T10-00-00-01a1fe9f-a2fa-7091-8dab-b019fa49b280.jsonl").write_bytes(b"")
    (session.parent / "notes.txt").write_bytes(b"")
    found = {f.path.name: f.format for f in discover([session.parent], [TOY, CODEX])}
    assert found == {session.name: TOY,
                     "rollout-2026-01-05T10-00-00-01a1fe9f-a2fa-7091-8dab-b019fa49b280.jsonl": CODEX}


def test_check_reports_through_the_formats_rules(session: Path) -> None:
    report = check_file(TOY, session, Options(target=None))
    assert report.error is None and report.generation == "toy" and report.target == "only"
    assert [(d.code, d.rule, d.line, d.call_id) for d in report.diagnostics] == [("TY001", "toy-orphan-call", 1, "a")]


def test_fix_writes_only_what_the_fix_changes_and_undo_gives_the_bytes_back(session: Path) -> None:
    os.utime(session, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    [report] = list(fix_files(TOY, [session], Options(target=None)))
    assert report.written and report.error is None and report.remaining == []
    assert [(c.kind, c.new_line, c.note) for c in report.changes] == [("insert", 3, "cancelled output")]
    assert session.read_bytes() == FIXED
    assert session.stat().st_mtime_ns == 1_700_000_000_000_000_000
    [again] = list(fix_files(TOY, [session], Options(target=None)))
    assert not again.written and again.diagnostics == []
    restore(session)
    assert session.read_bytes() == BROKEN
