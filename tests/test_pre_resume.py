"""`rollout-doctor pre-resume` guards the session the codex command line opens: `-c` overrides, `--profile`,
`--all`, `-C`, the TUI's `--last` and its picker (docs/codex-facts.md, "Which session a resume opens").

Tables for the argument reader and the settings; then real 0.171.0 rollouts in a sealed CODEX_HOME,
moved to this test's folders, providers and sources, so that each way of resuming has one right answer.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from rollout_doctor.cli.main import main
from rollout_doctor.formats.codex.codex_args import ResumeRequest, resume_request
from rollout_doctor.formats.codex.config import session_wire
from rollout_doctor.formats.codex.config_layers import parse_override, resume_settings
from tests.support.breakers import BREAKERS
from tests.support.codex_run import real_fixture, session_id_of

ID = "01a1fe9f-a2fa-7091-8dab-b019fa49b280"
CLEAN = real_fixture("0.171.0-responses-single-call")
RECORDED_IN = re.compile(rb"/tmp/rollout-doctor-record/[^\"/<]+/work")


def request(*argv: str) -> ResumeRequest | None:
    return resume_request(list(argv))


# --- what the command line asks for ----------------------------------------------------------------

@pytest.mark.parametrize(("argv", "expected"), [
    pytest.param(["-c", 'model_provider="oss"', "resume", "--last"],
                 ResumeRequest(None, True, False, False, config=('model_provider="oss"',)), id="c-root"),
    pytest.param(["exec", "resume", "--last", "-c", 'model_providers.x.wire_api="chat"', "go"],
                 ResumeRequest(None, True, False, True, config=('model_providers.x.wire_api="chat"',)),
                 id="c-after-last-and-the-prompt-is-no-session"),
    pytest.param(["-cmodel_provider=a", "--config=b=1", "-c=c=2", "resume", ID],
                 ResumeRequest(ID, False, False, False, config=("model_provider=a", "b=1", "c=2")),
                 id="glued-values-in-order"),
    pytest.param(["-p", "work", "exec", "resume", "--last"],
                 ResumeRequest(None, True, False, True, profile="work", profile_before_exec=True),
                 id="profile-before-exec"),
    pytest.param(["exec", "-p", "work", "resume", "--last"],
                 ResumeRequest(None, True, False, True, profile="work"), id="profile-of-exec"),
    pytest.param(["-C", "/w", "resume", "--all"], ResumeRequest(None, False, True, False, cd="/w"),
                 id="the-picker-of-every-folder"),
    pytest.param(["resume", "--include-non-interactive", "--cd=/w"],
                 ResumeRequest(None, False, False, False, cd="/w", include_non_interactive=True),
                 id="the-picker-with-exec-sessions"),
    pytest.param(["--oss", "--local-provider", "ollama", "resume", "--last"],
                 ResumeRequest(None, True, False, False, oss=True, local_provider="ollama"), id="oss"),
    pytest.param(["exec", "--ignore-user-config", "resume", ID],
                 ResumeRequest(ID, False, False, True, ignore_user_config=True), id="ignore-user-config"),
    pytest.param(["--remote", "ws://127.0.0.1:9", "resume", "--last"],
                 ResumeRequest(None, True, False, False, remote="ws://127.0.0.1:9"), id="remote"),
    pytest.param(["exec", "resume"], None, id="exec-resume-has-no-picker"),
    pytest.param(["exec", "-i", "a.png", "resume", ID], None, id="images-take-the-words-that-follow"),
    pytest.param(["-i", "a.png", "b.png", "resume", ID], None, id="images-before-resume"),
    pytest.param(["resume", "-i", "a.png", ID], ResumeRequest(None, False, False, False),
                 id="tui-resume-images-take-the-id-too"),
    pytest.param(["exec", "resume", "-i", "a.png", ID], ResumeRequest(ID, False, False, True),
                 id="exec-resume-takes-one-image"),
    pytest.param(["exec", "resume", "--last", "--all", "-s", "read-only", "--json"],
                 ResumeRequest(None, True, True, True), id="exec-last-all"),
])
def test_resume_request_reads_every_option_that_chooses_the_session(
    argv: list[str], expected: ResumeRequest | None
) -> None:
    assert request(*argv) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    pytest.param('model_provider="oss"', (["model_provider"], "oss"), id="toml-string"),
    pytest.param("model_provider=oss", (["model_provider"], "oss"), id="bare-word-is-a-string"),
    pytest.param(' model_provider = "oss" ', (["model_provider"], "oss"), id="spaces-trimmed"),
    pytest.param('model_providers.x.wire_api="chat"', (["model_providers", "x", "wire_api"], "chat"), id="dotted"),
    pytest.param("a=[1, 2]", (["a"], [1, 2]), id="array"),
    pytest.param("a=x=y", (["a"], "x=y"), id="first-equals-splits"),
    pytest.param("a='unterminated", (["a"], "unterminated"), id="quotes-dropped-when-not-toml"),
    pytest.param("no-equals", None, id="not-an-override"),
    pytest.param("=1", None, id="no-key"),
])
def test_overrides_are_read_as_codex_reads_them(raw: str, expected: object) -> None:
    assert parse_override(raw) == expected


# --- the settings the command line runs with ----------------------------------------------------------

TWO_PROVIDERS = ('model_provider = "judge"\n[model_providers.judge]\nwire_api = "responses"\n'
                 '[model_providers.other]\nwire_api = "responses"\n')
LEGACY_WORK = '\n[profiles.work]\nmodel_provider = "other"\n'


@pytest.mark.parametrize(("config", "profile_file", "argv", "provider"), [
    pytest.param(TWO_PROVIDERS, None, ["resume", "--last"], "judge", id="config-toml"),
    pytest.param(TWO_PROVIDERS, None, ["-c", "model_provider=other", "resume", "--last"], "other", id="c"),
    pytest.param(TWO_PROVIDERS, None, ["-c", "model_provider=other", "exec", "resume", "-c",
                                       'model_provider="judge"', "--last"], "judge", id="the-later-c-wins"),
    pytest.param(TWO_PROVIDERS, 'model_provider = "other"\n', ["-p", "work", "exec", "resume", "--last"], "other",
                 id="2026-profile-file-before-exec"),
    pytest.param(TWO_PROVIDERS, 'model_provider = "other"\n',
                 ["exec", "-p", "work", "-c", 'model_provider="judge"', "resume", "--last"], "judge",
                 id="2026-c-beats-the-profile-file"),
    pytest.param(TWO_PROVIDERS + LEGACY_WORK, None,
                 ["exec", "-p", "work", "-c", 'model_provider="judge"', "resume", "--last"], "other",
                 id="0.77-profile-table-beats-c"),
    pytest.param(TWO_PROVIDERS + LEGACY_WORK, None, ["-p", "work", "exec", "resume", "--last"], "judge",
                 id="0.77-ignores-profile-before-exec"),
    pytest.param(TWO_PROVIDERS + LEGACY_WORK, None, ["-c", 'profile="work"', "exec", "resume", "--last"], "other",
                 id="0.77-profile-key-from-c"),
    pytest.param(TWO_PROVIDERS + LEGACY_WORK, None, ["exec", "-c", 'profiles.work.model_provider="judge"',
                                                     "-p", "work", "resume", "--last"], "judge",
                 id="0.77-c-into-the-profile-table"),
    pytest.param(TWO_PROVIDERS, None, ["--oss", "--local-provider", "ollama", "resume", "--last"], "ollama",
                 id="oss-local-provider"),
    pytest.param('oss_provider = "lmstudio"\n' + TWO_PROVIDERS, None, ["--oss", "resume", "--last"], "lmstudio",
                 id="oss-from-config"),
    pytest.param(TWO_PROVIDERS, None, ["exec", "--ignore-user-config", "resume", "--last"], "openai",
                 id="ignore-user-config"),
])
def test_the_provider_a_command_line_resumes_with(
    tmp_path: Path, config: str, profile_file: str | None, argv: list[str], provider: str
) -> None:
    (tmp_path / "config.toml").write_text(config)
    if profile_file is not None:
        (tmp_path / "work.config.toml").write_text(profile_file)
    parsed = request(*argv)
    assert parsed is not None
    assert resume_settings(parsed, tmp_path).provider == provider


def test_overrides_decide_the_wire_too(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(TWO_PROVIDERS)
    for argv, wire in ((["resume", ID], "responses"),
                       (["-c", 'model_providers.judge.wire_api="chat"', "resume", ID], "chat"),
                       (["-c", "model_provider=other", "-c", "model_providers.other.wire_api=chat", "resume", ID],
                        "chat")):
        settings = resume_settings(request(*argv), tmp_path)  # type: ignore[arg-type]
        assert session_wire("judge", config=settings.config, provider=settings.provider) == wire, argv


# --- real rollouts in a sealed CODEX_HOME --------------------------------------------------------------

@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    codex_home = tmp_path / "codex-home"
    (codex_home / "sessions").mkdir(parents=True)
    (codex_home / "config.toml").write_text(TWO_PROVIDERS)
    for folder in ("here", "elsewhere"):
        (tmp_path / folder).mkdir()
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path / "here")
    return codex_home


def add_session(home: Path, n: int, *, source: str = "cli", provider: str = "judge", folder: str = "here",
                broken: bool = False) -> str:
    """A copy of a real 0.171.0 rollout as session ``n`` (newer with n), recorded in ``folder`` of the
    test, by ``provider``, from ``source``; its mtime n minutes after a fixed time."""
    thread = f"01a1fe9f-{n:04x}-7000-8000-{n:012x}"
    data = CLEAN.read_bytes().replace(session_id_of(CLEAN).encode(), thread.encode())
    if broken:
        data = BREAKERS["orphan-call"](data).data  # its call's output line removed (#16255)
    data = RECORDED_IN.sub(str(home.parent / folder).encode(), data)
    data = data.replace(b'"model_provider":"judge"', f'"model_provider":"{provider}"'.encode())
    data = data.replace(b'"model_provider_id":"judge"', f'"model_provider_id":"{provider}"'.encode())
    first, rest = data.split(b"\n", 1)
    data = first.replace(b'"source":"exec"', f'"source":"{source}"'.encode()) + b"\n" + rest
    path = home / "sessions" / "2026" / "11" / "29" / f"rollout-2026-11-29T06-{n:02d}-00-{thread}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (1_800_000_000 + 60 * n,) * 2)
    return thread


def pre_resume(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["pre-resume", "--", *argv])
    captured = capsys.readouterr()
    assert captured.out == "", "stdout belongs to codex"
    return code, captured.err


def test_exec_last_follows_c_model_provider(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    judge = add_session(home, 1, source="exec")
    other = add_session(home, 2, source="exec", provider="other", broken=True)
    add_session(home, 3, source="exec", folder="elsewhere")
    code, err = pre_resume(capsys, "exec", "resume", "--last", "go")
    assert code == 0 and judge in err, "config.toml's provider: the newest judge session here"
    code, err = pre_resume(capsys, "-c", 'model_provider="other"', "exec", "resume", "--last", "go")
    assert code == 0 and other in err and "fixed 1 problem(s) (orphan-call)" in err, err
    (home / "work.config.toml").write_text('model_provider = "other"\n')
    code, err = pre_resume(capsys, "-p", "work", "exec", "resume", "--last")
    assert code == 0 and other in err and "ready to resume" in err, "the fix above holds"


def test_exec_last_all_and_cd(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_session(home, 1, source="exec")
    elsewhere = add_session(home, 2, source="exec", folder="elsewhere")
    assert elsewhere not in pre_resume(capsys, "exec", "resume", "--last")[1]
    assert elsewhere in pre_resume(capsys, "exec", "resume", "--last", "--all")[1]
    assert elsewhere in pre_resume(capsys, "-C", str(home.parent / "elsewhere"), "exec", "resume", "--last")[1]
    code, err = pre_resume(capsys, "-c", "model_provider=nobody", "exec", "resume", "--last")
    assert code == 2 and "no sessions of provider 'nobody' in" in err and "add --all" in err


def test_tui_last_takes_the_newest_interactive_session_of_any_provider(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    interactive = add_session(home, 1, source="cli", provider="other")
    newest_exec = add_session(home, 2, source="exec")
    code, err = pre_resume(capsys, "resume", "--last")
    assert code == 0 and interactive in err, "0.169.0 and 0.171.0: cli and vscode sessions, any provider"
    assert newest_exec in pre_resume(capsys, "resume", "--last", "--include-non-interactive")[1]
    assert newest_exec in pre_resume(capsys, "exec", "resume", "--last")[1], "codex exec takes any source"


def test_the_picker_guards_its_first_page(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = add_session(home, 1, broken=True)
    add_session(home, 2, source="vscode", provider="other")
    add_session(home, 3, source="exec")  # not listed without --include-non-interactive
    add_session(home, 4, folder="elsewhere")  # listed with --all only
    code, err = pre_resume(capsys, "resume")
    lines = err.splitlines()
    assert code == 0 and len(lines) == 2, err
    assert lines[0].startswith("rollout-doctor: guarded the 2 newest interactive sessions in ")
    assert lines[0].endswith("(the picker's first page): 1 ready as they were, 1 below")
    assert broken in lines[1] and "fixed 1 problem(s) (orphan-call)" in lines[1]
    code, err = pre_resume(capsys, "resume", "--all", "--include-non-interactive")
    assert code == 0 and "guarded the 4 newest sessions in any folder" in err and "4 ready as they were" in err


def test_the_picker_page_is_codex_s_page(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    threads = [add_session(home, n) for n in range(1, 28)]
    code, err = pre_resume(capsys, "resume")
    assert code == 0 and "guarded the 25 newest" in err
    from rollout_doctor.formats.codex.last_session import INTERACTIVE_SOURCES, Wanted, newest

    page = newest(home, Wanted(None, Path.cwd(), INTERACTIVE_SOURCES), limit=25)
    assert [s.thread_id for s in page] == threads[::-1][:25], "newest mtime first"


def test_the_state_database_decides_with_its_source_column(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With Codex's state_5.sqlite the rows' `source` and `updated_at_ms` decide, not the files'."""
    older = add_session(home, 1, source="exec")
    newer = add_session(home, 2, source="exec")
    db = sqlite3.connect(home / "state_5.sqlite")
    db.execute("CREATE TABLE threads (id TEXT PRIMARY KEY, rollout_path TEXT, updated_at_ms INTEGER, cwd TEXT, "
               "model_provider TEXT, archived INTEGER, source TEXT)")
    db.execute("CREATE TABLE backfill_state (id INTEGER PRIMARY KEY, status TEXT)")
    db.execute("INSERT INTO backfill_state VALUES (1, 'complete')")
    for thread, ms, source in ((older, 2, "cli"), (newer, 1, "exec")):
        path = next(home.glob(f"sessions/*/*/*/*{thread}.jsonl"))
        db.execute("INSERT INTO threads VALUES (?, ?, ?, ?, 'judge', 0, ?)",
                   (thread, str(path), ms, str(home.parent / "here"), source))
    db.commit()
    db.close()
    assert older in pre_resume(capsys, "resume", "--last")[1], "the database says cli, the file exec"
    assert older in pre_resume(capsys, "exec", "resume", "--last")[1], "and its updated_at_ms is newer"


def test_remote_sessions_are_not_guarded(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_session(home, 1, broken=True)
    code, err = pre_resume(capsys, "--remote", "ws://127.0.0.1:9", "resume", "--last")
    assert code == 0 and "nothing here was guarded" in err


def test_the_wire_follows_the_override(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A -c that makes the provider speak Chat adds chat-adjacency: 0.77.0's parallel calls get reordered."""
    data = real_fixture("0.77.0-chat-parallel-calls").read_bytes()
    name = real_fixture("0.77.0-chat-parallel-calls").name
    path = home / "sessions" / "2026" / "11" / "21" / name
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    thread = session_id_of(path)
    assert "ready to resume" in pre_resume(capsys, "exec", "resume", thread)[1]
    code, err = pre_resume(capsys, "-c", 'model_providers.judge.wire_api="chat"', "exec", "resume", thread)
    assert code == 0 and "(chat-adjacency)" in err, err
    kinds = [json.loads(line)["payload"].get("type") for line in path.read_bytes().splitlines()]
    assert [k for k in kinds if k in ("function_call", "function_call_output")] == \
        ["function_call", "function_call_output"] * 2
