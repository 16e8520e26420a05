"""Every command answers `--help` (also those the argparse fast path takes first), shell completion works
through that fast path, and every option a message tells the user to type exists on the command named."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rollout_doctor.cli.main import main as console_main
from rollout_doctor.cli.options import params_of
from tests.support.cli import isolate

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rollout_doctor"


def command_names() -> list[str]:
    """Every command of the app, hidden ones (pre-resume) too."""
    import typer.main

    from rollout_doctor.cli.app import app

    return sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


COMMANDS = command_names()
ROOT_OPTIONS = {"--version", "--help", "-h", "--show-completion", "--install-completion"}


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(tmp_path, monkeypatch)
    monkeypatch.setenv("COLUMNS", "120")


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_prints_its_help(command: str, flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = console_main([command, flag])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert out.startswith(f"Usage: rollout-doctor {command} "), out[:200]
    for param in params_of(command):
        assert all(flag in out for flag in param.flags), (command, param.flags)


def test_pre_resume_still_passes_codexs_own_help_to_codex(capsys: pytest.CaptureFixture[str]) -> None:
    """The wrapper calls `pre-resume -- codex words`: `codex resume --help` is codex's, not ours."""
    assert console_main(["pre-resume", "--", "resume", "--help"]) == 0
    assert capsys.readouterr() == ("", "")


def test_show_completion_prints_each_shells_script(capsys: pytest.CaptureFixture[str]) -> None:
    for shell, marker in (("bash", "complete -o default -F"), ("zsh", "#compdef rollout-doctor"),
                          ("fish", "complete --command rollout-doctor")):
        assert console_main(["--show-completion", shell]) == 0
        out = capsys.readouterr().out
        assert marker in out and "_ROLLOUT_DOCTOR_COMPLETE=complete_" + shell in out


def complete(words: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """What bash's completion function gets back for the command line ``words`` (cursor at its end)."""
    monkeypatch.setenv("_ROLLOUT_DOCTOR_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(len(words.split(" ")) - 1))
    assert console_main([]) == 0
    return capsys.readouterr().out.split()


@pytest.mark.parametrize(("words", "offered"), [
    pytest.param("rollout-doctor ch", ["check"], id="command"),
    pytest.param("rollout-doctor check --sta", ["--statistics"], id="check-option"),  # a fast-path command
    pytest.param("rollout-doctor check --target ", ["responses", "chat"], id="choice"),
    pytest.param("rollout-doctor undo --last", ["--last-run"], id="undo-option"),
    pytest.param("rollout-doctor guard --fo", ["--force"], id="guard-option"),
])
def test_completion_offers_what_fits(words: str, offered: list[str], monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert complete(words, monkeypatch, capsys) == offered


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_completion_in_a_real_bash(tmp_path: Path) -> None:
    """The script typer prints, sourced by bash, calling the console script as a shell would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "rollout-doctor").write_text(f'#!/bin/sh\nexec {sys.executable} -m rollout_doctor "$@"\n')
    (bin_dir / "rollout-doctor").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    script = ('eval "$(rollout-doctor --show-completion bash)"; COMP_WORDS=(rollout-doctor ch); COMP_CWORD=1; '
              '_rollout_doctor_completion rollout-doctor; echo "${COMPREPLY[*]}"')
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.strip() == "check", done.stderr


# `rollout-doctor CMD ... --opt` in a message, and a bare `--opt` in a message that belongs to one command
MENTION = re.compile(r"rollout-doctor ([a-z-]+)((?: [^`'\"\n|;)]*)?)")  # up to the end of the command line
OPTION = re.compile(r"(?<![\w-])(--?[a-z][a-z-]*)")
LONG_OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]*)")


def messages() -> list[tuple[str, str]]:
    """Every string constant in the package that is not a docstring, with the module it is in."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)}
        found += [(str(path.relative_to(ROOT)), node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]
    return found


def test_a_message_naming_a_command_names_only_its_options() -> None:
    wrong = []
    for where, text in messages():
        for command, rest in MENTION.findall(text):
            if command not in COMMANDS:
                continue
            known = {flag for param in params_of(command) for flag in param.flags} | ROOT_OPTIONS
            wrong += [(where, command, option) for option in OPTION.findall(rest) if option not in known]
    assert wrong == []


@pytest.mark.parametrize(("module", "commands"), [
    pytest.param("store", ("fix", "guard", "undo"), id="store: the writing commands"),
    pytest.param("formats/codex/guard.py", ("guard",), id="the guard's receipt"),
    pytest.param("core/fix_loop.py", ("fix", "guard"), id="why a fix was held back"),
    pytest.param("formats/codex/rules/", ("check", "fix", "guard"), id="the rules' diagnostics"),
])
def test_options_in_messages_of_the_writing_commands_exist_on_each(module: str, commands: tuple[str, ...]) -> None:
    """The store's refusals reach `fix`, `guard` and `undo` alike ("use --force"): each must have the option."""
    wrong = []
    for where, text in messages():
        if not where.startswith(f"rollout_doctor/{module}"):
            continue
        for option in LONG_OPTION.findall(re.sub(r"`[^`]*`", "", text)):  # `fix --unsafe-fixes`: named with its command
            wrong += [(where, command, option) for command in commands
                      if option not in {flag for param in params_of(command) for flag in param.flags}]
    assert wrong == []


def test_the_guards_refusal_names_force_and_guard_force_rewrites(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support.safety import holding

    day = tmp_path / "codex-home" / "sessions" / "2026" / "11" / "21"
    day.mkdir(parents=True)
    stuck = next((ROOT / "fixtures/real/0.77.0-responses-interrupted-stream").glob("rollout-*.jsonl"))
    path = day / stuck.name
    shutil.copyfile(stuck, path)
    with holding(path, "append"):  # a process that may still append to the session
        assert console_main(["guard", "01a1fea1"]) == 3
        err = capsys.readouterr().err
        assert "a running process may still write to it" in err and "use --force" in err
        assert path.read_bytes() == stuck.read_bytes()
        assert console_main(["guard", "--force", "01a1fea1"]) == 0
        assert "ready to resume" in capsys.readouterr().err and path.read_bytes() != stuck.read_bytes()
