"""The progress line itself (cli/progress.py): one line that never wraps, erased before anything is
printed and at the end; shown only on a terminal, for text output. tests/test_terminal.py watches it
in tmux."""

from __future__ import annotations

import io
import os
import shutil

import pytest

from rollout_doctor.cli import progress
from rollout_doctor.cli.progress import ERASE, ProgressLine, fit


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("width", [10, 40, 80, 200])
def test_the_line_is_cut_to_one_column_less_than_the_terminal(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback: os.terminal_size((width, 24)))
    stream = Tty()
    with ProgressLine("checking", 10**9, 400, stream) as line:
        line.advance(5 * 10**8)
        line.draw()
    draws = [d for d in stream.getvalue().split(ERASE) if d]
    assert draws and all(len(d) <= width - 1 for d in draws)
    assert stream.getvalue().endswith(ERASE), "the line is erased when the command ends"


def test_printing_above_erases_the_line_first_and_draws_it_again_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    stream = Tty()
    with ProgressLine("fixing", 100, 2, stream) as line:
        before = len(stream.getvalue())
        with line.above():
            assert stream.getvalue()[before:] == ERASE
        assert stream.getvalue().count(ERASE) == 3 and stream.getvalue().rstrip().endswith("files")


def test_colour_only_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fit("checking", 80, color=True).startswith("\x1b[2m")
    assert fit("checking", 80, color=False) == "checking"
    assert fit("checking x", 5, color=False) == "chec…"


def test_only_on_a_terminal_and_only_for_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERM", raising=False)
    assert progress.wanted(True, Tty())
    assert not progress.wanted(False, Tty())  # JSON
    assert not progress.wanted(True, io.StringIO())  # a pipe or a file
    monkeypatch.setenv("TERM", "dumb")
    assert not progress.wanted(True, Tty())
