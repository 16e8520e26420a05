"""One parameter table (cli/options.py) behind both parsers: typer's commands and the argparse fast path
read the same values from the same arguments, and the fast path stays free of typer, click and rich."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from rollout_doctor.cli.fastpath import parser_for
from rollout_doctor.cli.options import PARAMS
from rollout_doctor.formats.codex import CODEX

ROOT = Path(__file__).resolve().parents[1]
CLEAN = next((ROOT / "fixtures" / "real" / "0.77.0-responses-single-call").glob("rollout-*.jsonl"))


def typer_values(command: str, args: list[str]) -> dict[str, Any]:
    import typer.main

    from rollout_doctor.cli.app import app

    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    return click_command.make_context(command, list(args)).params


def plain(value: Any) -> Any:
    """A parsed value as the commands receive it: an enum member by its value, no values as None."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return list(value) or None
    return value


@pytest.mark.parametrize(("command", "args"), [
    pytest.param("check", [], id="check-defaults"),
    pytest.param("check", ["--format", "json", "--target", "chat", "a.jsonl", "b"], id="check-choices"),
    pytest.param("check", ["--select", "orphan-call,RD203", "--select", "x", "--ignore", "y"], id="check-rules"),
    pytest.param("check", ["--target=responses", "--format=text"], id="check-equals"),
    pytest.param("check", ["--format", "full", "a.jsonl"], id="check-full"),
    pytest.param("list", ["--stuck", "--cwd", ".", "--since", "2d", "--format", "full", "a", "b"], id="list-filters"),
    pytest.param("list", [], id="list-plain"),
    pytest.param("check", ["--statistics", "--exit-zero", "-q", "--select", "RD1", "--ignore", "RD10"],
                 id="check-ruff-habits"),
    pytest.param("check", ["--quiet", "--statistics", "--format", "json", "x"], id="check-quiet-json"),
    pytest.param("guard", ["--last"], id="guard-last"),
    pytest.param("guard", ["SESSION", "-q", "--target", "chat", "--ignore", "orphan-call"], id="guard-session"),
    pytest.param("guard", ["--last", "--all", "--order", "created", "--quiet", "--select", "ALL"], id="guard-all"),
    pytest.param("guard", ["01a1fea1", "--force"], id="guard-prefix-force"),
])
def test_both_parsers_read_the_same_values(command: str, args: list[str]) -> None:
    fast = vars(parser_for(command).parse_args(args))
    assert {name: plain(value) for name, value in fast.items()} == {
        name: plain(value) for name, value in typer_values(command, args).items()}


@pytest.mark.parametrize("command", ["check", "guard"])
def test_both_parsers_give_each_option_the_same_help(command: str) -> None:
    import typer.main

    from rollout_doctor.cli.app import app

    typer_help = {param.name: param.help for param in typer.main.get_command(app).commands[command].params}
    fast_help = {action.dest: action.help for action in parser_for(command)._actions}
    assert fast_help == typer_help


def test_target_takes_the_formats_wires() -> None:
    (target,) = [action for action in parser_for("check")._actions if action.dest == "target"]
    assert tuple(target.choices) == CODEX.targets  # type: ignore[arg-type]
    assert [param.choice_values() for param in PARAMS if param.dest == "target"] == [CODEX.targets]


def test_each_command_function_takes_its_parameters_from_the_table() -> None:
    """app.py refuses a command whose function's parameters are not the table's; every command has one."""
    import typer.main

    from rollout_doctor.cli.app import app

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for param in PARAMS:
        for command in param.commands:
            assert param.dest in {p.name for p in commands[command].params}, (command, param.dest)


@pytest.mark.parametrize(("argv", "absent"), [
    pytest.param(["check", "--format", "json", "{file}"], ("typer", "click", "rich"), id="check-json"),
    pytest.param(["check", "{file}"], ("typer", "click"), id="check-text"),  # rich prints the report
    pytest.param(["check", "--statistics", "--exit-zero", "--format", "json", "{file}"], ("typer", "click", "rich"),
                 id="check-statistics-json"),
    pytest.param(["check", "-q", "--select", "RD1", "{file}"], ("typer", "click", "rich"), id="check-quiet-clean"),
    pytest.param(["guard", "{session}"], ("typer", "click", "rich"), id="guard"),
    # typer's pydantic and click are 13 MiB of a 1 GB fix's 100 MiB (fastpath.fast_fix)
    pytest.param(["fix", "--dry-run", "{file}"], ("typer", "click", "pydantic"), id="fix-dry-run"),
])
def test_the_fast_path_imports_no_parser_or_terminal_library_it_does_not_need(
    tmp_path: Path, argv: list[str], absent: tuple[str, ...]
) -> None:
    home = tmp_path / "codex-home"
    installed = home / "sessions" / "2026" / "11" / "21" / CLEAN.name
    installed.parent.mkdir(parents=True)
    shutil.copyfile(CLEAN, installed)
    session = CLEAN.stem[-36:]
    args = [arg.format(file=installed, session=session) for arg in argv]
    code = ("import sys; from rollout_doctor.cli.main import main; code = main(sys.argv[1:]); sys.stdout.flush(); "
            f"print('IMPORTED', sorted(m for m in {absent!r} if m in sys.modules)); sys.exit(code)")
    env = {**os.environ, "CODEX_HOME": str(home), "ROLLOUT_DOCTOR_HOME": str(tmp_path / "state"), "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, env=env, cwd=tmp_path,
                          check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().rstrip().endswith("IMPORTED []"), done.stdout.decode()[-300:]


# What a check or a guard before a resume need not import (issue 14: their start-up is most of a warm
# re-check): shutil (and bz2, lzma, zlib with it), tempfile (and random), threading, argparse (for words
# spelt plainly: fastpath.plain_values), the progress line for a JSON report, Claude Code's reader when
# no transcript is read. And the only dataclasses made at start-up: the records, whose fields the index
# cache packs by (core/index_cache.py), and Options, which the report cache keys by its fields
# (core/report_cache.py), both with methods of their own (core/plain.Fielded, tests/test_plain.py); any
# other class is a core/plain.py class, whose methods @dataclass does not compile at every start-up.
NOT_AT_START_UP = ("shutil", "tempfile", "random", "threading", "bz2", "lzma", "zlib", "argparse", "gettext",
                   "rollout_doctor.cli.progress",
                   "rollout_doctor.formats.claude.classify", "rollout_doctor.formats.claude.records",
                   "rollout_doctor.formats.claude.transcript")
DATACLASSES_AT_START_UP = {
    "rollout_doctor.formats.codex.records": {"Item", "Meta", "HistoryBase", "Compacted", "Event", "Invalid",
                                             "LineFacts"},
    "rollout_doctor.core.rules": {"Options"},
}


@pytest.mark.parametrize("argv", [
    pytest.param(["check", "--format", "json", "{file}"], id="check-json"),
    pytest.param(["check", "--format", "json", "{folder}"], id="check-folder-json"),
    pytest.param(["guard", "{session}"], id="guard"),
    pytest.param(["list", "--format", "json"], id="list-json"),
])
def test_a_check_or_guard_imports_only_what_it_uses(tmp_path: Path, argv: list[str]) -> None:
    home = tmp_path / "codex-home"
    installed = home / "sessions" / "2026" / "11" / "21" / CLEAN.name
    installed.parent.mkdir(parents=True)
    shutil.copyfile(CLEAN, installed)
    args = [arg.format(file=installed, folder=home / "sessions", session=CLEAN.stem[-36:]) for arg in argv]
    code = ("import dataclasses, sys\n"
            "made = []\n"
            "process = dataclasses._process_class\n"
            "def counted(cls, *args, **kwargs):\n"
            "    made.append((cls.__module__, cls.__qualname__))\n"
            "    return process(cls, *args, **kwargs)\n"
            "dataclasses._process_class = counted\n"
            "from rollout_doctor.cli.main import main\n"
            "code = main(sys.argv[1:]); sys.stdout.flush()\n"
            f"print('IMPORTED', sorted(m for m in {NOT_AT_START_UP!r} if m in sys.modules))\n"
            "print('DATACLASSES', sorted(made))\n"
            "sys.exit(code)")
    env = {**os.environ, "CODEX_HOME": str(home), "ROLLOUT_DOCTOR_HOME": str(tmp_path / "state"),
           "ROLLOUT_DOCTOR_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, env=env, cwd=tmp_path,
                          check=False, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2] == "IMPORTED []", lines[-2]
    made = ast.literal_eval(lines[-1].removeprefix("DATACLASSES "))
    assert made, "the counting hook saw no dataclass at all: it no longer measures anything"
    unexpected = [(module, name) for module, name in made if name not in DATACLASSES_AT_START_UP.get(module, ())]
    assert unexpected == [], unexpected


def test_a_later_console_is_made_when_first_used_and_takes_what_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """fix's consoles (rich: 6 MiB of a 1 GB fix's peak) are made when something is printed; a setting
    made through one (render.print_summary sets soft_wrap) reaches the console itself."""
    from rollout_doctor.cli import render
    from rollout_doctor.cli.commands.fix import LaterConsole

    made: list[bool] = []
    real = render.console

    def console(stderr: bool = False) -> Any:
        made.append(stderr)
        return real(stderr=stderr)

    monkeypatch.setattr(render, "console", console)
    later = LaterConsole(stderr=True)
    assert made == []
    later.soft_wrap = False
    assert made == [True] and later.soft_wrap is False
    later.soft_wrap = True
    assert later.soft_wrap is True and made == [True]
