"""What every run sets up before it parses a word, whichever parser then takes the arguments."""

from __future__ import annotations

import os
import sys


def lenient_stdio() -> None:
    """A file name's bytes that are not UTF-8 reach Python as lone surrogates; printed to a strict UTF-8
    stream (any UTF-8 locale but C) they would end the run with a traceback. Show them as \\xNN instead."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


COMPLETE_VAR = "_ROLLOUT_DOCTOR_COMPLETE"  # typer's name for it, _<PROG>_COMPLETE: completion.py


def asks_for_completion() -> bool:
    """Is this run a shell asking for completions? Then typer answers, not the fast path (main.py)."""
    return bool(os.environ.get(COMPLETE_VAR))


def prepare() -> None:
    from rollout_doctor.store.signals import terminate_like_interrupt

    lenient_stdio()
    terminate_like_interrupt()  # SIGTERM unwinds like Ctrl-C: no temporary file is left beside a session
