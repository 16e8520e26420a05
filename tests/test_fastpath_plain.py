"""The fast path's reading of plainly spelt arguments (cli/fastpath.plain_values) is argparse's: for any
words, it either gives what parser_for(command) parses them to, or leaves them to argparse (None). It
must never give an answer argparse would not, nor take words argparse refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollout_doctor.cli.fastpath import Deferred, parser_for, plain_values
from rollout_doctor.cli.options import params_of

COMMANDS = ("check", "guard", "list", "fix")


def words_of(command: str) -> list[str]:
    """Every flag of the command, every choice, and words argparse reads in other ways."""
    words = ["sessions", "a.jsonl", "01a22604", "", " ", "json", "text", "full", "chat", "responses",
             "updated", "RD1", "orphan-call", "RD101,RD102", "2d", "3", "-1", "-", "--", "-x", "--nope",
             "--format=json", "-qq", "--no-cache=1", "--select="]
    for param in params_of(command):
        words += param.flags
        words += param.choice_values() or ()
    return words


def argparse_values(command: str, args: list[str]) -> dict[str, object] | None:
    try:
        return vars(parser_for(command, defer=True).parse_args(args))
    except Deferred:
        return None


def strict(values: dict[str, object] | None) -> object:
    """Values compared with their types: True == 1 and a tuple is no list, for the command receiving them."""
    return None if values is None else sorted((key, repr(value)) for key, value in values.items())


@pytest.mark.parametrize("command", COMMANDS)
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_plain_values_are_argparse_values_or_none(command: str, data: st.DataObject) -> None:
    args = data.draw(st.lists(st.sampled_from(words_of(command)), max_size=7))
    plain = plain_values(command, args)
    if plain is not None:
        assert strict(plain) == strict(argparse_values(command, args)), args


@pytest.mark.parametrize(("command", "args"), [
    pytest.param("guard", ["01a22604-79a0-7b73-aeac-0a86ea08aeac"], id="guard-id"),
    pytest.param("guard", ["--last"], id="guard-last"),
    pytest.param("check", ["--format", "json", "sessions"], id="check-json-folder"),
    pytest.param("check", ["a.jsonl"], id="check-file"),
    pytest.param("check", ["-q", "--select", "RD1", "--select", "orphan-call", "a.jsonl", "b.jsonl"], id="check-many"),
    pytest.param("check", [], id="check-home"),
    pytest.param("list", ["--format", "json", "--stuck"], id="list-json"),
    pytest.param("fix", ["a.jsonl"], id="fix-file"),
    pytest.param("fix", ["--dry-run", "--format", "json", "a.jsonl"], id="fix-dry-run-json"),
])
def test_the_words_said_before_a_resume_are_read_without_argparse(command: str, args: list[str]) -> None:
    """The plain reading must take what wrappers and hooks say, or it saves nothing."""
    plain = plain_values(command, args)
    assert plain is not None
    assert strict(plain) == strict(argparse_values(command, args))


def test_paths_are_paths_as_argparse_makes_them() -> None:
    plain = plain_values("check", ["x/y.jsonl"])
    assert plain is not None and plain["paths"] == [Path("x/y.jsonl")]
