"""Runs: every transaction one invocation of rollout-doctor committed, so that it can be undone whole.

A `fix` over a folder commits one transaction per thread; `undo --last-run` puts all of them back.
The id is the time the process started, to the microsecond, and its pid: sortable, and unique on
one machine.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the guard starts a run before every resume; the journal's imports wait for a write
    from rollout_doctor.store.journal import Journal

_current: str | None = None
_command = "fix"


def start_run(command: str = "fix") -> str:
    """Begin a new run of ``command`` (its journals record it): a command that writes calls this once
    (a test may run several in one process)."""
    global _current, _command
    now = time.time()
    _current = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}-{os.getpid()}"
    _command = command
    return _current


def current_run() -> str:
    return _current or start_run()


def current_command() -> str:
    return _command


class Run:
    """The transactions of one run. (A plain class: the guard imports this module before every resume,
    and making a dataclass costs a third of a millisecond.)"""

    __slots__ = ("id", "journals")

    def __init__(self, id: str, journals: list[Journal]) -> None:
        self.id = id
        self.journals = journals  # oldest first

    @property
    def created(self) -> str:
        return self.journals[0].created

    @property
    def command(self) -> str:
        return self.journals[0].command


def group(journals: list[Journal]) -> list[Run]:
    """Journals (oldest first) grouped by run, oldest run first."""
    runs: dict[str, Run] = {}
    for journal in journals:
        runs.setdefault(journal.run_id, Run(journal.run_id, [])).journals.append(journal)
    return sorted(runs.values(), key=lambda r: (r.created, r.id))
