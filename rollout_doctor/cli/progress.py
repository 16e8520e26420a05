"""A progress line on stderr for the commands that take a while: one line, redrawn in place, erased
before anything else is printed and when the command ends, so that nothing of it is left behind.

Why not rich's live display: it redraws a bar that may be wider than a narrow terminal (the terminal
wraps it, and erasing one line then leaves the other), and what the command prints to stdout while it
is up is either interleaved with it (junk lines at 80 columns, text glued to the bar at 250) or, with
stdout redirection, sent to stderr, which would steal it from a pipe. This line is cut to one column
less than the terminal's width, measured at every redraw, so it never wraps; ``above`` erases it,
lets the caller print, and draws it again. It is shown only when stderr is a terminal (not dumb),
for text output; never in pipes or JSON.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

ERASE = "\r\x1b[2K"  # to the start of the line, and clear it
REDRAW_EVERY = 0.1  # seconds: often enough to look alive, rarely enough to cost nothing
BAR = 20


def wanted(text_output: bool, stream: TextIO | None = None) -> bool:
    """Whether a progress line may be shown: text output, stderr a real terminal."""
    stream = stream or sys.stderr
    if not text_output or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ProgressLine:
    def __init__(self, verb: str, total_bytes: int, files: int, stream: TextIO | None = None) -> None:
        self.verb = verb
        self.total = max(total_bytes, 1)
        self.files = files
        self.stream = stream or sys.stderr
        self.done_bytes = 0
        self.done_files = 0
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.shown = False
        self.color = not os.environ.get("NO_COLOR")

    def __enter__(self) -> ProgressLine:
        self.draw()
        return self

    def __exit__(self, *exc: object) -> None:
        self.erase()

    def advance(self, nbytes: int) -> None:
        self.done_bytes += nbytes
        self.draw(throttle=True)

    def file_done(self) -> None:
        self.done_files += 1
        self.draw(throttle=True)

    @contextmanager
    def above(self) -> Iterator[None]:
        """Erase the line while the caller prints, then draw it again below what was printed."""
        self.erase()
        try:
            yield
        finally:
            sys.stdout.flush()
            self.draw()

    def erase(self) -> None:
        if self.shown:
            self._write(ERASE)
            self.shown = False

    def draw(self, throttle: bool = False) -> None:
        now = time.monotonic()
        if throttle and now - self.drawn_at < REDRAW_EVERY:
            return
        self.drawn_at = now
        import shutil  # only once a line is drawn: a check whose stderr is no terminal never needs it

        width = shutil.get_terminal_size((80, 24)).columns - 1  # the last column would wrap on some terminals
        self._write(ERASE + fit(self.text(now), width, self.color))
        self.shown = True

    def text(self, now: float) -> str:
        share = min(self.done_bytes / self.total, 1.0)
        filled = int(share * BAR)
        elapsed = now - self.started
        left = f"{_clock(elapsed / share - elapsed)} left" if 0.02 < share < 1 and elapsed > 1 else ""
        parts = [self.verb, "━" * filled + "─" * (BAR - filled), f"{share:4.0%}",
                 f"{_mb(self.done_bytes)}/{_mb(self.total)} MB", f"{self.done_files}/{self.files} files", left]
        return "  ".join(p for p in parts if p)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: the command goes on without its line
            self.shown = False


def fit(text: str, width: int, color: bool) -> str:
    """``text`` cut to ``width`` columns (every character here is one column wide), dimmed if allowed."""
    if len(text) > width:
        text = text[: max(width - 1, 0)] + "…" if width > 0 else ""
    return f"\x1b[2m{text}\x1b[0m" if color and text else text


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f}"


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"
