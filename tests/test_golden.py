"""What every command says, kept: the JSON reports of `check` and of `fix --dry-run --unsafe-fixes` for
every rollout in fixtures/, and the text output of every command on a few of them, recorded before the
code was reorganised (issue 12) and compared on every run since. A change of behaviour shows here first;
a deliberate one is recorded again with

    ROLLOUT_DOCTOR_GOLDEN=update python -m pytest tests/test_golden.py

and reviewed in the diff of tests/golden/.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from pathlib import Path

import orjson
import pytest

from rollout_doctor.cli.app import main

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("ROLLOUT_DOCTOR_GOLDEN") == "update"
ROLLOUTS = sorted(p.relative_to(ROOT) for p in (ROOT / "fixtures").rglob("rollout-*.jsonl*"))
# Files the text outputs are recorded on: a clean session, the two stuck ones of the README, a damaged
# one, and a fork whose parent lost an output.
TEXT_ON = ["fixtures/real/0.169.0-responses-single-call", "fixtures/real/0.77.0-responses-interrupted-stream",
           "fixtures/real/0.77.0-chat-parallel-calls", "fixtures/hostile/torn-then-glued"]


def normalise(text: str, tmp: Path) -> str:
    """Paths, times and process ids made the same from run to run."""
    text = text.replace(str(tmp), "<tmp>").replace(str(ROOT), "<repo>")
    text = re.sub(r"\d{8}T\d{6}-\d{9}-\d+(-\d+)?", "<backup>", text)
    text = re.sub(r"\d{8}T\d{6}\.\d{6}-\d+", "<run>", text)  # a run of fix or guard (undo --list)
    text = re.sub(r"transaction\(s\): [\d.]+ (bytes|kB|MB|GB) in", "transaction(s): <size> in", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "<time>", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "<local time>", text)  # a session's last change
    return re.sub(r"\.rollout-doctor-\d+-\w+\.tmp", ".rollout-doctor-<pid>.tmp", text)


def run(tmp: Path, *argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return normalise(f"$ rollout-doctor {' '.join(argv)}\n{out.getvalue()}{err.getvalue()}[exit {code}]\n", tmp)


@pytest.fixture
def quiet_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    return tmp_path


def compare(name: str, recorded: object) -> None:
    path = GOLDEN / name
    data = orjson.dumps(recorded, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data + b"\n")
        return
    kept = orjson.loads(path.read_bytes())
    assert recorded == kept, f"{name} differs from what was recorded (ROLLOUT_DOCTOR_GOLDEN=update to record anew)"


@pytest.mark.parametrize("command", ["check", "fix"])
def test_json_reports_of_every_fixture_are_unchanged(command: str, quiet_home: Path) -> None:
    reports = {}
    for rollout in ROLLOUTS:
        argv = ["check", "--format", "json"] if command == "check" else [
            "fix", "--dry-run", "--unsafe-fixes", "--format", "json"]
        text = run(quiet_home, *argv, str(rollout))
        body = text.split("\n", 1)[1].rsplit("[exit", 1)[0]
        exit_code = int(text.rsplit("[exit ", 1)[1].split("]")[0])
        reports[str(rollout)] = {"exit": exit_code, "report": orjson.loads(body[: body.rindex("}") + 1])}
    compare(f"{command}.json", reports)


def test_text_of_every_command_is_unchanged(quiet_home: Path) -> None:
    from rollout_doctor.formats.codex.rules import RULES

    texts = [run(quiet_home, "rules")]
    texts += [run(quiet_home, "rule", rule.code) for rule in RULES]
    texts += [run(quiet_home, "shell-init", shell) for shell in ("bash", "zsh", "fish")]
    for folder in TEXT_ON:
        texts.append(run(quiet_home, "check", folder))
        texts.append(run(quiet_home, "check", "--target", "chat", folder))
        texts.append(run(quiet_home, "fix", "--dry-run", "--unsafe-fixes", folder))
    home = quiet_home / "codex-home" / "sessions" / "2026" / "11" / "21"
    home.mkdir(parents=True)
    for folder in TEXT_ON[1:]:
        for rollout in (ROOT / folder).glob("rollout-*.jsonl"):
            shutil.copyfile(rollout, home / rollout.name)
    texts.append(run(quiet_home, "check"))
    texts.append(run(quiet_home, "check", "--statistics", "--target", "chat"))
    texts.append(run(quiet_home, "fix", "--diff"))
    texts.append(run(quiet_home, "undo", "--list"))
    for rollout in sorted(home.glob("rollout-*.jsonl")):
        texts.append(run(quiet_home, "undo", str(rollout)))
    texts.append(run(quiet_home, "guard", "01a1fea1-f2f8-7331-9a10-ca85f30b2a96"))
    texts.append(run(quiet_home, "guard", "01a1fea1-0000-7000-8000-000000000000"))
    compare("text.json", texts)
