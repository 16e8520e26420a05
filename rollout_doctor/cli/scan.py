"""The ``check`` command's work, shared by typer's ``check`` (cli.py) and the fast path in entry.py.

``check FILE`` is what a pre-resume hook runs before every ``codex resume``, so its start-up is the
user's wait: typer and the pydantic it pulls in take ~100 ms to import and parse, more than checking a
5 MB session. entry.py therefore parses the common forms of ``check`` itself and calls ``run_check``
here, which imports only the engine, and rich only once there is something to print. Anything else
(``--help``, a bad option, an unknown rule) goes to typer, which reports it as usual.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from rollout_doctor.core.rules import Options


def targets(paths: list[Path] | None) -> list:  # type: ignore[type-arg]
    """The files to look at; empty (after a one-line message naming what was searched) when there are
    none: no rollouts is not a healthy home, it is a wrong path or CODEX_HOME (exit 2)."""
    from rollout_doctor.formats.codex.home import configured_home, default_roots
    from rollout_doctor.core.discovery import discover
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


def scan_progress(paths: list[Path], text: bool) -> AbstractContextManager[Any]:
    """A progress bar on stderr for a scan of several files, when stderr is a terminal and the report
    is text; otherwise a stand-in that shows nothing (pipes and --format json stay clean)."""
    if not text or len(paths) < 2 or not sys.stderr.isatty():
        return nullcontext(None)
    from rollout_doctor.cli import render

    return render.ScanProgress(sum(p.stat().st_size for p in paths if p.exists()), len(paths))


def emit_json(payload: object) -> None:
    import orjson

    sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")


def missing_report(found):  # type: ignore[no-untyped-def]
    from rollout_doctor.core.reports import FileReport

    return FileReport(found.path, error=found.error)


def run_check(paths: list[Path] | None, options: Options, json: bool) -> int:
    """Check the files, print the report (text or JSON), return the exit code."""
    from rollout_doctor.core.exitcodes import ERROR, exit_code
    from rollout_doctor.store.liveness import describe, writers_of
    from rollout_doctor.core.parallel import check_files

    reports = []
    out = None
    found_all = targets(paths)
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
            report = missing_report(found) if found.error else next(checked)
            reports.append(report)
            if bar:
                bar.file_done()
            if not json:
                from rollout_doctor.cli import render  # rich, only now that there is something to print

                out = out or render.console()
                render.print_diagnostics(out, report, report.diagnostics, False)
    if json:
        from rollout_doctor.cli.json_report import report_json

        emit_json(report_json(reports, unsafe=False, fixing=False))
    else:
        from rollout_doctor.cli import render

        render.print_summary(out or render.console(), reports, unsafe=False, fixing=False, dry_run=False)
    return exit_code(reports)
