"""The command line as scripts use it: exit codes, the JSON report contract, what a person reads."""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import orjson
import pytest

from rollout_doctor.cli.app import main
from rollout_doctor.formats.codex.rules import RULES
from rollout_doctor.formats.claude import CLAUDE

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "fixtures" / "real"
CASES = ROOT / "fixtures" / "cases"


def real(name: str) -> Path:
    return next((REAL / name).glob("rollout-*.jsonl"))


def case(path: str) -> Path:
    return next((CASES / path).glob("rollout-*.jsonl"))


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))


def copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "work" / source.name
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(source, target)
    return target


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def report_schema() -> dict:
    return orjson.loads(resources.files("rollout_doctor").joinpath("cli/schema/report.schema.json").read_bytes())


def json_report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code, out, _err = run(capsys, *argv, "--format", "json")
    report = orjson.loads(out)
    jsonschema.validate(report, report_schema())
    return code, report


# --- exit codes -----------------------------------------------------------------------------------


def test_check_clean_real_sessions_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(real("0.169.0-responses-parallel-calls")),
                       str(real("0.77.0-responses-single-call")))
    assert code == 0
    assert "no problems" in out


def test_check_broken_session_exits_1_and_names_line_and_call(capsys: pytest.CaptureFixture[str]) -> None:
    path = real("0.77.0-responses-interrupted-stream")
    code, out, _ = run(capsys, "check", str(path))
    assert code == 1
    assert "  8  RD101 orphan-call [*] function_call shell at line 8 never got an output" in out
    code, out, _ = run(capsys, "check", "--format", "full", str(path))
    assert code == 1 and "     call_id call_7GHASf0Jy0ClQKIvekhWd1A8" in out


def test_missing_path_exits_2_and_goes_on(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, report = json_report(capsys, "check", str(tmp_path / "nope.jsonl"), str(real("0.77.0-responses-single-call")))
    assert code == 2
    assert [f["error"] is not None for f in report["files"]] == [True, False]
    assert report["summary"]["errors"] == 1


@pytest.mark.parametrize("argv", [
    pytest.param(["check", "--select", "no-such-rule", "."], id="unknown-rule"),
    pytest.param(["check", "--format", "yaml", "."], id="unknown-format"),
    pytest.param(["fix", "--target", "grpc", "."], id="unknown-target"),
    pytest.param(["frobnicate"], id="unknown-command"),
    pytest.param(["rule", "RD999"], id="unknown-rule-doc"),
])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert "Traceback" not in err


def test_fix_dry_run_shows_diff_writes_nothing_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = copy(real("0.77.0-responses-interrupted-stream"), tmp_path)
    before = path.read_bytes()
    code, out, _ = run(capsys, "fix", "--dry-run", str(path))
    assert code == 1
    assert path.read_bytes() == before
    diff = [line for line in out.splitlines() if line.startswith("  +")]
    assert [line.split()[:3] for line in diff] == [["+", "9", "response_item"]]
    assert "function_call_output" in diff[0] and diff[0].endswith("(cancelled output)")
    assert "dry run: 1 line(s) would change, nothing written; then it resumes" in out
    assert not (tmp_path / "state").exists()


def test_fix_then_check_exits_0_and_undo_restores(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = copy(real("0.77.0-responses-interrupted-stream"), tmp_path)
    before = path.read_bytes()
    assert run(capsys, "fix", str(path))[0] == 0
    assert path.read_bytes() != before
    assert run(capsys, "check", str(path))[0] == 0
    code, out, _ = run(capsys, "undo", "--list", str(path))
    assert code == 0 and "can be restored" in out
    code, out, _ = run(capsys, "undo", str(path))
    assert code == 0 and "restored" in out
    assert path.read_bytes() == before
    code, _out, err = run(capsys, "undo", str(path))
    assert code == 2 and "no backup" in err


def test_fix_with_held_back_unsafe_fix_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = copy(case("duplicate-output/different-held-back/envelope"), tmp_path)
    code, out, _ = run(capsys, "fix", str(path))
    assert code == 1
    assert "held back" in out and "--unsafe-fixes" in out
    code, _out, _ = run(capsys, "fix", "--unsafe-fixes", str(path))
    assert code == 0


def test_highest_exit_code_wins(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _ = json_report(capsys, "check", str(real("0.77.0-responses-interrupted-stream")), str(tmp_path / "gone"))
    assert code == 2


# --- JSON contract --------------------------------------------------------------------------------


def test_check_json_matches_the_documented_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = json_report(capsys, "check", str(real("0.77.0-responses-interrupted-stream")))
    assert code == 1
    assert report["version"] == 1
    (entry,) = report["files"]
    assert entry["generation"] == "envelope" and entry["cli_version"] == "0.77.0"
    (diagnostic,) = entry["diagnostics"]
    assert diagnostic["rule"] == "orphan-call" and diagnostic["code"] == "RD101"
    assert diagnostic["line"] == 8 and diagnostic["call_id"] == "call_7GHASf0Jy0ClQKIvekhWd1A8"
    assert diagnostic["fix"] == {"applicability": "safe",
                                 "title": "insert a cancelled function_call_output after line 8"}
    assert report["summary"]["by_rule"] == {"orphan-call": 1}
    assert report["summary"]["fixable"] == 1 and report["summary"]["unsafe_fixable"] == 0


def test_null_fields_where_they_do_not_apply(capsys: pytest.CaptureFixture[str]) -> None:
    _code, report = json_report(capsys, "check", str(case("session-meta/missing/envelope")))
    (diagnostic,) = report["files"][0]["diagnostics"]
    assert diagnostic["call_id"] is None and diagnostic["fix"] is None


def test_fix_json_reports_changes_and_backup(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = copy(real("0.77.0-chat-parallel-calls"), tmp_path)
    code, report = json_report(capsys, "fix", "--target", "chat", str(path))
    assert code == 0
    fix = report["files"][0]["fix"]
    assert fix["written"] and fix["backup"] and fix["remaining"] == []
    assert {c["kind"] for c in fix["changes"]} == {"move"}
    assert report["summary"]["files_written"] == 1


def test_rules_json_lists_every_rule_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "--format", "json")
    rules = orjson.loads(out)
    assert code == 0
    names = [(r["format"], r["name"]) for r in rules]
    # every rule once, Codex's then Claude Code's, each in its registry's order
    assert names == [("codex", rule.name) for rule in RULES] + [("claude", rule.name) for rule in CLAUDE.rules]


# --- what a person reads --------------------------------------------------------------------------


def test_rule_doc_explains_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rule", "chat-adjacency")
    assert code == 0
    for needle in ("What it checks", "Why it breaks a resume", "Example", "Fix (safe)", "#8479"):
        assert needle in out


def test_huge_line_is_summarised_never_dumped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = copy(real("0.77.0-responses-interrupted-stream"), tmp_path)
    blob = "x" * (2 << 20)
    line = orjson.dumps({"timestamp": "2026-01-01T00:00:00.000Z", "type": "response_item",
                         "payload": {"type": "function_call_output", "call_id": "call_nobody", "output": blob}})
    path.write_bytes(path.read_bytes() + line + b"\n")
    code, out, _ = run(capsys, "fix", "--dry-run", str(path))
    assert code == 1
    assert "call_nobody" in out  # the removed orphan output is named in the diff...
    assert len(out) < 10_000  # ...by a summary, not by its 2 MB of text


def test_select_and_ignore(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(case("invalid-line/glued-record/envelope"))
    _code, report = json_report(capsys, "check", "--select", "invalid-line", path)
    assert {d["rule"] for d in report["files"][0]["diagnostics"]} == {"invalid-line"}
    _code, report = json_report(capsys, "check", "--ignore", "RD201,orphan-call", path)
    assert report["files"][0]["diagnostics"] == []


def test_no_path_checks_codex_home(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sessions = tmp_path / "codex-home" / "sessions" / "2026" / "11" / "21"
    sessions.mkdir(parents=True)
    shutil.copyfile(real("0.77.0-responses-interrupted-stream"), sessions / real("0.77.0-responses-interrupted-stream").name)
    archived = tmp_path / "codex-home" / "archived_sessions"
    archived.mkdir()
    shutil.copyfile(real("0.77.0-responses-single-call"), archived / real("0.77.0-responses-single-call").name)
    code, report = json_report(capsys, "check")
    assert code == 1
    assert len(report["files"]) == 2


def test_python_dash_m_entry_point() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "rollout_doctor", "--version"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and done.stdout.startswith("rollout-doctor ")


def test_check_in_its_own_process_ends_with_all_its_output_and_its_exit_code(tmp_path: Path) -> None:
    """The console script ends a check with os._exit, skipping Python's teardown (cli/main.py, run): every byte
    must be out by then, in either format, and the exit code the one main() returned."""
    import subprocess
    import sys

    fixtures = Path(__file__).parent.parent / "fixtures"
    env = {**os.environ, "NO_COLOR": "1", "ROLLOUT_DOCTOR_HOME": str(tmp_path / "state")}
    env.pop("PYTHONUNBUFFERED", None)  # a user's pipe is block-buffered: what is not flushed is lost
    for args, code in ((["fixtures/real/0.169.0-responses-single-call"], 0), (["fixtures/hostile"], 1)):
        done = subprocess.run([sys.executable, "-m", "rollout_doctor", "check", "--format", "json", *args],
                              capture_output=True, cwd=fixtures.parent, env=env, check=False)
        assert (done.returncode, done.stderr) == (code, b"")
        report = orjson.loads(done.stdout)
        assert len(report["files"]) == len(list((fixtures / args[0][9:]).glob("**/rollout-*.jsonl")))
        text = subprocess.run([sys.executable, "-m", "rollout_doctor", "check", *args], capture_output=True,
                              cwd=fixtures.parent, env=env, check=False)
        last = text.stdout.splitlines()[-1]
        assert text.returncode == code
        assert last.startswith(b"Codex releases") if code else last.startswith(b"All clear")


def test_fix_keeps_reporting_a_problem_only_the_file_name_shows(capsys: pytest.CaptureFixture[str],
                                                                tmp_path: Path) -> None:
    """fix works through scratch files; checks that read the rollout's name must still see its own name."""
    path = copy(case("session-meta/id-mismatch/envelope"), tmp_path)
    call = orjson.dumps({"timestamp": "2026-01-05T10:00:09.000Z", "type": "response_item",
                         "payload": {"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "call_Z"}})
    path.write_bytes(path.read_bytes() + call + b"\n")
    code, report = json_report(capsys, "fix", str(path))
    fix = report["files"][0]["fix"]
    assert fix["written"]
    assert [d["rule"] for d in fix["remaining"]] == ["session-meta"]
    assert code == 1
