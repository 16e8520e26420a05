"""Sessions, not files, on the screen (issue 13): what a person reads of `check` and `list`.

Each session gets a header (short id, the name the user gave it, the verdict; its project folder, last
change, Codex release and size; its path, once), each problem one line that fits the width; the
sessions that will not resume come first with the command that fixes them. On sessions written by real
Codex (fixtures/real) and the rule cases (fixtures/cases), at COLUMNS=80.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import jsonschema
import orjson
import pytest

from rollout_doctor.cli.layout import cells
from tests.support.cli import isolate, run
from tests.support.codex_run import real_fixture, session_id_of
from tests.support.scenarios import NEW, OLD

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "fixtures" / "cases"
SCHEMA = orjson.loads((ROOT / "rollout_doctor" / "cli" / "schema" / "report.schema.json").read_bytes())
CLEAN = real_fixture(f"{NEW}-responses-single-call")
PATCHED = real_fixture(f"{OLD}-responses-interrupted-stream")  # an orphan call: Codex patches it in memory
REFUSED = next((CASES / "misplaced-output" / "output-first" / "envelope").glob("rollout-*.jsonl"))
DROPPED = next((CASES / "bad-output-shape" / "object-output-unsafe" / "envelope").glob("rollout-*.jsonl"))
DAY = 86400


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    codex_home = isolate(tmp_path, monkeypatch)
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield codex_home
    monkeypatch.undo()
    time.tzset()


def install(home: Path, source: Path, mtime: float, folder: str | None = None) -> Path:
    """``source`` as a session of ``home``, last changed at ``mtime``; with ``folder``, its latest
    turn_context says it works there (its session_meta keeps the folder it started in)."""
    target = home / "sessions" / "2026" / "11" / "21" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = source.read_bytes().splitlines(keepends=True)
    if folder is not None:  # the latest turn_context, else (the rule cases have none) the session_meta
        last = max((n for n, line in enumerate(lines) if b'"type":"turn_context"' in line), default=0)
        record = json.loads(lines[last])
        record["payload"]["cwd"] = folder
        lines[last] = json.dumps(record, separators=(",", ":")).encode() + b"\n"
    target.write_bytes(b"".join(lines))
    os.utime(target, (mtime, mtime))
    return target


def name(home: Path, source: Path, *names: str) -> None:
    """Entries in session_index.jsonl, as Codex appends them on every rename: the newest wins."""
    with open(home / "session_index.jsonl", "a") as index:
        index.writelines(json.dumps({"id": session_id_of(source), "thread_name": thread_name,
                                    "updated_at": "2026-11-21T15:00:00Z"}) + "\n" for thread_name in names)


# --- check ----------------------------------------------------------------------------------------


def test_each_session_gets_a_header_a_person_recognises(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    me = Path(os.environ["HOME"])
    path = install(home, PATCHED, 1_795_000_000, folder=str(me / "src" / "app"))
    name(home, PATCHED, "first try", "fix the flaky test")
    code, out, _ = run(capsys, "check")
    assert code == 1
    lines = out.splitlines()
    at = lines.index(f"{session_id_of(PATCHED)[:8]}  fix the flaky test  resumes, patched in memory")
    assert lines[at + 1] == "  ~/src/app · 2026-11-18 11:06 · Codex 0.77.0 · 7.9 KB"
    assert lines[at + 2] == f"  {path}", "the path once, whole"
    assert lines[at + 3].startswith("  8  RD101 orphan-call [*] function_call shell at line 8 never got an ")
    assert out.count(path.name) == 1


def test_a_problem_takes_one_line_that_fits_80_columns(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fixture with problems, the rule cases with messages up to 300 characters among them: each
    problem line, and each header line but the path, fits; what was cut ends with "…"."""
    isolate(tmp_path, monkeypatch)
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "check", "--target", "chat", str(ROOT / "fixtures"))
    assert code in (1, 2)
    lines = out.splitlines()
    problems = [line for line in lines if re.match(r"  +\d+  RD\d{3} [a-z-]+ ", line)]
    headers = [line for n, line in enumerate(lines) if re.match(r"[0-9a-f?]{8}  ", line)
               or re.match(r"  \S.* · ", line) and re.match(r"[0-9a-f?]{8}  ", lines[n - 1])]
    assert len(problems) > 150 and len(headers) > 2 * 90
    assert [line for line in problems + headers if cells(line) > 80] == []
    assert any(line.endswith("…") for line in problems)
    full = run(capsys, "check", "--target", "chat", "--format", "full", str(ROOT / "fixtures"))[1]
    assert max(cells(line) for line in full.splitlines()) > 80, "full: the whole messages"


def test_the_sessions_that_will_not_resume_come_first_with_the_command_that_fixes_them(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(home, PATCHED, 1_795_000_000)
    stuck = install(home, REFUSED, 1_795_000_100)
    name(home, REFUSED, "parallel race")
    code, out, _ = run(capsys, "check")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "Will not resume: 1 session(s)"
    assert lines[1].startswith(f"  {session_id_of(REFUSED)[:8]}  RD103 misplaced-output  parallel race  ")
    assert lines[2] == f"Fix: rollout-doctor fix {session_id_of(REFUSED)[:8]}", "named as codex resume names it"
    assert "Sessions: 1 will not resume, 1 resume with problems." in out
    _, report = json_report(capsys, "check")
    lead = report["will_not_resume"]
    assert list(report)[:2] == ["version", "will_not_resume"]
    assert lead["command"] == f"rollout-doctor fix {stuck}"
    assert lead["sessions"] == [{"path": str(stuck), "id": session_id_of(REFUSED), "name": "parallel race",
                                 "problems": ["RD103 misplaced-output"]}]


def test_a_session_is_named_by_id_or_unique_prefix_in_check_fix_and_list(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stuck = install(home, REFUSED, 1_795_000_100)
    install(home, CLEAN, 1_795_000_000)
    full_id = session_id_of(REFUSED)
    by_path = run(capsys, "check", str(stuck))
    for word in (full_id, full_id[:8], full_id[:13]):
        assert run(capsys, "check", word) == by_path, word
    code, out, _ = run(capsys, "list", full_id[:6])
    assert code == 1 and listed(out) == ids(REFUSED)
    code, out, _ = run(capsys, "fix", "--dry-run", full_id[:8])
    assert code == 1 and "dry run:" in out and stuck.read_bytes() == REFUSED.read_bytes()
    code, out, err = run(capsys, "check", "abcdef12")
    assert code == 2 and "abcdef12: no session named 'abcdef12'" in out + err and "no session id starts with it" in out + err


def test_a_session_named_twice_is_checked_once(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """By its folder, through a link to that folder and by its id: one file, one report."""
    stuck = install(home, REFUSED, 1_795_000_100)
    link = home.parent / "today"
    link.symlink_to(stuck.parent)
    _, report = json_report(capsys, "check", str(stuck.parent), str(link / stuck.name),
                            session_id_of(REFUSED)[:8])
    assert [f["path"] for f in report["files"]] == [str(stuck.parent / stuck.name)]


def test_the_fix_command_names_a_file_by_path_when_its_id_opens_another(
    home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A copy outside the home (or an older branch of a reverted thread) is not what its id opens:
    the command names the path, so that it fixes the file that was checked."""
    install(home, REFUSED, 1_795_000_100)
    elsewhere = tmp_path / "elsewhere" / REFUSED.name
    elsewhere.parent.mkdir()
    shutil.copyfile(REFUSED, elsewhere)
    code, out, _ = run(capsys, "check", str(elsewhere))
    assert code == 1 and f"Fix: rollout-doctor fix {elsewhere}" in out


def test_all_clear_only_when_every_session_resumes(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    install(home, CLEAN, 1_795_000_000)
    code, out, _ = run(capsys, "check")
    assert code == 0 and "All clear" in out and "Will not resume" not in out
    fork = sorted((ROOT / "fixtures" / "threads" / "0.171.0-fork").rglob("rollout-*.jsonl"))[1]
    install(home, fork, 1_795_000_100)  # its parent is not in this home
    code, out, _ = run(capsys, "check", "--ignore", "history-base")
    assert code == 0 and "All clear" not in out and "could not be judged" in out
    code, out, _ = run(capsys, "check")
    assert code == 1 and "RD205 history-base" in out.splitlines()[1], "Codex refuses it: it will not resume"


def json_report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, *argv, "--format", "json")
    report = orjson.loads(out)
    jsonschema.validate(report, SCHEMA)
    return code, report


def test_json_says_which_session_each_file_is_and_what_each_problem_does(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = install(home, DROPPED, 1_795_000_000, folder="/work/app")
    name(home, DROPPED, "shapes")
    _, report = json_report(capsys, "check")
    (entry,) = report["files"]
    assert entry["session"] == {
        "id": session_id_of(DROPPED), "short_id": session_id_of(DROPPED)[:8], "name": "shapes",
        "cwd": "/work/app", "updated": "2026-11-18T11:06:40Z", "size": path.stat().st_size,
        "verdict": "dropped", "resumes": True, "verdict_says": "resumes, but Codex skips records"}
    assert [d["effect"] for d in entry["diagnostics"]] == ["dropped"]
    assert report["summary"]["verdicts"] == {"dropped": 1}
    assert report["will_not_resume"] == {"sessions": [], "command": None, "no_fix": []}


# --- list -----------------------------------------------------------------------------------------


@pytest.fixture
def sessions(home: Path) -> dict[str, Path]:
    """Four sessions, a day apart, in two project folders."""
    me = os.environ["HOME"]
    now = time.time()
    return {
        "clean": install(home, CLEAN, now - 3 * DAY, folder=f"{me}/src/app"),
        "patched": install(home, PATCHED, now - 2 * DAY, folder=f"{me}/src/app"),
        "refused": install(home, REFUSED, now - 1 * DAY, folder=f"{me}/src/other"),
        "dropped": install(home, DROPPED, now - 600, folder=f"{me}/src/app"),
    }


def listed(out: str) -> list[str]:
    """The short ids of the listed sessions, in order."""
    return [line.split()[2] for line in out.splitlines() if line[:2] == "20"]


def ids(*sources: Path) -> list[str]:
    return [session_id_of(s)[:8] for s in sources]


def test_list_shows_every_session_newest_first(sessions: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 1, "a listed session has problems"
    assert listed(out) == ids(DROPPED, REFUSED, PATCHED, CLEAN)
    rows = {line.split()[2]: line for line in out.splitlines() if line[:2] == "20"}
    assert rows[ids(REFUSED)[0]].split()[3] == "refused" and rows[ids(CLEAN)[0]].split()[3] == "resumes"
    assert [line for line in out.splitlines() if cells(line) > 80 and not line.startswith("Fix: ")] == []
    assert out.splitlines()[-1] == f"Fix: rollout-doctor fix {ids(REFUSED)[0]}", "the command, whole"
    assert "refused: will not resume" in out.split("\n20")[-1], "what the verdicts mean, after the list"
    assert run(capsys, "sessions")[1] == out, "the alias"


def test_list_filters(sessions: dict[str, Path], capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert listed(run(capsys, "list", "--stuck")[1]) == ids(REFUSED)
    assert listed(run(capsys, "list", "--since", "36h")[1]) == ids(DROPPED, REFUSED)
    day = time.strftime("%Y-%m-%d", time.localtime(time.time() - 2 * DAY - 60))
    assert listed(run(capsys, "list", "--since", day)[1])[-1] == ids(PATCHED)[0]
    app = Path(os.environ["HOME"]) / "src" / "app"
    app.mkdir(parents=True)
    assert listed(run(capsys, "list", "--cwd", str(app))[1]) == ids(DROPPED, PATCHED, CLEAN)
    monkeypatch.chdir(app)
    assert listed(run(capsys, "list", "--cwd", ".")[1]) == ids(DROPPED, PATCHED, CLEAN)
    code, out, _ = run(capsys, "list", "--cwd", ".", "--stuck")
    assert (code, listed(out)) == (0, []) and "No session matches." in out
    assert run(capsys, "list", "--since", "last tuesday")[0] == 2


def test_list_json_is_the_report_of_the_listed_sessions(sessions: dict[str, Path],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, report = json_report(capsys, "list", "--stuck")
    assert code == 1
    assert [f["session"]["short_id"] for f in report["files"]] == ids(REFUSED)
    assert report["will_not_resume"]["command"] == f"rollout-doctor fix {sessions['refused']}"
    _, report = json_report(capsys, "list")
    assert [f["session"]["verdict"] for f in report["files"]] == ["dropped", "refused", "patched", "resumes"]


def test_list_runs_on_the_fast_path_without_typer(sessions: dict[str, Path], tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys; from rollout_doctor.cli.main import main; code = main(sys.argv[1:]); sys.stdout.flush(); "
            "print('TYPER', 'typer' in sys.modules); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, "list", "--stuck"], capture_output=True, text=True,
                          env=os.environ.copy(), check=False)
    assert done.returncode == 1, done.stderr
    assert done.stdout.rstrip().endswith("TYPER False") and ids(REFUSED)[0] in done.stdout


def test_shutil_terminal_width_is_not_what_cuts_a_line(home: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """COLUMNS decides, whatever the terminal: the layout is the same at every run."""
    install(home, PATCHED, 1_795_000_000)
    first = run(capsys, "check")[1]
    monkeypatch.setattr(shutil, "get_terminal_size", lambda *a, **k: os.terminal_size((200, 50)))
    assert run(capsys, "check")[1] == first


def test_a_file_that_cannot_be_read_is_unknown_never_clean(home: Path, capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    missing = tmp_path / "rollout-2026-11-21T15-00-00-01a1fe9f-0000-7000-8000-000000000000.jsonl"
    code, report = json_report(capsys, "check", str(missing))
    assert code == 2
    assert report["files"][0]["session"]["verdict"] == "unknown"
    assert report["files"][0]["session"]["resumes"] is False
    assert report["summary"]["verdicts"] == {"unknown": 1}
