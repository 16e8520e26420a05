"""The dependency direction cli -> formats -> core -> store, no terminal below cli, and inside cli one
direction with no cycle (main -> app | fastpath -> commands -> render | json_report -> options | process),
as declared in pyproject.toml and checked by import-linter (docs/ARCHITECTURE.md says why)."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def lint(config: Path, cwd: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    old = os.getcwd()
    os.chdir(cwd)
    sys.path.insert(0, str(cwd))
    try:
        code = lint_imports(config_filename=str(config), no_cache=True, no_logo=True)
    finally:
        sys.path.remove(str(cwd))
        os.chdir(old)
    return code, capsys.readouterr().out


def test_the_package_keeps_its_contracts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = lint(ROOT / "pyproject.toml", ROOT, capsys)
    assert code == 0, out
    assert "cli -> formats -> core -> store KEPT" in out
    assert "No terminal or command-line library below cli KEPT" in out
    assert "cli: main -> parsers -> commands -> output -> options KEPT" in out
    assert "No import cycle in cli KEPT" in out


# The modules of cli, as its layers contract names them (it is exhaustive: each must exist).
CLI_MODULES = ("main", "app", "fastpath", "commands/__init__", "render", "json_report", "options", "process",
               "session_text", "layout", "progress", "report_modes", "rule_docs", "completion", "run_cache",
               "run_inputs", "run_files")


def test_the_same_contracts_catch_an_import_against_the_direction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check can fail: the project's own contracts, applied to a package whose store imports
    core, whose core imports argparse, and whose cli's render imports the commands that import it,
    report each."""
    package = tmp_path / "rollout_doctor"
    modules = {"__init__": "", "cli/__init__": "", "formats/__init__": "", "core/__init__": "import argparse\n",
               "store/__init__": "from rollout_doctor import core\n", **{f"cli/{name}": "" for name in CLI_MODULES},
               "cli/render": "from rollout_doctor.cli import commands\n",
               "cli/commands/__init__": "from rollout_doctor.cli import render\n"}
    for name, body in modules.items():
        (package / f"{name}.py").parent.mkdir(parents=True, exist_ok=True)
        (package / f"{name}.py").write_text(body)
    config = (ROOT / "pyproject.toml").read_text()
    contracts = config[config.index("[tool.importlinter]"):]
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(contracts))
    saved = {name: module for name, module in sys.modules.items() if name.split(".")[0] == "rollout_doctor"}
    for name in saved:
        del sys.modules[name]
    try:
        code, out = lint(tmp_path / "pyproject.toml", tmp_path, capsys)
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == "rollout_doctor"]:
            del sys.modules[name]
        sys.modules.update(saved)
    assert code == 1, out
    assert "cli -> formats -> core -> store BROKEN" in out
    assert "rollout_doctor.store -> rollout_doctor.core" in out
    assert "No terminal or command-line library below cli BROKEN" in out
    assert "cli: main -> parsers -> commands -> output -> options BROKEN" in out
    assert "rollout_doctor.cli.render -> rollout_doctor.cli.commands" in out
    assert "No import cycle in cli BROKEN" in out
