"""What ruff users type works here too: `--statistics`, `--exit-zero`, `-q`, rule-code prefixes in
`--select`/`--ignore`. On real sessions written by Codex 0.77.0 (fixtures/real), through both parsers
(the argparse fast path of cli/main.py and typer's app)."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from rollout_doctor.cli.main import main as console_main
from rollout_doctor.core.exitcodes import CLEAN, ERROR, PROBLEMS
from rollout_doctor.formats.codex import CODEX
from tests.support.cli import isolate, run

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "fixtures" / "real"
STUCK = next((REAL / "0.77.0-responses-interrupted-stream").glob("rollout-*.jsonl"))  # RD101 at line 8
CHAT = next((REAL / "0.77.0-chat-parallel-calls").glob("rollout-*.jsonl"))  # RD108 twice with --target chat
HELD_BACK = next((ROOT / "fixtures/cases/bad-output-shape/object-output-held-back/envelope").glob("rollout-*.jsonl"))


@pytest.fixture
def sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(tmp_path, monkeypatch)
    monkeypatch.setenv("COLUMNS", "200")
    folder = tmp_path / "sessions"
    folder.mkdir()
    for source in (STUCK, CHAT):
        shutil.copyfile(source, folder / source.name)
    return folder


def fast(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The console script's way in: the fast path first (check, guard), typer otherwise."""
    code = console_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("enter", [run, fast], ids=["typer", "fast-path"])
def test_check_statistics_prints_one_line_per_rule_as_ruff_does(
        sessions: Path, capsys: pytest.CaptureFixture[str], enter) -> None:  # type: ignore[no-untyped-def]
    code, out, _err = enter(capsys, "check", "--target", "chat", "--statistics", str(sessions))
    assert code == PROBLEMS
    assert out.splitlines() == ["2  RD108  [*] chat-adjacency", "1  RD101  [*] orphan-call",
                                "[*] fixable with `rollout-doctor fix`"]


def test_statistics_as_json_are_rufs_objects(sessions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = fast(capsys, "check", "--target", "chat", "--statistics", "--format", "json", str(sessions))
    assert code == PROBLEMS
    assert orjson.loads(out) == [{"code": "RD108", "name": "chat-adjacency", "count": 2, "fixable": True},
                                 {"code": "RD101", "name": "orphan-call", "count": 1, "fixable": True}]


def test_fix_statistics_count_what_remains(sessions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copyfile(HELD_BACK, sessions / HELD_BACK.name)  # an output only an unsafe fix makes readable
    code, out, _err = run(capsys, "fix", "--statistics", str(sessions))
    assert code == PROBLEMS
    assert f"fixed {sessions / STUCK.name}: 1 fix(es) applied" in out, "what was written is still said"
    assert "1  RD107  [ ] bad-output-shape\n1 more fixable with `rollout-doctor fix --unsafe-fixes`\n" in out
    assert ": RD107 " not in out and ": RD101 " not in out, "no line per problem"


@pytest.mark.parametrize("enter", [run, fast], ids=["typer", "fast-path"])
def test_exit_zero_turns_problems_into_success_but_not_errors(
        sessions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], enter) -> None:  # type: ignore[no-untyped-def]
    assert enter(capsys, "check", str(sessions))[0] == PROBLEMS
    code, out, _err = enter(capsys, "check", "--exit-zero", str(sessions))
    assert code == CLEAN and "RD101 orphan-call" in out
    assert enter(capsys, "check", "--exit-zero", str(tmp_path / "missing.jsonl"))[0] == ERROR


@pytest.mark.parametrize("enter", [run, fast], ids=["typer", "fast-path"])
def test_quiet_prints_only_the_problems(sessions: Path, capsys: pytest.CaptureFixture[str], enter) -> None:  # type: ignore[no-untyped-def]
    code, out, err = enter(capsys, "check", "-q", "--target", "chat", str(sessions))
    assert code == PROBLEMS and err == ""
    lines = out.splitlines()
    assert len(lines) == 3 and all(": RD1" in line for line in lines), out
    assert enter(capsys, "check", "--quiet", str(sessions / CHAT.name))[1] == ""  # clean on responses


def test_quiet_fix_prints_nothing_when_everything_was_fixed(sessions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "fix", "-q", "--target", "chat", str(sessions))
    assert (code, out, err) == (CLEAN, "", "")
    assert run(capsys, "check", str(sessions), "--target", "chat")[0] == CLEAN


ON_CHAT = [r for r in CODEX.rules if r.target in (None, "chat")]  # the selection below is made for the Chat wire


@pytest.mark.parametrize(("selection", "codes"), [
    pytest.param(["--select", "RD1"], {r.code for r in ON_CHAT if r.code.startswith("RD1")}, id="RD1"),
    pytest.param(["--select", "RD"], {r.code for r in ON_CHAT}, id="RD-is-all"),
    pytest.param(["--select", "rd20"], {r.code for r in ON_CHAT if r.code.startswith("RD20")}, id="lower-case"),
    pytest.param(["--select", "RD1,schema", "--ignore", "RD10"],
                 {"RD204", *(r.code for r in ON_CHAT if r.code.startswith("RD11"))}, id="ignore-prefix"),
])
def test_code_prefixes_select_every_rule_they_start(selection: list[str], codes: set[str]) -> None:
    from rollout_doctor.cli.options import rule_options

    args = dict(zip(selection[::2], selection[1::2]))
    options = rule_options("chat", [args["--select"]], [args["--ignore"]] if "--ignore" in args else None)
    assert {r.code for r in CODEX.rules.active(options)} == codes


def test_selecting_by_prefix_changes_what_is_reported(sessions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = fast(capsys, "check", "--target", "chat", "--select", "RD2", str(sessions))
    assert code == CLEAN
    assert fast(capsys, "check", "--target", "chat", "--ignore", "RD1", str(sessions))[0] == CLEAN
    code, out, _err = fast(capsys, "check", "--target", "chat", "--ignore", "RD2", "-q", str(sessions))
    assert code == PROBLEMS and out.count(": RD108 ") == 2 and out.count(": RD101 ") == 1


@pytest.mark.parametrize("enter", [run, fast], ids=["typer", "fast-path"])
def test_a_prefix_that_matches_no_code_is_an_error(sessions: Path, capsys: pytest.CaptureFixture[str], enter) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = enter(capsys, "check", "--select", "RD9", str(sessions))
    assert code == ERROR and "no rule's code starts with 'RD9'" in err


CLEAN_SESSION = next((Path(__file__).resolve().parents[1] / "fixtures" / "real" / "0.169.0-responses-single-call")
                     .glob("rollout-*.jsonl"))


@pytest.mark.parametrize(("options", "all_clear"), [([], True), (["--select", "ALL"], True), (["--select", "RD"], True),
                                                    (["--select", "RD106"], False), (["--ignore", "RD101"], False),
                                                    (["--select", "orphan-call"], False)])
def test_a_narrowed_selection_that_finds_nothing_is_not_an_all_clear(
    options: list[str], all_clear: bool, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """ruff says "All checks passed!" of what it ran; "All clear" here says a session will resume, which
    only the whole default set of rules can say."""
    isolate(tmp_path, monkeypatch)
    code, out, _ = run(capsys, "check", *options, str(CLEAN_SESSION))
    assert code == CLEAN
    assert ("All clear" in out) is all_clear, out
    if not all_clear:
        assert "not all clear" in out and "did not run (--select/--ignore)" in out


def test_the_guard_says_ready_to_resume_only_after_every_default_rule(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = isolate(tmp_path, monkeypatch)
    folder = home / "sessions" / "2026" / "11" / "21"
    folder.mkdir(parents=True)
    shutil.copyfile(CLEAN_SESSION, folder / CLEAN_SESSION.name)
    session = CLEAN_SESSION.name.split("-")[6]  # rollout-<date>T<time>-01a1fe9f-…: a unique prefix of its id
    code, _, err = run(capsys, "guard", session)
    assert code == CLEAN and err.strip().endswith("ready to resume")
    code, _, err = run(capsys, "guard", "--select", "RD106", session)
    assert code == CLEAN and "ready to resume" not in err and "not a full check" in err
