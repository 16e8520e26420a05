"""The dependency direction cli -> formats -> core -> store, and no terminal below cli, as declared in
pyproject.toml and checked by import-linter (docs/ARCHITECTURE.md says why)."""

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


def test_the_same_contracts_catch_an_import_against_the_direction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check can fail: the project's own contracts, applied to a package whose store imports
    core and whose core imports argparse, report both."""
    package = tmp_path / "rollout_doctor"
    for layer, body in {"cli": "", "formats": "", "core": "import argparse\n",
                        "store": "from rollout_doctor import core\n"}.items():
        (package / layer).mkdir(parents=True)
        (package / layer / "__init__.py").write_text(body)
    (package / "__init__.py").write_text("")
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
