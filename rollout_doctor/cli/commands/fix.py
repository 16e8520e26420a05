"""``fix``: repair the rollouts in place, each after a backup that ``undo`` restores."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.cli.commands.check import find_rollouts, unreadable_report
from rollout_doctor.cli.options import rule_options

if TYPE_CHECKING:
    from rich.console import Console

    from rollout_doctor.core.discovery import Found
    from rollout_doctor.core.reports import FileReport
    from rollout_doctor.core.rules import Options


def fix(paths: list[Path] | None, dry_run: bool, diff: bool, unsafe_fixes: bool, format: str, target: str | None,
        select: list[str] | None, ignore: list[str] | None, force: bool) -> int:
    """Repair sessions in place (after a backup that `undo` restores); --dry-run shows the diff only."""
    from rollout_doctor.cli import render
    from rollout_doctor.core.exitcodes import ERROR, exit_code
    from rollout_doctor.store import signals

    options = rule_options(target, select, ignore, unsafe_fixes)
    err = render.console(stderr=True)
    shown = Shown(render.console() if format == "text" else None, err, diff or dry_run, unsafe_fixes, dry_run)
    found_all = find_rollouts(paths)
    if not found_all:
        return ERROR
    if not dry_run:
        prepare_to_write(found_all, force, err)
    # The diff is only shown with --diff or --dry-run and in JSON; on a 1 GB rollout it is ~200 MB.
    want_diff = diff or dry_run or format == "json"
    interrupted = fix_all(found_all, options, shown, dry_run=dry_run, want_diff=want_diff, force=force)
    if format == "json":
        from rollout_doctor.cli.json_report import emit_json, report_json

        emit_json(report_json(shown.reports, unsafe=unsafe_fixes, fixing=True, interrupted=interrupted is not None))
    else:
        render.print_summary(shown.out, shown.reports, unsafe=unsafe_fixes, fixing=True, dry_run=dry_run)
    if interrupted is not None:
        err.print("rollout-doctor: interrupted; the files reported above are as reported, the others untouched")
        return signals.exit_code(interrupted)
    return exit_code(shown.reports, fixing=True, dry_run=dry_run)


class Shown:
    """The reports of a fix as they come: kept for the summary, printed at once (text) or not (JSON)."""

    def __init__(self, out: Console | None, err: Console, changes: bool, unsafe: bool, dry_run: bool) -> None:
        self.out, self.err = out, err
        self.changes, self.unsafe, self.dry_run = changes, unsafe, dry_run
        self.reports: list[FileReport] = []

    def __call__(self, report: FileReport) -> None:
        from rich.markup import escape

        from rollout_doctor.cli import render

        self.reports.append(report)
        for warning in report.warnings:
            self.err.print(f"rollout-doctor: warning: {escape(warning)}")
        if self.out is not None:
            if report.changes and self.changes:
                render.print_changes(self.out, report, self.dry_run)
            elif report.written:
                render.print_written(self.out, report)
            render.print_diagnostics(self.out, report, report.remaining or [], self.unsafe)


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
    """Finish what a killed fix or undo left half-done (store/__init__.py), and say so."""
    from rich.markup import escape

    from rollout_doctor.core.fixer import complete_interrupted as complete
    from rollout_doctor.formats import known

    for done in complete(known(), everything):
        files = ", ".join(str(p) for p in done.changed) or "no file changed"
        err.print(f"rollout-doctor: an interrupted run's transaction {escape(done.journal.folder.name)}: "
                  f"{escape(done.outcome)} ({escape(files)})")
