"""``check``, and finding the rollouts a command is given (``fix`` too).

``check FILE`` is what a pre-resume hook runs before every ``codex resume``, so its start-up is the
user's wait, and typer costs as much again as the check itself (fastpath.py has the figures).
fastpath.py therefore parses the common forms of ``check`` without typer and calls
``check`` here, which imports only the engine, and rich only once there is something to print.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollout_doctor.cli.options import rule_options

if TYPE_CHECKING:
    from rollout_doctor.core.discovery import Found
    from rollout_doctor.core.reports import FileReport
    from rollout_doctor.core.rules import Options


def check(paths: list[Path] | None, format: str, target: str | None, select: list[str] | None,
          ignore: list[str] | None) -> int:
    """Report what would stop each session from resuming. Writes nothing."""
    return run_check(paths, rule_options(target, select, ignore), json=format == "json")


def find_rollouts(paths: list[Path] | None) -> list[Found]:
    """The files to look at; empty (after a one-line message naming what was searched) when there are
    none: no rollouts is not a healthy home, it is a wrong path or CODEX_HOME (exit 2)."""
    from rollout_doctor.core.discovery import discover
    from rollout_doctor.formats.codex.home import configured_home, default_roots
    from rollout_doctor.store.tempfiles import sweep_scratch

    sweep_scratch()  # private scratch folders a killed run left in the temp folder
    roots = paths or [p for p in default_roots() if p.exists()]
    if not roots:
        searched = " and ".join(str(p) for p in default_roots())
        print(f"rollout-doctor: no rollouts: {searched} do not exist (CODEX_HOME={configured_home()}; set CODEX_HOME "
              "or give a path)", file=sys.stderr)
        return []
    from rollout_doctor.formats import known

    found = list(discover(roots, known()))
    if not found:
        print(f"rollout-doctor: no rollouts (rollout-*.jsonl or .jsonl.zst) under {', '.join(map(str, roots))}",
              file=sys.stderr)
    return found


def unreadable_report(found: Found) -> FileReport:
    from rollout_doctor.core.reports import FileReport

    return FileReport(found.path, error=found.error)


def scan_progress(paths: list[Path], text: bool) -> AbstractContextManager[Any]:
    """A progress bar on stderr for a scan of several files, when stderr is a terminal and the report
    is text; otherwise a stand-in that shows nothing (pipes and --format json stay clean)."""
    if not text or len(paths) < 2 or not sys.stderr.isatty():
        return nullcontext(None)
    from rollout_doctor.cli import render

    return render.ScanProgress(sum(p.stat().st_size for p in paths if p.exists()), len(paths))


def run_check(paths: list[Path] | None, options: Options, json: bool) -> int:
    """Check the files, print the report (text or JSON), return the exit code."""
    from rollout_doctor.core.exitcodes import ERROR, exit_code
    from rollout_doctor.core.parallel import check_files
    from rollout_doctor.store.liveness import describe, writers_of

    reports = []
    out = None
    found_all = find_rollouts(paths)
    if not found_all:
        return ERROR
    readable = [f.path for f in found_all if not f.error]
    files = [(f.path, f.format) for f in found_all if not f.error]
    # A session a running Codex is writing is in progress, not a patient: its turn is not judged.
    live = {path: describe(holders) for path, holders in writers_of(readable).items()}
    with scan_progress(readable, not json) as bar:
        # Every core, biggest files first; reports still come back in order (rollout_doctor.core.parallel).
        checked = check_files(files, options, progress=bar.advance if bar else None, live=live)
        for found in found_all:
            report = unreadable_report(found) if found.error else next(checked)
            reports.append(report)
            if bar:
                bar.file_done()
            if not json:
                from rollout_doctor.cli import render  # rich, only now that there is something to print

                out = out or render.console()
                render.print_diagnostics(out, report, report.diagnostics, False)
    if json:
        from rollout_doctor.cli.json_report import emit_json, report_json

        emit_json(report_json(reports, unsafe=False, fixing=False))
    else:
        from rollout_doctor.cli import render

        render.print_summary(out or render.console(), reports, unsafe=False, fixing=False, dry_run=False)
    return exit_code(reports)
