"""Exit codes: documented in README and stable."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine is heavy; commands that only need the codes must not import it
    from rollout_doctor.core.reports import FileReport

CLEAN = 0  # nothing left to report
PROBLEMS = 1  # problems remain (or, with --dry-run, a fix would change the file)
ERROR = 2  # usage or I/O error: a file could not be read or written
REFUSED = 3  # refused to write: the file changed under us, or a process holds it open
# guard only: the session resumes, but problems remain that no safe fix solved (the client patches or
# skips them at every resume; they are not refusals, which are PROBLEMS)
RESUMES_WITH_PROBLEMS = 4


def exit_code(reports: Iterable[FileReport], fixing: bool = False, dry_run: bool = False) -> int:
    reports = list(reports)
    if any(r.refused for r in reports):
        return REFUSED
    if any(r.error for r in reports):
        return ERROR
    if fixing and not dry_run:
        return PROBLEMS if any(r.remaining for r in reports) else CLEAN
    return PROBLEMS if any(r.diagnostics for r in reports) else CLEAN
