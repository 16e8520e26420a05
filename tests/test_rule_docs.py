"""A rule's documentation as a person reads it: `rule NAME` and `rule --all` rendered for a terminal with
rich (headings, code, inline code), as plain text in a pipe or under NO_COLOR, and as Markdown in the
README, whose "Rules" section scripts/rules_markdown.py writes and this file keeps in sync."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from rollout_doctor.cli.rule_docs import Block, blocks
from rollout_doctor.formats import known
from rollout_doctor.formats.claude import CLAUDE
from rollout_doctor.formats.codex import CODEX
from tests.support.cli import isolate, run

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(autouse=True)
def plain_pipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(tmp_path, monkeypatch)
    monkeypatch.setenv("COLUMNS", "100")
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("doc", "expected"), [
    pytest.param("Title.\n\nWhat it checks: a ``call``\nand more.", [
        Block("text", "Title."), Block("text", "a ``call``\nand more.", "What it checks")], id="label"),
    pytest.param("T.\n\nExample::\n\n    {\"a\": 1}\n      {\"b\": 2}\n\nAfter.", [
        Block("text", "T."), Block("text", "", "Example"), Block("code", '{"a": 1}\n  {"b": 2}'),
        Block("text", "After.")], id="literal-block"),
    pytest.param("T.\n\nExample::\n\n    one\n\n    two", [
        Block("text", "T."), Block("text", "", "Example"), Block("code", "one\n\ntwo")], id="blank-line-in-code"),
    pytest.param("T.\n\nIt reads as follows::\n\n    x", [
        Block("text", "T."), Block("text", "It reads as follows:"), Block("code", "x")], id="text-then-code"),
    pytest.param("T.\n\n* first,\n  wrapped\n* second", [
        Block("text", "T."), Block("item", "first,\nwrapped"), Block("item", "second")], id="list"),
    pytest.param("T.\n\nWhich release will resume a file is not written in it: x", [
        Block("text", "T."), Block("text", "Which release will resume a file is not written in it: x")],
        id="a-sentence-is-no-label"),
])
def test_blocks_read_the_docstrings_restructuredtext(doc: str, expected: list[Block]) -> None:
    assert blocks(doc) == expected


def test_rule_in_a_pipe_is_plain_text_without_restructuredtext(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "rule", "orphan-call")
    assert code == 0 and not ANSI.search(out)
    assert out.startswith("RD101 orphan-call\nA call that never got an output.\nFix safety: safe: ")
    assert "``" not in out and "Example::" not in out
    assert "\nWhat it checks\nA `function_call`, `custom_tool_call`" in out
    assert '\nExample\n    {"type":"response_item","payload":{"type":"function_call","name":"shell","call_id":"call_A",...}}\n' in out
    assert all(len(line) <= 100 for line in out.splitlines() if not line.startswith("    "))


def test_rule_on_a_colour_terminal_is_rendered_with_rich(capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    code, out, _err = run(capsys, "rule", "RD101")
    assert code == 0 and ANSI.search(out)
    text = ANSI.sub("", out)
    assert "``" not in text and "`function_call`" not in text, "inline code is styled, not quoted"
    assert "\x1b[1;4mWhat it checks\x1b[0m" in out, "labels are headings"
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _err = run(capsys, "rule", "RD101")
    assert not ANSI.search(out) and "`function_call`" in out


def test_rule_all_documents_every_rule_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "rule", "--all")
    assert code == 0
    headings = re.findall(r"^([A-Z]{2}\d{3}) ([a-z-]+)$", out, re.MULTILINE)
    every = [rule for fmt in known() for rule in fmt.rules]
    assert headings == [(rule.code, rule.name) for rule in every]
    assert out.count("\nWhy it breaks a resume\n") == len(every)


@pytest.mark.parametrize("argv", [["rule"], ["rule", "RD101", "--all"], ["rule", "RD999"]],
                         ids=["neither", "both", "unknown"])
def test_rule_needs_one_name_or_all(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _out, err = run(capsys, *argv)
    assert code == 2 and "Traceback" not in err


def test_the_readme_holds_the_generated_rule_section() -> None:
    spec = importlib.util.spec_from_file_location("rules_markdown", ROOT / "scripts" / "rules_markdown.py")
    script = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(script)  # type: ignore[union-attr]
    readme = (ROOT / "README.md").read_text()
    assert script.in_readme(readme) == script.generated(), "run: python scripts/rules_markdown.py --write"
    assert script.in_readme(readme, claude=True) == script.generated(claude=True)
    for rule in [*CODEX.rules, *CLAUDE.rules]:
        assert f"| {rule.code} | `{rule.name}` |" in readme
        assert f"<details><summary><code>{rule.code}</code> <code>{rule.name}</code>" in readme
    prose = re.sub(r"^```\n.*?^```\n", "", script.generated(), flags=re.MULTILINE | re.DOTALL)
    assert "``" not in prose and "Example::" not in prose and "**Example:**" in prose
