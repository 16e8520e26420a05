"""Hostile input: `check` and `fix` report each bad line by file and line, never crash, carry on with
the other files, and `undo` gives back the exact input bytes.

The named cases live in fixtures/hostile (built by tests/hostile.py from real Codex sessions); the
big ones (100,000 levels of nesting, 20 MB lines) are built here.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from rollout_doctor.cli.app import main
from rollout_doctor.store.backups import journals_of
from tests.hostile import CASES, ENVELOPE, Case, big_cases
from tests.support.safety import HOSTILE, real

# What `check` reports on each case: (line, code), in order. Line numbers are those of the file.
EXPECTED: dict[str, list[tuple[int, str]]] = {
    "truncated-mid-line": [(8, "RD101"), (9, "RD201")],  # the call's output was in the lost part
    "torn-then-appended": [(9, "RD201")],
    "torn-then-glued": [(8, "RD101"), (9, "RD201")],  # the glued record is the output: salvaged by the fix
    "flipped-bytes": [(3, "RD201"), (6, "RD201")],
    "nul-bytes": [(6, "RD201"), (7, "RD201"), (17, "RD201")],
    "bom": [(1, "RD201")],
    "crlf": [],
    "no-final-newline": [],
    "empty": [(1, "RD202")],
    "blank-lines": [(1, "RD202")],
    "not-objects": [(6, "RD201"), (7, "RD201"), (8, "RD201"), (9, "RD201"), (10, "RD201")],
    "invalid-utf8": [(6, "RD201")],
    # line 12 has a numeric timestamp: Codex skips the whole record, call included, so no orphan-call
    "wrong-types": [(12, "RD201"), (13, "RD107"), (14, "RD106"), (14, "RD107")],
    "payload-not-object": [(6, "RD201"), (7, "RD201"), (8, "RD201"), (9, "RD201"), (10, "RD201"), (11, "RD201")],
    "meta-torn": [(1, "RD201"), (2, "RD202")],
    "nested-128": [],
    "nested-129": [(6, "RD201")],
    "paginated-truncated": [(10, "RD101"), (13, "RD201")],
    "paginated-garbage-between": [(7, "RD201")],
    "paginated-glued-meta": [(1, "RD201"), (2, "RD202")],
}
BIG_EXPECTED: dict[str, list[tuple[int, str]]] = {
    "nested-100000": [(6, "RD201")],
    "nested-100000-object": [(6, "RD201")],
    "line-20mb-valid": [],
    "line-20mb-garbage": [(6, "RD201")],
    "line-20mb-torn-at-end": [(16, "RD201")],
}


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    monkeypatch.delenv("ROLLOUT_DOCTOR_DEBUG", raising=False)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--format", "json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, orjson.loads(captured.out)


def found(report: dict) -> list[tuple[int, str]]:
    return [(d["line"], d["code"]) for d in report["diagnostics"]]


def test_the_committed_fixtures_are_what_tests_hostile_builds() -> None:
    assert sorted(p.name for p in HOSTILE.iterdir() if p.is_dir()) == sorted(c.name for c in CASES)
    assert set(EXPECTED) == {c.name for c in CASES}
    notes = (HOSTILE / "NOTES.md").read_text()
    for case in CASES:
        assert case.path.read_bytes() == case.build(), f"rerun `python -m tests.hostile` ({case.name})"
        assert f"`{case.name}`" in notes


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_check_reports_each_bad_line_by_file_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                      case: Case) -> None:
    code, report = run_json(capsys, "check", str(case.path))
    [file] = report["files"]
    assert file["error"] is None
    assert found(file) == EXPECTED[case.name]
    assert code == (1 if EXPECTED[case.name] else 0)
    path = tmp_path / case.path.name  # outside the working folder: the text names it in full
    path.write_bytes(case.path.read_bytes())
    main(["check", str(path)])
    lines = capsys.readouterr().out.splitlines()
    if EXPECTED[case.name]:
        assert f"  {path}" in lines, "the file, once, in the session's header"
    for line, code_ in EXPECTED[case.name]:
        assert [text for text in lines if text.lstrip().startswith(f"{line}  {code_} ")], (line, code_)


def fix_and_undo(capsys: pytest.CaptureFixture[str], path: Path) -> dict:
    original = path.read_bytes()
    code, report = run_json(capsys, "fix", str(path))
    [file] = report["files"]
    assert file["error"] is None and file["fix"]["refused"] is None
    assert code in (0, 1)
    assert code == (1 if file["fix"]["remaining"] else 0)
    fixed = path.read_bytes()
    assert (fixed != original) == file["fix"]["written"]
    # Fixing twice is fixing once: the second run writes nothing.
    code2, again = run_json(capsys, "fix", str(path))
    assert code2 == code and not again["files"][0]["fix"]["written"] and path.read_bytes() == fixed
    if file["fix"]["written"]:
        assert main(["undo", str(path)]) == 0
    else:
        assert journals_of(path) == []
    capsys.readouterr()
    assert path.read_bytes() == original
    return file


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_fix_then_undo_gives_back_the_exact_bytes(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                  case: Case) -> None:
    path = tmp_path / case.path.name
    path.write_bytes(case.path.read_bytes())
    fix_and_undo(capsys, path)


def test_a_folder_of_hostile_files_is_checked_through(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(capsys, "check", str(HOSTILE), str(real(ENVELOPE)))
    assert code == 1
    by_case = {Path(f["path"]).parent.name: f for f in report["files"]}
    assert set(by_case) == {c.name for c in CASES} | {ENVELOPE}
    assert all(f["error"] is None for f in report["files"])
    for case in CASES:
        assert found(by_case[case.name]) == EXPECTED[case.name]


@pytest.fixture(scope="module")
def big() -> dict[str, bytes]:
    return big_cases()


@pytest.mark.parametrize("name", sorted(BIG_EXPECTED))
def test_big_hostile_files(capsys: pytest.CaptureFixture[str], tmp_path: Path, big: dict[str, bytes],
                           name: str) -> None:
    path = tmp_path / real(ENVELOPE).name
    path.write_bytes(big[name])
    code, report = run_json(capsys, "check", str(path))
    [file] = report["files"]
    assert file["error"] is None and found(file) == BIG_EXPECTED[name]
    assert code == (1 if BIG_EXPECTED[name] else 0)
    for d in file["diagnostics"]:
        assert len(d["message"]) < 300  # a bad line is named, never dumped
    fix_and_undo(capsys, path)


def test_a_bug_is_reported_as_one_not_as_a_problem_with_the_file(capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's catch-all keeps a run over many files going, but says when it caught a bug."""
    from rollout_doctor.formats.codex.rules import REGISTRY

    def broken(_ctx: object) -> None:
        raise KeyError("a bug")

    rule = next(r for r in REGISTRY if r.default and r.target is None)  # one that runs on every file
    monkeypatch.setattr(REGISTRY, "rules", tuple(r._replace(check=broken) if r is rule else r for r in REGISTRY))
    monkeypatch.setattr(REGISTRY, "_active", {})  # the selections decided before the patch
    first, second = CASES[0].path, real(ENVELOPE)
    code = main(["check", str(first), str(second)])
    out = capsys.readouterr().out
    assert code == 2
    assert f"{first}: internal error, please report it" in out and "KeyError" in out
    assert out.count("internal error") == 2  # both files were still checked
    monkeypatch.setenv("ROLLOUT_DOCTOR_DEBUG", "1")
    with pytest.raises(KeyError):
        main(["check", str(first)])


def test_a_file_name_that_is_not_utf8(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Its bytes reach Python as lone surrogates, which JSON cannot carry: shown as \\xNN, never a crash."""
    path = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"rollout-2026-11-21T15-03-08-\xff\xfe.jsonl")))
    path.write_bytes(CASES[0].path.read_bytes())
    code, report = run_json(capsys, "check", str(tmp_path))
    assert code == 1 and report["files"][0]["path"].endswith("rollout-2026-11-21T15-03-08-\\xff\\xfe.jsonl")
    assert main(["check", str(tmp_path)]) == 1
    assert "RD201" in capsys.readouterr().out
    fix_and_undo(capsys, path)

