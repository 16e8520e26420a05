"""``fix``: repair the rollouts in place, each after a backup that ``undo`` restores."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.cli.commands.check import find_rollouts, scan_progress, shown, size_of, unreadable_report
from rollout_doctor.cli.options import View, cache_choice, exit_status, rule_options

if TYPE_CHECKING:
    from rich.console import Console

    from rollout_doctor.cli.progress import ProgressLine
    from rollout_doctor.core.discovery import Found
    from rollout_doctor.core.reports import FileReport
    from rollout_doctor.core.rules import Options


def fix(paths: list[Path] | None, dry_run: bool, diff: bool, unsafe_fixes: bool, quiet: bool, format: str,
        target: str | None, select: list[str] | None, ignore: list[str] | None, statistics: bool, exit_zero: bool,
        force: bool, no_cache: bool = False) -> int:
    """Repair sessions in place (after a backup that `undo` restores); --dry-run shows the diff only."""
    cache_choice(no_cache)
    from rollout_doctor.core.exitcodes import ERROR, exit_code
    from rollout_doctor.store import signals
    from rollout_doctor.store.runs import start_run

    start_run("fix")  # `undo --last-run` undoes every transaction of this invocation
    options = rule_options(target, select, ignore, unsafe_fixes)
    err: Console = LaterConsole(stderr=True)  # type: ignore[assignment]
    view = View(statistics, quiet)
    shown = Shown(LaterConsole() if format == "text" else None, err, diff or dry_run, unsafe_fixes, dry_run,  # type: ignore[arg-type]
                  view)
    found_all = find_rollouts(paths, sweep_always=True)
    if not found_all:
        return ERROR
    if not dry_run:
        prepare_to_write(found_all, force, err)
    # The diff is only shown with --diff or --dry-run and in JSON; on a 1 GB rollout it is ~200 MB.
    want_diff = diff or dry_run or format == "json"
    readable = [f.path for f in found_all if not f.error]
    with scan_progress(readable, format == "text" and not quiet, "checking" if dry_run else "fixing") as shown.bar:
        interrupted = fix_all(found_all, options, shown, dry_run=dry_run, want_diff=want_diff, force=force)
    print_end(shown, format == "json", interrupted is not None)
    if interrupted is not None:
        err.print("rollout-doctor: interrupted; the files reported above are as reported, the others untouched")
        return signals.exit_code(interrupted)
    return exit_status(exit_code(shown.reports, fixing=True, dry_run=dry_run), exit_zero)


def print_end(shown: Shown, json: bool, interrupted: bool) -> None:
    """The summary, the JSON report, or what --statistics and --quiet print instead (report_modes.py)."""
    from rollout_doctor.cli import render, report_modes
    from rollout_doctor.cli.json_report import emit_json, report_json

    if json:
        emit_json(report_modes.statistics_json(shown.reports, shown.unsafe) if shown.view.statistics else
                  report_json(shown.reports, unsafe=shown.unsafe, fixing=True, interrupted=interrupted))
        return
    if shown.view.statistics:
        report_modes.print_statistics(shown.out, shown.reports, shown.unsafe)
    if not shown.view.quiet:
        render.print_summary(shown.out, shown.reports, unsafe=shown.unsafe, fixing=True, dry_run=shown.dry_run)


class LaterConsole:
    """A rich Console made when something is first printed through it. rich and its Console are 6 MiB,
    and a fix of a huge file prints nothing until the file is fixed and its index let go: imported at
    the start, they would add to the fix's peak memory (issue 14: 100 MiB for a 1 GB rollout)."""

    def __init__(self, stderr: bool = False) -> None:
        object.__setattr__(self, "_stderr", stderr)
        object.__setattr__(self, "_console", None)

    def _made(self) -> Console:
        if self._console is None:
            from rollout_doctor.cli import render

            object.__setattr__(self, "_console", render.console(stderr=self._stderr))
        return self._console  # type: ignore[return-value]

    def __getattr__(self, name: str) -> object:
        return getattr(self._made(), name)

    def __setattr__(self, name: str, value: object) -> None:  # render sets soft_wrap for a summary
        setattr(self._made(), name, value)


class Shown:
    """The reports of a fix as they come: kept for the summary, printed at once (text) or not (JSON)."""

    def __init__(self, out: Console | None, err: Console, changes: bool, unsafe: bool, dry_run: bool,
                 view: View) -> None:
        self.out, self.err = out, err
        self.changes, self.unsafe, self.dry_run, self.view = changes, unsafe, dry_run, view
        self.reports: list[FileReport] = []
        self.bar: ProgressLine | None = None  # the progress line, while one is up

    def __call__(self, report: FileReport) -> None:
        self.reports.append(report)
        with shown(self.bar):
            self.print(report)
        if self.bar is not None and report.role == "requested":
            self.bar.advance(size_of(report.path))
            self.bar.file_done()

    def print(self, report: FileReport) -> None:
        from rich.markup import escape

        from rollout_doctor.cli import render, report_modes

        for warning in report.warnings:
            self.err.print(f"rollout-doctor: warning: {escape(warning)}")
        if self.out is not None:
            diff = bool(report.changes and self.changes and self.view.standard)
            if diff:
                render.print_changes(self.out, report, self.dry_run)
            elif report.written and not self.view.quiet:
                render.print_written(self.out, report)
            report_modes.print_file(self.out, report, report.remaining or [], self.unsafe, self.view, header=not diff)


def prepare_to_write(found_all: list[Found], force: bool, err: Console) -> None:
    """Before a fix writes: warn about --force, finish what a killed run left, sweep its temporary files."""
    from rollout_doctor.store.tempfiles import sweep_folder

    if force:
        err.print("rollout-doctor: --force: a rollout that a running Codex holds open is rewritten anyway; what that "
                  "process writes afterwards goes to the replaced file, not to the session")
    complete_interrupted(err)
    for folder in {f.path.parent for f in found_all if not f.error}:
        sweep_folder(folder)  # temporary files a killed fix left next to the sessions


def fix_all(found_all: list[Found], options: Options, show: Shown, dry_run: bool, want_diff: bool,
            force: bool) -> int | None:
    """Fix the files, format by format, showing each report; the signal that stopped the run, if one did."""
    from rollout_doctor.core.fixer import fix_files
    from rollout_doctor.store import signals

    try:
        for found in found_all:
            if found.error:
                show(unreadable_report(found))
        for fmt in dict.fromkeys(f.format for f in found_all if not f.error):
            paths_of = [f.path for f in found_all if not f.error and f.format is fmt]
            for report in fix_files(fmt, paths_of, options, dry_run=dry_run, want_diff=want_diff, force=force):
                show(report)
                interrupted = signals.pending()
                if interrupted:
                    return interrupted
    except KeyboardInterrupt as exc:
        return getattr(exc, "signum", signal.SIGINT)
    return None


def complete_interrupted(err: Console, everything: bool = False) -> None:
    """Finish what a killed fix or undo left half-done (store/__init__.py), and say so (rich only then:
    a fix's memory, LaterConsole)."""
    from rollout_doctor.core.fixer import complete_interrupted as complete
    from rollout_doctor.formats import known

    for done in complete(known(), everything):
        from rich.markup import escape

        files = ", ".join(str(p) for p in done.changed) or "no file changed"
        err.print(f"rollout-doctor: an interrupted run's transaction {escape(done.journal.folder.name)}: "
                  f"{escape(done.outcome)} ({escape(files)})")
