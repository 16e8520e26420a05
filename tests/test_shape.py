"""Small, named pieces: no module of the package over ~300 lines, no function over 60 (the redesign's
promise, docs/ARCHITECTURE.md). A piece that outgrows them is split where it has a seam."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "rollout_doctor"
MODULE_LINES = 320  # "about 300": a module that holds one idea may run a screen over
FUNCTION_LINES = 60
MODULES = sorted(PACKAGE.rglob("*.py"))


def too_big(text: str) -> list[str]:
    """What in a module's source breaks the limits."""
    found = [f"{text.count(chr(10))} lines"] if text.count("\n") > MODULE_LINES else []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
            if length > FUNCTION_LINES:
                found.append(f"{node.name}: {length} lines")
    return found


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_modules_and_functions_stay_small(path: Path) -> None:
    assert too_big(path.read_text()) == []


def test_the_limits_are_enforced() -> None:
    def body(n: int) -> str:
        return "\n".join(f"    x{k} = {k}" for k in range(n))

    assert too_big(f"def short():\n{body(FUNCTION_LINES - 1)}\n") == []
    assert too_big(f"def long():\n{body(FUNCTION_LINES)}\n") == [f"long: {FUNCTION_LINES + 1} lines"]
    assert too_big("\n" * (MODULE_LINES + 1)) == [f"{MODULE_LINES + 1} lines"]
