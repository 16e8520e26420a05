"""``list`` (alias ``sessions``): every session, one line each with its verdict, newest first.

It checks every session it lists (the verdict is the check's), so it costs what ``check`` of the same
files costs, on every core (core/parallel.py). The filters that need no check are applied first:
``--since`` by the files' modification times, ``--cwd`` by the folder each session records (its first
line and the end of the file); ``--stuck`` needs the verdict.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.cli.commands.check import find_rollouts, scan_progress, unreadable_report
from rollout_doctor.cli.options import UsageError, cache_choice

if TYPE_CHECKING:
    from rollout_doctor.core.discovery import Found
    from rollout_doctor.core.reports import FileReport

_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def list_sessions(paths: list[Path] | None, format: str, stuck: bool, cwd: str | None,
                  since: str | None, no_cache: bool = False) -> int:
    """List the sessions, newest first, one line each with its verdict: whether it resumes (alias: sessions).

    Exit 0 when no session listed has a problem, 1 when one has, 2 when a file could not be read."""
    cache_choice(no_cache)
    from rollout_doctor.core.exitcodes import ERROR, exit_code

    after = since_time(since) if since else None
    folder = os.path.realpath(os.path.abspath(os.path.expanduser(cwd))) if cwd else None
    found_all = find_rollouts(paths)
    if not found_all:
        return ERROR
    candidates = [f for f in found_all if recent(f, after) and in_folder(f, folder)]
    reports = [r for r in checked(candidates, text=format != "json") if not stuck or r.verdict.stops_resume]
    reports.sort(key=updated, reverse=True)
    if format == "json":
        from rollout_doctor.cli.json_report import emit_json, report_json

        emit_json(report_json(reports, unsafe=False, fixing=False, roots=paths))
    else:
        from rollout_doctor.cli import render, session_text

        out = render.console()
        session_text.print_list(out, reports, whole=format == "full", roots=paths)
        if not reports:
            out.print("No session matches.")
    return exit_code(reports)


def since_time(text: str, now: float | None = None) -> float:
    """``--since``: an age before now (``30m``, ``12h``, ``2d``, ``1w``) or a date, local time unless it
    says otherwise (``2026-11-20``, ``2026-11-20T09:00``, ``2026-11-20T09:00Z``); seconds since the epoch."""
    from datetime import datetime

    now = time.time() if now is None else now
    age = _AGE.fullmatch(text.strip().lower())
    if age:
        return now - float(age[1]) * _SECONDS[age[2]]
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise UsageError(f"--since {text!r}: give an age (30m, 12h, 2d, 1w) or a date (2026-11-20)") from None


def recent(found: Found, after: float | None) -> bool:
    if after is None:
        return True
    try:
        return os.stat(found.path).st_mtime >= after
    except OSError:
        return True  # unreadable: listed, as unknown, rather than hidden


def in_folder(found: Found, folder: str | None) -> bool:
    """Whether the session works in ``folder``: the folder it records (Format.describe_session, read
    without checking the file)."""
    if folder is None:
        return True
    if found.format is None:
        return False
    recorded = found.format.describe_session(found.path, None).cwd
    return recorded is not None and os.path.realpath(recorded) == folder


def checked(found: list[Found], text: bool = False) -> list[FileReport]:
    """Each file's report, as ``check`` makes it (a session a running client writes: its turn is not
    judged), with a progress line on a terminal's stderr when the list is text."""
    from rollout_doctor.core.parallel import check_files
    from rollout_doctor.core.rules import Options
    from rollout_doctor.store.liveness import describe, writers_of

    readable = [f for f in found if not f.error]
    live = {path: describe(holders) for path, holders in writers_of([f.path for f in readable]).items()}
    with scan_progress([f.path for f in readable], text, verb="listing") as bar:
        reports = check_files([(f.path, f.format) for f in readable], Options(target=None),
                              progress=bar.advance if bar else None, live=live)
        listed = []
        for f in found:
            listed.append(unreadable_report(f) if f.error else next(reports))
            if bar and not f.error:
                bar.file_done()
        return listed


def updated(report: FileReport) -> float:
    session = report.session
    return session.updated if session is not None and session.updated is not None else 0.0
