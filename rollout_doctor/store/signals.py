"""Signals while files are being replaced: they wait until the transaction is whole.

From the moment a transaction's journal exists until its files are all replaced (or put back) and its
state is recorded, Ctrl-C, SIGTERM and SIGHUP are noted instead of acted on: an interrupt that landed
between two replaces, or between a replace and the record of it, would leave a thread half-rewritten
or a backup unrecorded. The command checks ``pending()`` after each file and stops there, having said
what it wrote (exit 130). Outside those moments a signal interrupts as usual and the error paths
remove what the run made (temporary files, a journal with nothing replaced).
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

DEFERRED = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
                 if s is not None)
_pending: int | None = None


def _in_main_thread() -> bool:
    """Whether handlers can be set from here. Before threading is imported no thread but the main one
    runs Python code (nothing here starts one with _thread), and every start-up passes here: importing
    threading to ask would cost a millisecond of each check before a resume (2026-11-29)."""
    threading = sys.modules.get("threading")
    return threading is None or threading.current_thread() is threading.main_thread()


def pending() -> int | None:
    """The signal that arrived while a transaction was being committed, if any."""
    return _pending


@contextmanager
def deferred() -> Iterator[None]:
    """Note the signals in ``DEFERRED`` instead of acting on them, for the duration."""
    if not _in_main_thread():
        yield  # handlers can only be set from the main thread; callers on others run no commit of a CLI
        return

    def note(signum: int, _frame: object) -> None:
        global _pending
        if _pending is None:
            print("rollout-doctor: finishing the write in progress, then stopping", file=sys.stderr)
        _pending = signum

    previous = {sig: signal.signal(sig, note) for sig in DEFERRED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def exit_code(signum: int) -> int:
    return 128 + signum


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) outside a transaction: unwinds like Ctrl-C, so temporary files are removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def terminate_like_interrupt() -> None:
    """Make SIGTERM and SIGHUP raise Terminated (by default they end the process on the spot and leave
    a full-size temporary file beside the session until a later run sweeps it)."""
    if not _in_main_thread():
        return

    def raise_terminated(signum: int, _frame: object) -> None:
        raise Terminated(signum)

    for sig in DEFERRED[1:]:
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            signal.signal(sig, raise_terminated)
