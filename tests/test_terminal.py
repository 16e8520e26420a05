"""What a person sees in a real terminal (tmux, 80 and 200 columns): progress lines that leave
nothing behind, output that fits, no colour under NO_COLOR.

The commands run as a user runs them, in a bash inside tmux; ``raw`` holds every byte they wrote, so
a progress line that flashed by and was erased can still be checked."""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.generate import generate_tree
from tests.support.terminal import TMUX, Terminal

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (.ci/run installs it)")

WIDTHS = [80, 200]
DOCTOR = f"{shlex.quote(sys.executable)} -m rollout_doctor"
ERASE = b"\r\x1b[2K"
SGR = re.compile(rb"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 sessions, 60 MB, as bench/generate.py makes them (with a few planted defects)."""
    root = tmp_path_factory.mktemp("big")
    generate_tree(root, seed=7, total=60_000_000, count=40)
    return root


@pytest.fixture(params=WIDTHS, ids=[f"{w}cols" for w in WIDTHS])
def terminal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Terminal]:
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "CODEX_HOME": str(home / ".codex"), "ROLLOUT_DOCTOR_HOME": str(home / "state")}
    term = Terminal(request.param, 50, tmp_path, env)
    try:
        yield term
    finally:
        term.close()


def progress_draws(raw: bytes) -> list[str]:
    """Each state the progress line was drawn in. The line is always drawn as an erase and one line of
    text that the next erase wipes; an erase followed by lines (with newlines) is output printed while
    the line was down."""
    draws = []
    for chunk in raw.split(ERASE)[1:]:
        text = SGR.sub(b"", chunk)
        if text and b"\n" not in text:
            draws.append(text.decode("utf-8", "replace"))
    return draws


@pytest.mark.parametrize(("command", "verb", "last"), [("check", "checking", "problem(s)"),
                                                     ("fix --dry-run", "checking", "problem(s)"),
                                                     ("list", "listing", "Fix: rollout-doctor fix")])
def test_a_folder_scan_shows_progress_and_leaves_none_behind(terminal: Terminal, big_folder: Path,
                                                            command: str, verb: str, last: str) -> None:
    code = terminal.run(f"{DOCTOR} {command} {big_folder}")
    assert code == 1  # the planted defects
    draws = progress_draws(terminal.raw())
    assert draws and all(d.startswith(verb) for d in draws), draws[:3]
    assert any("40/40 files" in d or "/40 files" in d for d in draws)
    assert all(len(d) <= terminal.width - 1 for d in draws), max(draws, key=len)  # never wraps
    screen = terminal.screen()
    assert "━" not in screen and "/40 files" not in screen, "a progress line was left on the screen"
    assert last in screen  # the report is all there


def test_progress_is_not_shown_when_stderr_is_not_a_terminal(terminal: Terminal, big_folder: Path,
                                                            tmp_path: Path) -> None:
    err = tmp_path / "err.txt"
    terminal.run(f"{DOCTOR} check {big_folder} 2>{err}")
    assert err.read_bytes() == b""
    assert progress_draws(terminal.raw()) == []


@pytest.mark.parametrize("command", ["check", "list"])
def test_progress_is_not_shown_for_json(terminal: Terminal, big_folder: Path, command: str) -> None:
    terminal.run(f"{DOCTOR} {command} --format json {big_folder} > /dev/null")
    assert progress_draws(terminal.raw()) == []


def test_a_real_fix_shows_progress_and_leaves_none_behind(terminal: Terminal, big_folder: Path,
                                                          tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(big_folder, copy)
    code = terminal.run(f"{DOCTOR} fix {copy}")
    assert code in (0, 1)
    draws = progress_draws(terminal.raw())
    assert draws and all(d.startswith("fixing") for d in draws)
    assert "━" not in terminal.screen()


def test_no_color_means_no_colour(terminal: Terminal) -> None:
    case = Path(__file__).resolve().parent.parent / "fixtures" / "cases" / "orphan-call"
    terminal.run(f"{DOCTOR} check {case}")
    assert SGR.search(terminal.styled().encode()), "colour is on by default in a terminal"
    terminal.clear()
    terminal.run(f"NO_COLOR=1 {DOCTOR} check {case}")
    styled = terminal.styled().encode()
    assert not re.search(rb"\x1b\[[0-9;]*3[0-7]m|\x1b\[[0-9;]*38;", styled), "a colour code under NO_COLOR"


@pytest.mark.parametrize("command", ["check", "fix --dry-run"])
def test_session_headers_problems_and_diffs_fit_the_terminal(terminal: Terminal, command: str) -> None:
    """Every line fits the width but a file's path, which is printed whole on a line of its own (a path
    cut short cannot be used)."""
    cases = Path(__file__).resolve().parent.parent / "fixtures" / "cases"
    code = terminal.run(f"cd {shlex.quote(str(cases.parent.parent))} && {DOCTOR} {command} fixtures/cases")
    assert code == 1
    lines = terminal.screen().splitlines()
    report = lines[next(n for n, line in enumerate(lines) if "rollout_doctor" in line) + 1:-2]
    assert any(line.startswith("  dry run:") for line in report) == (command != "check")
    too_wide = [line for line in report if len(line) > terminal.width
                and not (line.startswith("  fixtures/cases/") or line.startswith("  inherits from "))]
    assert not too_wide, too_wide[:3]
