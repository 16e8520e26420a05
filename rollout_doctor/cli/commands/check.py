"""``check``, and finding the rollouts a command is given (``fix`` too).

``check FILE`` is what a pre-resume hook runs before every ``codex resume``, so its start-up is the
user's wait, and typer costs as much again as the check itself (fastpath.py has the figures).
fastpath.py therefore parses the common forms of ``check`` without typer and calls
``check`` here, which imports only the engine, and rich only once there is something to print.
"""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollout_doctor.cli.options import View, cache_choice, exit_status, rule_options

if TYPE_CHECKING:
    from rollout_doctor.core.discovery import Found
    from rollout_doctor.core.reports import FileReport
    from rollout_doctor.core.rules import Options


def check(paths: list[Path] | None, quiet: bool, format: str, target: str | None, select: list[str] | None,
          ignore: list[str] | None, statistics: bool, exit_zero: bool, no_cache: bool = False) -> int:
    """Report what would stop each session from resuming. Writes nothing."""
    cache_choice(no_cache)
    code = run_check(paths, rule_options(target, select, ignore), json=format == "json", view=View(statistics, quiet),
                     full=format == "full")
    return exit_status(code, exit_zero)


def find_rollouts(paths: list[Path] | None, sweep_always: bool = False) -> list[Found]:
    """The files to look at; empty (after a one-line message naming what was searched) when there are
    none: no rollouts is not a healthy home, it is a wrong path or CODEX_HOME (exit 2). First the private
    scratch folders a killed run left in the temp folder are swept: by a check or a list at most once a
    minute (``tempfiles.sweep_scratch_lately``), by a fix (``sweep_always``) every time."""
    from rollout_doctor.core.discovery import discover
    from rollout_doctor.formats.claude.home import configured_home as claude_home
    from rollout_doctor.formats.claude.home import default_roots as claude_roots
    from rollout_doctor.formats.codex.home import configured_home, default_roots

    _sweep(sweep_always)
    # With no path: both homes, Codex's sessions and Claude Code's projects.
    homes = [*default_roots(), *claude_roots()]
    roots = paths or [p for p in homes if p.exists()]
    if not roots:
        searched = " and ".join(str(p) for p in homes)
        print(f"rollout-doctor: no rollouts: {searched} do not exist (CODEX_HOME={configured_home()}, "
              f"CLAUDE_CONFIG_DIR={claude_home()}; set them or give a path)", file=sys.stderr)
        return []
    from rollout_doctor.formats import known

    named = [session_path(root) for root in roots]
    unknown = [item for item in named if not isinstance(item, Path)]  # an id that names no session
    found = [*unknown, *discover([item for item in named if isinstance(item, Path)], known())]
    if not found:
        print(f"rollout-doctor: no rollouts (rollout-*.jsonl or .jsonl.zst) under {', '.join(map(str, roots))}",
              file=sys.stderr)
    return found


def _sweep(always: bool) -> None:
    from rollout_doctor.core import cache_place
    from rollout_doctor.store.tempfiles import sweep_scratch, sweep_scratch_lately

    stamps = None if always else cache_place.folder()
    if stamps is not None and cache_place.private(stamps, create=False):
        sweep_scratch_lately(stamps)
    else:
        sweep_scratch()


def session_path(arg: Path) -> Path | Found:
    """A path as given, or the rollout of the session it names when no such path exists and it reads
    as a session id, a unique prefix of one, or a thread name Codex knows (``check 01a1fe9f``, as
    ``guard`` and ``undo`` take it). A name that matches nothing is the missing path it looked like."""
    text = str(arg)
    if os.path.lexists(arg) or os.sep in text or text.endswith((".jsonl", ".zst")):
        return arg
    from rollout_doctor.formats.codex.home import configured_home
    from rollout_doctor.formats.codex.sessions import SessionNotFound, find_by_name_or_id, is_id_prefix

    try:
        return find_by_name_or_id(text, configured_home()).path
    except SessionNotFound as exc:
        if not is_id_prefix(text):
            return arg
        from rollout_doctor.formats.claude.home import find_session

        claude = find_session(text)  # a Claude Code session id (or a unique prefix of one)
        if claude is not None:
            return claude
        from rollout_doctor.core.discovery import Found

        return Found(arg, error=f"{text}: {exc}")
    except OSError:
        return arg


def left_out(reports: list[FileReport], options: Options) -> list[str]:
    """The codes of the default rules ``--select``/``--ignore`` kept from running on these files."""
    from rollout_doctor.formats import known
    from rollout_doctor.formats import left_out as left_out_of

    formats = {r.format for r in reports}
    return [code for fmt in known() if fmt.name in formats for code in left_out_of(fmt, options)]


def unreadable_report(found: Found) -> FileReport:
    from rollout_doctor.core.reports import FileReport

    return FileReport(found.path, error=found.error)


def scan_progress(paths: list[Path], text: bool, verb: str = "checking") -> AbstractContextManager[Any]:
    """A progress line on stderr (cli/progress.py), when stderr is a terminal and the report is text;
    otherwise a stand-in that shows nothing (pipes and --format json stay clean)."""
    if not text:  # no line for a JSON report: not even the module that draws it is imported
        return nullcontext(None)
    from rollout_doctor.cli import progress

    if not progress.wanted(text):
        return nullcontext(None)
    return progress.ProgressLine(verb, sum(size_of(p) for p in paths), len(paths))


def size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def shown(bar: Any) -> AbstractContextManager[Any]:
    """Where to print while a progress line may be up: above it."""
    return bar.above() if bar is not None else nullcontext(None)


def run_check(paths: list[Path] | None, options: Options, json: bool, view: View, full: bool = False) -> int:
    """Check the files, print the report (text, ``full`` text or JSON), return the exit code. The text
    report leads with the sessions that will not resume, so it is printed once every file is checked."""
    from rollout_doctor.cli import run_cache
    from rollout_doctor.core.exitcodes import ERROR, exit_code
    from rollout_doctor.core.parallel import check_files
    from rollout_doctor.store.liveness import describe, writers_of

    reports = []
    out = None
    continued = run_cache.continuing()
    if continued is not None:
        reports_kept, changed, free = continued
        found_all, kept = _continued_run(reports_kept, changed)
    else:
        found_all, kept, free = find_rollouts(paths), {}, frozenset()
        if not found_all:
            return ERROR
    readable = [f.path for f in found_all if not f.error]
    todo = [(f.path, f.format) for n, f in enumerate(found_all) if not f.error and n not in kept]
    # A session a running Codex is writing is in progress, not a patient: its turn is not judged. (A run
    # continued lists the processes again only for a writer lock made since: ``free``, liveness.writers_of.)
    live = {path: describe(holders) for path, holders in writers_of([path for path, _fmt in todo], free).items()}
    with scan_progress(readable, not json and not view.quiet) as bar:
        # Every core, biggest files first; reports still come back in order (rollout_doctor.core.parallel).
        checked = check_files(todo, options, progress=bar.advance if bar else None, live=live)
        for n, found in enumerate(found_all):
            if found.error:
                report = unreadable_report(found)
            elif n in kept:
                report = kept[n]
                if bar:
                    bar.advance(size_of(found.path))
            else:
                report = next(checked)
            reports.append(report)
            if bar:
                bar.file_done()
            if not json and not view.standard and view.prints(report):
                # rich, only now that there is something to print
                from rollout_doctor.cli import render, report_modes

                out = out or render.console()
                with shown(bar):
                    report_modes.print_file(out, report, report.diagnostics, False, view)
    if not json and view.standard:
        out = print_sessions(reports, paths, options.target, full)
    print_end(reports, out, json, view, paths, options.target, left_out(reports, options))
    run_cache.keep_reports(reports)
    return exit_code(reports)


def _continued_run(reports: list[FileReport], changed: frozenset[str]) -> tuple[list[Found], dict[int, FileReport]]:
    """The files of the last run, and the kept report of each one unchanged since (by position): the
    changed ones are checked as a full run checks them (a grown one's report continued over what was
    appended, when it can be). cli/run_cache.py's
    ``continuing`` says when this is so: the same files, inputs, options and code, no process holding any
    of them."""
    from rollout_doctor.core.discovery import Found
    from rollout_doctor.formats import known

    formats = {fmt.name: fmt for fmt in known()}
    found_all = [Found(report.path, report.error) if report.error else Found(report.path, format=formats[report.format])
                 for report in reports]
    kept = {n: report for n, report in enumerate(reports) if os.path.abspath(report.path) not in changed}
    return found_all, kept


def print_sessions(reports: list[FileReport], paths: list[Path] | None, target: str | None, full: bool) -> Any:
    """The sessions that will not resume and the command that fixes them, then each session with
    something to say (session_text.py); the console printed to."""
    from rollout_doctor.cli import render, session_text

    out = render.console()
    session_text.print_lead(out, reports, paths, target)
    printed = False
    for report in reports:
        if printed and (report.diagnostics or report.error or report.in_progress):
            out.print()  # a blank line between sessions
        printed = render.print_diagnostics(out, report, report.diagnostics, False, full) or printed
    return out


def print_end(reports: list[FileReport], out: Any, json: bool, view: View, paths: list[Path] | None = None,
              target: str | None = None, left: list[str] | None = None) -> None:
    """The summary, the JSON report, or what --statistics and --quiet print instead (report_modes.py)."""
    if json:
        from rollout_doctor.cli.json_report import emit_json, report_json

        if view.statistics:
            from rollout_doctor.cli.report_modes import statistics_json

            emit_json(statistics_json(reports, unsafe=False))
        else:
            emit_json(report_json(reports, unsafe=False, fixing=False, roots=paths, target=target))
        return
    if view.quiet and not view.statistics:
        return  # the problems are printed; a quiet check of a clean session does not even import rich
    from rollout_doctor.cli import render

    out = out or render.console()
    if view.statistics:
        from rollout_doctor.cli.report_modes import print_statistics

        print_statistics(out, reports, unsafe=False)
    elif not view.quiet:
        render.print_summary(out, reports, unsafe=False, fixing=False, dry_run=False,
                             left_out=left)
