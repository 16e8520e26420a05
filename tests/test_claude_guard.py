"""`guard SESSION` and the `shell-init` wrapper for Claude Code: `claude --resume ID` and `claude --continue`
are guarded as `codex resume` is (the wrapper in bash, zsh and fish, with stubs; once with the real
2.1.332, which then sends the fixed conversation)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rollout_doctor.cli.main import main
from rollout_doctor.formats.claude.claude_args import ClaudeResume, resume_request
from rollout_doctor.formats.claude.home import project_folder
from tests.support.claude_breaks import BREAKERS
from tests.support.claude_run import ClaudeHome
from tests.support.messages_api import MessagesServer, text
from tests.test_guard import SHELLS, logged, quoted, run_shell, stubs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "claude"
SESSION = "43ef9735-de42-4102-b5f1-623d525c4fb6"


@pytest.mark.parametrize(("args", "expected"), [
    pytest.param(["--resume", SESSION], ClaudeResume(SESSION, False), id="resume-id"),
    pytest.param(["-p", "-r", SESSION.upper(), "go on"], ClaudeResume(SESSION, False), id="short-upper"),
    pytest.param([f"--resume={SESSION}"], ClaudeResume(SESSION, False), id="glued"),
    pytest.param(["--continue", "-p", "go on"], ClaudeResume(None, True), id="continue"),
    pytest.param(["-c"], ClaudeResume(None, True), id="continue-short"),
    pytest.param(["--resume"], ClaudeResume(None, False), id="picker"),
    pytest.param(["--resume", "login bug"], ClaudeResume(None, False, "login bug"), id="picker-search"),
    pytest.param(["-p", "--", "--resume", SESSION], None, id="after-dashes-a-prompt"),
    pytest.param(["-p", "say hi"], None, id="no-resume"),
])
def test_claude_command_lines_are_read_as_claude_reads_them(args: list[str], expected: ClaudeResume | None) -> None:
    assert resume_request(args) == expected


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Claude home whose project (the current folder) holds the recorded session with its result lost."""
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    folder = tmp_path / "claude" / "projects" / project_folder(project)
    folder.mkdir(parents=True)
    lines = (FIXTURES / "single.jsonl").read_bytes().split(b"\n")[:-1]
    (folder / f"{SESSION}.jsonl").write_bytes(b"\n".join(BREAKERS["unanswered-call"](lines)) + b"\n")
    return folder / f"{SESSION}.jsonl"


@pytest.mark.parametrize("argv", [["guard", SESSION[:8]], ["pre-resume", "claude", "--", "--resume", SESSION],
                                  ["pre-resume", "claude", "--", "-p", "--continue", "go on"]],
                         ids=["guard-prefix", "resume-id", "continue"])
def test_guard_fixes_the_session_claude_takes_up(home: Path, argv: list[str],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    broken = home.read_bytes()
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"session {SESSION} (Claude Code 2.1.332): fixed 1 problem(s) (unanswered-tool-use); ready to resume" in err
    assert home.read_bytes() != broken
    assert main(argv) == 0
    assert "ready to resume (if the resume still fails, the error is not in this file" in capsys.readouterr().err
    assert main(["undo", "--last-run"]) == 0 and home.read_bytes() == broken


def test_guard_says_what_it_cannot_guard(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pre-resume", "claude", "--", "--resume"]) == 0
    assert "opens the picker; nothing to guard" in capsys.readouterr().err
    assert main(["pre-resume", "claude", "--", "--resume", "0b7e0b7e-0000-4000-8000-000000000000"]) == 2
    assert "no Claude Code transcript for session 0b7e0b7e" in capsys.readouterr().err
    assert main(["pre-resume", "claude", "--", "-p", "hello"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("shell", SHELLS)
def test_the_wrapper_guards_claude_resume_and_continue_only(shell: str, tmp_path: Path) -> None:
    folder = stubs(tmp_path, ("claude", "rollout-doctor"))
    log = tmp_path / "log"
    env = {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}", "STUB_LOG": str(log)}
    for words in (["--resume", SESSION, "it's $HOME"], ["-c"], ["-p", "say hi"], [f"--resume={SESSION}"]):
        log.unlink(missing_ok=True)
        done = run_shell(shell, f"claude {quoted(shell, words)}", env)
        assert done.returncode == 0, done.stderr
        guarded = [["rollout-doctor", "pre-resume", "claude", "--", *words]] if words != ["-p", "say hi"] else []
        assert logged(log) == [*guarded, ["claude", *words]]


def test_the_wrapper_fixes_before_the_real_claude_resumes(home: Path, tmp_path: Path) -> None:
    """Through bash with the wrapper, the real 2.1.332 resumes the fixed file and sends its call answered."""
    claude = ClaudeHome.make(tmp_path / "real")
    target = claude.projects / project_folder(claude.project) / home.name
    target.parent.mkdir(parents=True)
    shutil.copyfile(home, target)
    bin_dir = Path(sys.executable).parent
    with MessagesServer([[text("Resumed.")]]) as server:
        env = claude.env(server, ROLLOUT_DOCTOR_HOME=str(tmp_path / "state"))
        env["PATH"] = f"{bin_dir}:{Path(str(claude_path())).parent}:{env['PATH']}"
        script = f'eval "$(rollout-doctor shell-init bash)"\ncd {claude.project}\nclaude -p --resume {SESSION} "carry on" --allowedTools Bash'
        done = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], env=env, capture_output=True, text=True,
                              timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert "fixed 1 problem(s) (unanswered-tool-use); ready to resume" in done.stderr
    messages = server.model_requests[0].messages
    uses = [b["id"] for m in messages if m["role"] == "assistant" and isinstance(m["content"], list)
            for b in m["content"] if b.get("type") == "tool_use"]
    results = [b["tool_use_id"] for m in messages if m["role"] == "user" and isinstance(m["content"], list)
               for b in m["content"] if b.get("type") == "tool_result"]
    assert len(uses) == 1 and results == uses


def claude_path() -> Path:
    from tests.support.claude_bin import claude_binary

    return claude_binary()


def test_sessions_of_both_clients_are_checked_with_no_path(home: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    codex = tmp_path / "codex-home" / "sessions" / "2026" / "01" / "05"
    codex.mkdir(parents=True)
    shutil.copyfile(next((Path(__file__).resolve().parents[1] / "fixtures" / "real").rglob("rollout-*.jsonl")),
                    codex / "rollout-2026-01-05T10-00-00-01a1fe9f-a2fa-7091-8dab-b019fa49b280.jsonl")
    main(["check", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert {Path(f["path"]).name for f in report["files"]} == {
        home.name, "rollout-2026-01-05T10-00-00-01a1fe9f-a2fa-7091-8dab-b019fa49b280.jsonl"}


def test_undo_takes_a_claude_session_id(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = home.read_bytes()
    assert main(["fix", str(home)]) == 0 and home.read_bytes() != broken
    assert main(["undo", SESSION[:8]]) == 0
    assert home.read_bytes() == broken
    assert f"session {SESSION}" in capsys.readouterr().out


def _registry(home: Path, pid: int, start: str | None) -> Path:
    """A record of Claude Code's registry of running sessions (2.1.332: <home>/sessions/<pid>.json)."""
    folder = home.parents[2] / "sessions"
    folder.mkdir(exist_ok=True)
    record = {"pid": pid, "sessionId": SESSION, "cwd": str(Path.cwd()), "version": "2.1.332", "kind": "interactive"}
    if start is not None:
        record["procStart"] = start
    (folder / f"{pid}.json").write_text(json.dumps(record))
    return folder / f"{pid}.json"


def test_a_session_a_running_claude_holds_is_not_rewritten(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Claude Code opens the transcript only to append; its registry of running sessions says who is live."""
    from rollout_doctor.formats.claude.home import _started

    broken = home.read_bytes()
    record = _registry(home, os.getpid(), _started(os.getpid()))
    assert main(["fix", str(home)]) == 3
    out = capsys.readouterr()
    assert "is running this session" in out.out + out.err and home.read_bytes() == broken
    assert main(["check", str(home)]) == 0
    assert "in progress" in capsys.readouterr().out
    # A record left by a process that is gone, or whose pid now names another process, is stale.
    record.write_text(record.read_text().replace(f'"procStart": "{_started(os.getpid())}"', '"procStart": "1"'))
    assert main(["fix", str(home)]) == 0 and home.read_bytes() != broken


def test_a_clean_transcript_is_all_clear_and_says_where_a_failure_would_be(capsys: pytest.CaptureFixture[str],
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    assert main(["check", str(FIXTURES / "parallel.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "All clear: 1 file(s) checked, no problems." in out
    assert "it is not in the file: Claude Code builds that request itself" in out


def test_the_json_report_of_claude_sessions_keeps_the_documented_contract(home: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[1] / "rollout_doctor" / "cli" / "schema"
                         / "report.schema.json").read_text())
    for argv in (["check", "--format", "json"], ["fix", "--format", "json"]):
        main(argv)
        report = json.loads(capsys.readouterr().out)
        jsonschema.validate(report, schema)
        [file] = report["files"]
        assert file["session"]["id"] == SESSION and file["generation"] == "transcript" and file["target"] == "messages"
    assert [d["code"] for d in report["files"][0]["diagnostics"]] == ["CC101"]


def test_a_replayed_check_notices_a_claude_that_started_since(home: Path, tmp_path: Path) -> None:
    """The run cache (cli/run_cache.py) replays an unchanged check, with no path too (both homes); a claude
    that starts on the session afterwards holds no descriptor, and only its registry record says it is
    live: the check is done again, and says so."""
    import subprocess
    import sys
    import time

    from rollout_doctor.core import sampling
    from rollout_doctor.formats.claude.home import _started

    (tmp_path / "claude" / "sessions").mkdir()
    time.sleep(sampling.RACY + 0.1)  # a file changed within the clock's resolution of a run is not kept
    env = {**os.environ, "NO_COLOR": "1", "ROLLOUT_DOCTOR_CACHE_DIR": str(tmp_path / "cache")}

    def check(*args: str) -> tuple[int, str]:
        done = subprocess.run([sys.executable, "-m", "rollout_doctor", "check", *args], capture_output=True,
                              text=True, env=env, check=False)
        return done.returncode, done.stdout

    for args in ((), (str(home.parent),)):
        first = check(*args)
        assert first[0] == 1 and "in progress" not in first[1]
        assert check(*args) == first  # replayed, or done again: the same
        assert list((tmp_path / "cache").rglob("runs/*")), "the run was kept"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _registry(home, sleeper.pid, _started(sleeper.pid))
        for args in ((), (str(home.parent),)):
            code, out = check(*args)
            assert "in progress" in out, args
    finally:
        sleeper.kill()
        sleeper.wait()
