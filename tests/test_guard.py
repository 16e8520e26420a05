"""`rollout-doctor guard` before a resume, and the `shell-init` wrapper that runs it.

The wrapper tests source the printed functions in real bash, zsh and fish (skipped when a shell is not
installed) with stand-in `codex` and `rollout-doctor` programs on PATH that log their arguments; the
end-to-end tests use the real rollout-doctor, and, with the `codex` marker, the real Codex 0.77.0.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard

from rollout_doctor.cli.app import app
from rollout_doctor.cli.fastpath import parser_for
from rollout_doctor.cli.main import main
from rollout_doctor.formats.codex.shell import ResumeRequest, resume_request, wrapper
from rollout_doctor.store import files as writer
from rollout_doctor.store import restore
from rollout_doctor.store.backups import journals_of
from tests.support.codex_bin import codex_binary
from tests.support.codex_run import CodexHome, real_fixture, session_id_of
from tests.support.loopback import LoopbackServer, say
from tests.support.scenarios import NEW, OLD

pytest_plugins = ["tests.support.fixtures"]

CLEAN_NEW = real_fixture(f"{NEW}-responses-single-call")
INTERRUPTED_OLD = real_fixture(f"{OLD}-responses-interrupted-stream")  # a call with no output (#16255)
CHAT_PARALLEL = real_fixture(f"{OLD}-chat-parallel-calls")  # call_A, call_B, out_A, out_B (#8479)
BIN = Path(sys.executable).parent  # the venv's bin, holding the real rollout-doctor
CASES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"
# An output in a shape Codex drops: it resumes, sending 'aborted' instead (dropped); only an unsafe fix.
DROPPED = next((CASES / "bad-output-shape" / "object-output-unsafe" / "envelope").glob("rollout-*.jsonl"))
# session_meta names another session than the file: Codex refuses it (refused); no fix.
REFUSED = next((CASES / "session-meta" / "id-mismatch" / "envelope").glob("rollout-*.jsonl"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    codex_home = tmp_path / "codex-home"
    (codex_home / "sessions").mkdir(parents=True)
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    return codex_home


def install(home: Path, source: Path, data: bytes | None = None, name: str | None = None) -> Path:
    target = home / "sessions" / "2026" / "11" / "21" / (name or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes() if data is None else data)
    return target


def guard(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["guard", *argv])
    captured = capsys.readouterr()
    assert captured.out == "", "the receipt goes to stderr: stdout belongs to codex"
    return code, captured.err


# --- guard ---------------------------------------------------------------------------------------


def test_a_clean_session_is_left_alone(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = install(home, CLEAN_NEW)
    before = path.stat()
    code, err = guard(capsys, session_id_of(CLEAN_NEW))
    assert code == 0
    assert err == f"rollout-doctor: session {session_id_of(CLEAN_NEW)} (Codex 0.169.0): ready to resume\n"
    assert path.read_bytes() == CLEAN_NEW.read_bytes() and path.stat().st_mtime_ns == before.st_mtime_ns
    assert journals_of(path) == []


def test_a_broken_session_is_fixed_with_a_backup_undo_restores(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = install(home, INTERRUPTED_OLD)
    code, err = guard(capsys, session_id_of(INTERRUPTED_OLD))
    assert code == 0, err
    assert "(Codex 0.77.0): fixed 1 problem(s) (orphan-call); ready to resume" in err
    assert f"undo: `rollout-doctor undo {path}`" in err and err.count("\n") == 1
    lines = path.read_bytes().splitlines()
    assert lines[:-1] == INTERRUPTED_OLD.read_bytes().splitlines()
    assert json.loads(lines[-1])["payload"]["output"] == "aborted"
    assert guard(capsys, session_id_of(INTERRUPTED_OLD)) == (
        0, f"rollout-doctor: session {session_id_of(INTERRUPTED_OLD)} (Codex 0.77.0): ready to resume\n")
    restore(path)
    assert path.read_bytes() == INTERRUPTED_OLD.read_bytes()


def test_problems_no_safe_fix_solves_exit_1(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other_id = "01a1fe9f-0000-7000-8000-000000000000"
    data = INTERRUPTED_OLD.read_bytes().replace(session_id_of(INTERRUPTED_OLD).encode(), other_id.encode(), 1)
    path = install(home, INTERRUPTED_OLD, data)
    code, err = guard(capsys, session_id_of(INTERRUPTED_OLD))
    assert code == 1, "the orphan call is fixed; the id mismatch remains"
    assert "fixed 1 problem(s) (orphan-call;" in err and "; it will not resume: RD202 session-meta at line 1" in err
    assert err.rstrip().endswith("no automatic fix: `rollout-doctor rule session-meta` says what to do")
    restore(path)
    assert path.read_bytes() == data
    capsys.readouterr()
    code, err = guard(capsys, "--ignore", "orphan-call", session_id_of(INTERRUPTED_OLD))
    assert code == 1 and ": will not resume: RD202 session-meta" in err and "check" not in err
    assert path.read_bytes() == data


def test_a_session_that_resumes_with_problems_exits_4_and_names_the_fix(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not a refusal: the receipt says the session resumes, what Codex does to it, and the command that
    fixes it (not `check`); the file is left as it is."""
    path = install(home, DROPPED)
    code, err = guard(capsys, session_id_of(DROPPED))
    assert code == 4, err
    assert ": resumes, but Codex skips records: RD107 bad-output-shape at line " in err
    assert err.rstrip().endswith(f"to fix: `rollout-doctor fix --unsafe-fixes {path}`")
    assert "will not resume" not in err and "rollout-doctor check" not in err
    assert path.read_bytes() == DROPPED.read_bytes()


def test_a_refused_session_no_fix_solves_exits_1(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    install(home, REFUSED)
    code, err = guard(capsys, session_id_of(REFUSED))
    assert code == 1, err
    assert ": will not resume: RD202 session-meta at line 1: session_meta id " in err
    assert err.rstrip().endswith("no automatic fix: `rollout-doctor rule session-meta` says what to do")


def test_select_and_ignore_choose_the_rules(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = install(home, INTERRUPTED_OLD)
    assert guard(capsys, "--ignore", "RD101", session_id_of(INTERRUPTED_OLD))[0] == 0
    assert guard(capsys, "--select", "ordinal-order", session_id_of(INTERRUPTED_OLD))[0] == 0
    assert path.read_bytes() == INTERRUPTED_OLD.read_bytes()
    code, err = guard(capsys, "--select", "nonsense", session_id_of(INTERRUPTED_OLD))
    assert code == 2 and "unknown rule 'nonsense'" in err


def test_the_wire_comes_from_config_toml_unless_given(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = install(home, CHAT_PARALLEL)
    session = session_id_of(CHAT_PARALLEL)
    assert guard(capsys, session)[0] == 0, "on the Responses wire call_A, call_B, out_A, out_B is fine"
    assert path.read_bytes() == CHAT_PARALLEL.read_bytes()
    (home / "config.toml").write_text('model_provider = "judge"\n[model_providers.judge]\nwire_api = "chat"\n')
    code, err = guard(capsys, session)
    assert code == 0 and "(chat-adjacency)" in err
    kinds = [json.loads(line)["payload"].get("type") for line in path.read_bytes().splitlines()]
    calls = [k for k in kinds if k in ("function_call", "function_call_output")]
    assert calls == ["function_call", "function_call_output"] * 2
    assert guard(capsys, "--target", "responses", session)[0] == 0


def test_a_thread_name_and_last_find_the_session(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    install(home, CLEAN_NEW)
    (home / "session_index.jsonl").write_text(json.dumps(
        {"id": session_id_of(CLEAN_NEW), "thread_name": "say hi", "updated_at": "2026-11-21T15:00:40Z"}) + "\n")
    assert guard(capsys, "say hi")[0] == 0
    (home / "config.toml").write_text('model_provider = "judge"\n')
    code, err = guard(capsys, "--last", "--all")
    assert code == 0 and session_id_of(CLEAN_NEW) in err
    code, err = guard(capsys, "--last")
    assert code == 2 and "add --all for every folder" in err, "recorded in another folder"


def test_a_compressed_rollout_is_fixed_and_stays_compressed(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compressed = zstandard.ZstdCompressor().compress(INTERRUPTED_OLD.read_bytes())
    path = install(home, INTERRUPTED_OLD, compressed, name=INTERRUPTED_OLD.name + ".zst")
    assert guard(capsys, session_id_of(INTERRUPTED_OLD))[0] == 0
    plain = zstandard.ZstdDecompressor().stream_reader(path.read_bytes()).read()
    assert plain.startswith(INTERRUPTED_OLD.read_bytes()) and plain.endswith(b'"output":"aborted"}}\n')


def test_a_file_that_changes_while_being_fixed_is_not_replaced(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = install(home, INTERRUPTED_OLD)
    appended = b'{"timestamp":"2026-11-21T15:04:00.000Z","type":"event_msg","payload":{"type":"token_count"}}\n'
    def codex_appends_meanwhile(stage: str) -> None:
        if stage == "tmp-written":  # while the backup is being made
            with open(path, "ab") as f:
                f.write(appended)

    monkeypatch.setattr(writer, "STAGE_HOOK", codex_appends_meanwhile)
    code, err = guard(capsys, session_id_of(INTERRUPTED_OLD))
    assert code == 3 and "not fixed:" in err and "changed since it was read" in err
    assert path.read_bytes() == INTERRUPTED_OLD.read_bytes() + appended


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to wait for the writer")
def test_a_session_a_running_process_writes_is_not_touched(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A live Codex appends through the descriptor it holds; replacing the file would lose that (exit 3)."""
    path = install(home, INTERRUPTED_OLD)
    writer_process = subprocess.Popen(["sh", "-c", 'exec sleep 60 >> "$0"', str(path)])
    try:
        fds = Path(f"/proc/{writer_process.pid}/fd")
        for _ in range(200):  # until the shell has opened the file (or 2 s)
            if any(os.path.realpath(fd) == str(path.resolve()) for fd in fds.iterdir()):
                break
            time.sleep(0.01)
        code, err = guard(capsys, session_id_of(INTERRUPTED_OLD))
    finally:
        writer_process.kill()
        writer_process.wait()
    assert code == 3 and "a running process may still write to it" in err
    assert path.read_bytes() == INTERRUPTED_OLD.read_bytes()


def test_errors_and_usage(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = (f"rollout-doctor: no rollout for session 0000aaaa-0000-7000-8000-000000000000 under "
                f"{home / 'sessions'} or {home / 'archived_sessions'}\n")
    assert guard(capsys, "0000aaaa-0000-7000-8000-000000000000") == (2, expected)
    assert guard(capsys, "no such name")[0] == 2
    assert main(["guard"]) == 2
    assert main(["guard", "--last", session_id_of(CLEAN_NEW)]) == 2
    path = install(home, INTERRUPTED_OLD)
    path.chmod(0)
    if os.geteuid() != 0:  # root reads anything
        code, err = guard(capsys, session_id_of(INTERRUPTED_OLD))
        assert code == 2 and "cannot read it" in err


def test_quiet_prints_nothing(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    install(home, INTERRUPTED_OLD)
    assert guard(capsys, "-q", session_id_of(INTERRUPTED_OLD)) == (0, "")
    assert guard(capsys, "--quiet", "0000aaaa-0000-7000-8000-000000000000") == (2, "")


def test_the_console_script_ends_with_its_receipt_whether_it_fixed_or_not(home: Path) -> None:
    """In its own process, as a shell hook runs it: a clean session ends with the quick exit
    (cli/main.py, run), a fixed one with Python's own; either way the whole receipt is out and the exit code
    is the guard's, with stdout block-buffered as a user's is."""
    env = {**os.environ}
    env.pop("PYTHONUNBUFFERED", None)
    for source, fixed in ((CLEAN_NEW, False), (INTERRUPTED_OLD, True)):
        path = install(home, source)
        done = subprocess.run([str(BIN / "rollout-doctor"), "guard", session_id_of(source)],
                              capture_output=True, text=True, env=env, check=False)
        assert (done.returncode, done.stdout) == (0, "")
        assert done.stderr.endswith("ready to resume\n" if not fixed else f"undo: `rollout-doctor undo {path}`\n")
        assert bool(journals_of(path)) == fixed


# --- what a codex command line resumes -----------------------------------------------------------

ID = "01a1fe9f-a2fa-7091-8dab-b019fa49b280"


@pytest.mark.parametrize(("argv", "expected"), [
    pytest.param(["resume", ID], ResumeRequest(ID, False, False, False), id="tui-id"),
    pytest.param(["resume", "my thread"], ResumeRequest("my thread", False, False, False), id="tui-name"),
    pytest.param(["-m", "gpt-5", "resume", "--last"], ResumeRequest(None, True, False, False), id="tui-last"),
    pytest.param(["resume", "--last", "--all"], ResumeRequest(None, True, True, False), id="tui-last-all"),
    pytest.param(["exec", "--skip-git-repo-check", "-s", "danger-full-access", "resume", ID, "go on"],
                 ResumeRequest(ID, False, False, True), id="exec-id-prompt"),
    pytest.param(["exec", "resume", "--last", "resume the work"], ResumeRequest(None, True, False, True),
                 id="exec-last-prompt-is-not-a-session"),
    pytest.param(["e", "-c", "model=o3", "resume", "-i", "shot.png", ID],
                 ResumeRequest(ID, False, False, True, config=("model=o3",)), id="exec-alias-value-options"),
    pytest.param(["--profile=work", "resume", "--", ID],
                 ResumeRequest(ID, False, False, False, profile="work", profile_before_exec=True),
                 id="equals-and-dashes"),
    pytest.param(["-C", "resume", "exec"], None, id="a-value-named-resume"),
    pytest.param(["resume"], ResumeRequest(None, False, False, False), id="the-picker"),
    pytest.param(["resume", "--help"], None, id="help"),
    pytest.param(["exec", "resume the work"], None, id="a-prompt"),
    pytest.param(["exec", "go", "resume"], None, id="resume-inside-a-prompt"),
    pytest.param(["login"], None, id="another-command"),
    pytest.param(["apply", "resume"], None, id="resume-as-an-argument"),
])
def test_resume_request_reads_codex_arguments(argv: list[str], expected: ResumeRequest | None) -> None:
    assert resume_request(argv) == expected


# --- shell-init ----------------------------------------------------------------------------------

LOGGER = """#!/bin/sh
# Log this program's name and arguments, one per line, NUL-terminated, then exit with $STUB_EXIT_<name>.
name=$(basename "$0")
{ printf '%s\\0' "$name" "$@"; printf '\\n'; } >> "$STUB_LOG"
eval "exit \\${STUB_EXIT_$(echo "$name" | tr - _):-0}"
"""


def stubs(tmp_path: Path, names: tuple[str, ...] = ("codex", "rollout-doctor")) -> Path:
    folder = tmp_path / "stubs"
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text(LOGGER)
        (folder / name).chmod(0o755)
    return folder


def logged(log: Path) -> list[list[str]]:
    """The logged calls: each is its words, NUL-terminated, then a newline."""
    if not log.exists():
        return []
    return [[w.decode() for w in record.split(b"\0")] for record in log.read_bytes().split(b"\0\n") if record]


def run_shell(shell: str, script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    init = subprocess.run([sys.executable, "-m", "rollout_doctor", "shell-init", shell], capture_output=True,
                          text=True, check=True).stdout
    program = f"{init}\n{script}\n"
    argv = {"bash": ["bash", "--norc", "--noprofile", "-c", program],
            "zsh": ["zsh", "-f", "-c", program],
            "fish": ["fish", "--no-config", "-c", program]}[shell]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)


SHELLS = [pytest.param(s, marks=pytest.mark.skipif(shutil.which(s) is None, reason=f"{s} not installed"))
          for s in ("bash", "zsh", "fish")]
TRICKY = ["exec", "-s", "danger-full-access", "resume", ID, "two  words", "", "*", "it's $HOME"]


def status(shell: str) -> str:
    return "$status" if shell == "fish" else "$?"


def quoted(shell: str, words: list[str]) -> str:
    # Single quotes work in all three; fish escapes a quote inside them as \\', sh closes and reopens.
    if shell == "fish":
        return " ".join("'" + w.replace("\\", "\\\\").replace("'", "\\'") + "'" for w in words)
    return " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)


@pytest.mark.parametrize("shell", SHELLS)
def test_the_wrapper_guards_then_runs_codex_with_the_same_arguments(shell: str, tmp_path: Path) -> None:
    log = tmp_path / "log"
    env = {"PATH": f"{stubs(tmp_path)}:/usr/bin:/bin", "STUB_LOG": str(log), "HOME": str(tmp_path)}
    done = run_shell(shell, f"codex {quoted(shell, TRICKY)}; echo status={status(shell)}", env)
    assert done.stdout.strip() == "status=0", done.stderr
    assert logged(log) == [["rollout-doctor", "pre-resume", "--", *TRICKY], ["codex", *TRICKY]]


@pytest.mark.parametrize("shell", SHELLS)
def test_the_wrapper_leaves_other_commands_alone(shell: str, tmp_path: Path) -> None:
    log = tmp_path / "log"
    env = {"PATH": f"{stubs(tmp_path)}:/usr/bin:/bin", "STUB_LOG": str(log), "HOME": str(tmp_path),
           "STUB_EXIT_codex": "7"}
    done = run_shell(shell, f"codex exec 'fix the tests'; echo status={status(shell)}", env)
    assert done.stdout.strip() == "status=7", "codex's own exit status comes back"
    assert logged(log) == [["codex", "exec", "fix the tests"]]


@pytest.mark.parametrize("shell", SHELLS)
def test_a_failing_guard_stops_the_resume_only_when_strict(shell: str, tmp_path: Path) -> None:
    log = tmp_path / "log"
    env = {"PATH": f"{stubs(tmp_path)}:/usr/bin:/bin", "STUB_LOG": str(log), "HOME": str(tmp_path),
           "STUB_EXIT_rollout_doctor": "1"}
    done = run_shell(shell, f"codex resume {ID}; echo status={status(shell)}", env)
    assert done.stdout.strip() == "status=0"
    assert [call[0] for call in logged(log)] == ["rollout-doctor", "codex"]
    log.unlink()
    done = run_shell(shell, f"codex resume {ID}; echo status={status(shell)}", {**env, "ROLLOUT_DOCTOR_STRICT": "1"})
    assert done.stdout.strip() == "status=1"
    assert [call[0] for call in logged(log)] == ["rollout-doctor"]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(("guard_exit", "stopped"), [(1, True), (4, False), (2, False), (3, False), (0, False)])
def test_strict_stops_only_a_session_that_will_not_resume(shell: str, guard_exit: int, stopped: bool,
                                                          tmp_path: Path) -> None:
    """1 is the guard's "will not resume"; 4 (resumes with problems), 2 (not found) and 3 (not written) let
    Codex resume, even when strict."""
    log = tmp_path / "log"
    env = {"PATH": f"{stubs(tmp_path)}:/usr/bin:/bin", "STUB_LOG": str(log), "HOME": str(tmp_path),
           "STUB_EXIT_rollout_doctor": str(guard_exit), "ROLLOUT_DOCTOR_STRICT": "1"}
    done = run_shell(shell, f"codex resume {ID}; echo status={status(shell)}", env)
    assert done.stdout.strip() == f"status={guard_exit if stopped else 0}"
    assert [call[0] for call in logged(log)] == (["rollout-doctor"] if stopped else ["rollout-doctor", "codex"])


@pytest.mark.parametrize("shell", SHELLS)
def test_strict_with_the_real_guard_resumes_a_dropped_session_and_stops_a_refused_one(
    shell: str, tmp_path: Path
) -> None:
    home = tmp_path / "codex-home"
    install(home, DROPPED)
    install(home, REFUSED)
    log = tmp_path / "log"
    env = {"PATH": f"{stubs(tmp_path, ('codex',))}:{BIN}:/usr/bin:/bin", "STUB_LOG": str(log), "HOME": str(tmp_path),
           "CODEX_HOME": str(home), "ROLLOUT_DOCTOR_HOME": str(tmp_path / "state"), "ROLLOUT_DOCTOR_STRICT": "1"}
    done = run_shell(shell, f"codex exec resume {session_id_of(DROPPED)} 'go on'; echo status={status(shell)}", env)
    assert done.stdout.strip() == "status=0" and "resumes, but Codex skips records" in done.stderr
    assert logged(log) == [["codex", "exec", "resume", session_id_of(DROPPED), "go on"]]
    log.unlink()
    done = run_shell(shell, f"codex exec resume {session_id_of(REFUSED)} 'go on'; echo status={status(shell)}", env)
    assert done.stdout.strip() == "status=1" and "will not resume" in done.stderr
    assert logged(log) == [], "codex never started"


@pytest.mark.parametrize("shell", SHELLS)
def test_the_wrapper_runs_the_real_guard_before_codex(shell: str, tmp_path: Path) -> None:
    """Real rollout-doctor, stand-in codex that records whether the session was already fixed."""
    home = tmp_path / "codex-home"
    path = install(home, INTERRUPTED_OLD)
    folder = stubs(tmp_path, ("codex",))
    (folder / "codex").write_text(LOGGER.replace("name=$(basename \"$0\")",
                                                 f"name=$(basename \"$0\"); grep -c aborted {path} >> \"$STUB_LOG.seen\""))
    env = {"PATH": f"{folder}:{BIN}:/usr/bin:/bin", "STUB_LOG": str(tmp_path / "log"), "HOME": str(tmp_path),
           "CODEX_HOME": str(home), "ROLLOUT_DOCTOR_HOME": str(tmp_path / "state")}
    done = run_shell(shell, f"codex exec resume {session_id_of(INTERRUPTED_OLD)} 'go on'", env)
    assert done.returncode == 0, done.stderr
    assert "fixed 1 problem(s) (orphan-call); ready to resume" in done.stderr
    assert (tmp_path / "log.seen").read_text() == "1\n", "codex started after the fix was written"
    assert logged(tmp_path / "log") == [["codex", "exec", "resume", session_id_of(INTERRUPTED_OLD), "go on"]]


def test_the_fast_parser_and_the_typer_command_take_the_same_options(capsys: pytest.CaptureFixture[str]) -> None:
    import typer.main

    command = typer.main.get_command(app).commands["guard"]  # type: ignore[attr-defined]
    typer_options = {opt for param in command.params for opt in param.opts if opt.startswith("-")} - {"-h", "--help"}
    fast_options = {opt for action in parser_for("guard")._actions for opt in action.option_strings}
    assert typer_options == fast_options
    assert main(["guard", "--help"]) == 0
    assert "--order" in capsys.readouterr().out, "help comes from the typer command"


def test_the_typer_guard_command_runs_the_same_guard(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rollout_doctor.cli.app import main as typer_main

    install(home, INTERRUPTED_OLD)
    assert typer_main(["guard", "--ignore", "orphan-call", session_id_of(INTERRUPTED_OLD)]) == 0
    assert typer_main(["pre-resume", "--", "exec", "resume", session_id_of(INTERRUPTED_OLD), "go"]) == 0
    err = capsys.readouterr().err
    # With orphan-call ignored the orphan call is not looked at: no "ready to resume" for that.
    assert err.splitlines()[0].endswith("(RD101 did not run: not a full check)")
    assert "fixed 1 problem(s) (orphan-call); ready to resume; undo" in err.splitlines()[1]


def test_shell_init_prints_each_wrapper_and_refuses_others(capsys: pytest.CaptureFixture[str]) -> None:
    from rollout_doctor.formats.claude.shell import wrapper as claude_wrapper

    for shell in ("bash", "zsh", "fish"):
        assert main(["shell-init", shell]) == 0
        assert capsys.readouterr().out == wrapper(shell) + "\n" + claude_wrapper(shell)
    assert main(["shell-init", "tcsh"]) == 2


@pytest.mark.codex
def test_the_bash_wrapper_makes_the_8479_session_resume_on_real_codex(
    codex_home: CodexHome, loopback: LoopbackServer
) -> None:
    """#8479: 0.77.0 on the Chat wire refuses this session on every resume; through the wrapper it resumes."""
    codex_home.configure(loopback.base_url, wire="chat", model_catalog=False)
    installed = codex_home.install_rollout(CHAT_PARALLEL)
    real_codex = codex_home.root / "bin"
    real_codex.mkdir()
    (real_codex / "codex").symlink_to(codex_binary(OLD))
    loopback.push([say("resumed")])
    env = {**codex_home.env(), "PATH": f"{real_codex}:{BIN}:/usr/bin:/bin",
           "ROLLOUT_DOCTOR_HOME": str(codex_home.root / "state")}
    command = f"codex exec --skip-git-repo-check -s danger-full-access resume {session_id_of(CHAT_PARALLEL)} continue"
    init = subprocess.run([sys.executable, "-m", "rollout_doctor", "shell-init", "bash"], capture_output=True,
                          text=True, check=True).stdout
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", f"{init}\n{command}"], cwd=codex_home.workdir,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert "(chat-adjacency)" in done.stderr
    assert done.returncode == 0, done.stderr
    (request,) = loopback.model_requests
    assert request.status == 200
    assert installed.read_bytes() != CHAT_PARALLEL.read_bytes()


def test_ctrl_c_in_a_fast_path_answers_130_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from rollout_doctor.cli import fastpath
    from rollout_doctor.cli.commands import guard

    def interrupted(_args: list[str]) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(fastpath, "fast_guard", interrupted)
    monkeypatch.setattr(guard, "pre_resume", interrupted)
    assert main(["guard", "--last"]) == 130
    assert main(["pre-resume", "resume"]) == 130
