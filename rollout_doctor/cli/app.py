"""The command line: a thin typer shell over the library.

Exit codes (README, "Exit codes"): 0 nothing left to report, 1 problems remain, 2 usage or I/O error,
3 refused to write.
"""

from __future__ import annotations

import signal
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from rollout_doctor import __version__
from rollout_doctor.core.exitcodes import CLEAN, ERROR, REFUSED

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Check and repair OpenAI Codex CLI session rollouts so that sessions resume.",
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(str, Enum):
    text = "text"
    json = "json"


class Target(str, Enum):
    responses = "responses"
    chat = "chat"


PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Rollout files or folders (searched recursively). Default: $CODEX_HOME/sessions "
                        "and $CODEX_HOME/archived_sessions.", show_default=False),
]
FormatOpt = Annotated[Format, typer.Option("--format", help="Report as text or as JSON (README: JSON report).")]
TargetOpt = Annotated[Target | None, typer.Option("--target", help="The wire Codex talks to the model on; chat adds "
                                                            "the chat-adjacency rule. Default: each session's, from "
                                                            "$CODEX_HOME/config.toml.", show_default=False)]
SelectOpt = Annotated[list[str] | None, typer.Option("--select", help="Only these rules (names or codes, "
                                                        "comma-separated; ALL for every rule).")]
IgnoreOpt = Annotated[list[str] | None, typer.Option("--ignore", help="Skip these rules (names or codes).")]


def _split(values: list[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    return frozenset(v for value in values for v in value.split(",") if v.strip())


def _options(target: Target | None, select: list[str] | None, ignore: list[str] | None, unsafe: bool = False):  # type: ignore[no-untyped-def]
    from rollout_doctor.core.rules import Options, UnknownRule
    from rollout_doctor.formats.codex.rules import REGISTRY

    options = Options(target=target.value if target else None, select=_split(select), ignore=_split(ignore) or frozenset(),
                      unsafe_fixes=unsafe)
    try:
        REGISTRY.resolve(options.select)
        REGISTRY.resolve(options.ignore)
    except UnknownRule as exc:
        raise typer.BadParameter(str(exc)) from None
    return options


# Shared with the fast path for `check` in entry.py (rollout_doctor.cli.scan).
from rollout_doctor.cli.scan import emit_json as _emit_json
from rollout_doctor.cli.scan import missing_report as _missing_report
from rollout_doctor.cli.scan import targets as _targets


@app.command()
def check(
    paths: PathsArg = None,
    format: FormatOpt = Format.text,
    target: TargetOpt = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
) -> int:
    """Report what would stop each session from resuming. Writes nothing."""
    from rollout_doctor.cli.scan import run_check

    return run_check(paths, _options(target, select, ignore), json=format is Format.json)


@app.command()
def fix(
    paths: PathsArg = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Show the changed lines of each file.")] = False,
    unsafe_fixes: Annotated[bool, typer.Option("--unsafe-fixes", help="Also apply fixes that change what the "
                                                                      "model is told.")] = False,
    format: FormatOpt = Format.text,
    target: TargetOpt = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Rewrite even a rollout a running process may still write "
                                                        "to; what it writes afterwards is then not in the session.")] = False,
) -> int:
    """Repair sessions in place (after a backup that `undo` restores); --dry-run shows the diff only."""
    from rich.markup import escape

    from rollout_doctor.cli import render
    from rollout_doctor.core.exitcodes import exit_code
    from rollout_doctor.core.fixer import fix_files
    from rollout_doctor.store import signals
    from rollout_doctor.store.tempfiles import sweep_folder

    options = _options(target, select, ignore, unsafe_fixes)
    reports = []
    out = None
    err = render.console(stderr=True)
    if format is Format.text:
        out = render.console()
    found_all = _targets(paths)
    if not found_all:
        return ERROR
    if force and not dry_run:
        err.print("rollout-doctor: --force: a rollout that a running Codex holds open is rewritten anyway; what that "
                  "process writes afterwards goes to the replaced file, not to the session")
    if not dry_run:
        _complete_interrupted(err)
        for folder in {f.path.parent for f in found_all if not f.error}:
            sweep_folder(folder)  # temporary files a killed fix left next to the sessions
    # The diff is only shown with --diff or --dry-run and in JSON; on a 1 GB rollout it is ~200 MB.
    want_diff = diff or dry_run or format is Format.json
    interrupted: int | None = None  # the signal that stopped the run

    def show(report) -> None:  # type: ignore[no-untyped-def]
        reports.append(report)
        for warning in report.warnings:
            err.print(f"rollout-doctor: warning: {escape(warning)}")
        if out is not None:
            if report.changes and (diff or dry_run):
                render.print_changes(out, report, dry_run)
            elif report.written:
                render.print_written(out, report)
            render.print_diagnostics(out, report, report.remaining or [], unsafe_fixes)

    try:
        for found in found_all:
            if found.error:
                show(_missing_report(found))
        for fmt in dict.fromkeys(f.format for f in found_all if not f.error):
            paths_of = [f.path for f in found_all if not f.error and f.format is fmt]
            for report in fix_files(fmt, paths_of, options, dry_run=dry_run, want_diff=want_diff, force=force):
                show(report)
                interrupted = signals.pending()
                if interrupted:
                    break
            if interrupted:
                break
    except KeyboardInterrupt as exc:
        interrupted = getattr(exc, "signum", signal.SIGINT)
    if format is Format.json:
        from rollout_doctor.cli.json_report import report_json

        _emit_json(report_json(reports, unsafe=unsafe_fixes, fixing=True, interrupted=interrupted is not None))
    else:
        render.print_summary(out, reports, unsafe=unsafe_fixes, fixing=True, dry_run=dry_run)
    if interrupted is not None:
        err.print("rollout-doctor: interrupted; the files reported above are as reported, the others untouched")
        return signals.exit_code(interrupted)
    return exit_code(reports, fixing=True, dry_run=dry_run)


def _complete_interrupted(err, everything: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Finish what a killed fix or undo left half-done (store/__init__.py), and say so."""
    from rich.markup import escape

    from rollout_doctor.core.fixer import complete_interrupted
    from rollout_doctor.formats import known

    for done in complete_interrupted(known(), everything):
        files = ", ".join(str(p) for p in done.changed) or "no file changed"
        err.print(f"rollout-doctor: an interrupted run's transaction {escape(done.journal.folder.name)}: "
                  f"{escape(done.outcome)} ({escape(files)})")


@app.command()
def undo(
    path: Annotated[Path | None, typer.Argument(help="A rollout that rollout-doctor fixed.", show_default=False)] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the backups (of PATH, or all).")] = False,
    prune: Annotated[float | None, typer.Option("--prune", metavar="DAYS", help="Remove the backups of finished "
                                                "fixes older than DAYS days (they can no longer be undone).",
                                                show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Restore even if a file changed since the fix, or a "
                                                        "running process may still write to it.")] = False,
) -> int:
    """Restore a rollout, byte for byte, to what it was before the last fix (with every file that fix wrote)."""
    from rich.markup import escape

    from rollout_doctor import store
    from rollout_doctor.cli import render
    from rollout_doctor.formats import known
    from rollout_doctor.store.transaction import journals, journals_of, transaction_of_state

    out = render.console()
    err = render.console(stderr=True)
    try:
        _complete_interrupted(err, everything=True)
        if prune is not None:
            from rollout_doctor.store.transaction import prune as prune_backups

            gone = prune_backups(prune)
            for journal in gone:
                out.print(f"removed {escape(str(journal.folder))} ({escape(journal.created)}; "
                          f"{', '.join(escape(str(e.path)) for e in journal.entries)})")
            out.print(f"{len(gone)} backup(s) removed")
            return CLEAN
        if list_:
            if path:
                found, bad = journals_of(path), []
            else:
                found, bad = journals()
            if not found and not bad:
                out.print("no backups" + (f" for {escape(str(path))}" if path else ""))
            # The newest committed transaction of each file is the one the next undo restores.
            next_undo = {e.path: j for j in found if j.state == "committed" for e in j.entries}
            for journal in found:
                label = transaction_of_state(journal)
                if any(next_undo.get(e.path) is journal for e in journal.entries):
                    label += ", by the next undo"
                out.print(render.journal_line(journal, label))
            for unreadable in bad:
                err.print(f"rollout-doctor: unusable backup: {escape(unreadable.reason)}")
            return CLEAN
        if path is None:
            raise typer.BadParameter("give the rollout to restore, or --list")
        restored = store.restore(path, force=force)
    except LookupError as exc:
        err.print(f"rollout-doctor: {escape(str(exc))}")
        return ERROR
    except store.RefusedToWrite as exc:
        err.print(f"rollout-doctor: refused: {escape(str(exc))}")
        return REFUSED
    except store.WriteError as exc:
        err.print(f"rollout-doctor: {escape(str(exc))}")
        return ERROR
    except OSError as exc:
        err.print(f"rollout-doctor: {escape(str(exc.filename or path))}: {escape(exc.strerror or str(exc))}")
        return ERROR
    for warning in restored.warnings:
        err.print(f"rollout-doctor: warning: {escape(warning)}")
    journal = restored.journal
    for entry, where in zip(journal.entries, restored.files):
        what = (f"the version saved {journal.created}, before the fix ({entry.size_before} bytes, sha256 "
                f"{entry.sha256_before[:12]}…)")
        if where in restored.already:
            out.print(f"{escape(str(where))} already holds {what}; marked as restored")
        else:
            out.print(f"restored {escape(str(where))} to {what}")
    for where, saved in restored.saved.items():
        of = f" ({escape(str(where))})" if len(journal.entries) > 1 else ""
        out.print(f"the bytes it replaced{of} are saved in {escape(str(saved))}")
    # A resume after the fix made Codex (0.169.0, 0.171.0) project the fixed bytes; the restored ones
    # differ, so that projection is stale in the same way a fix leaves it (codex_state.py), and is forgotten.
    changed = [where for where in restored.files if where not in restored.already]
    resets = [reset for fmt in known() for where in changed if (reset := fmt.after_write(where, journal.folder))]
    for reset in resets:
        if reset.error:
            err.print(f"rollout-doctor: warning: Codex's thread history of {escape(reset.thread_id)} could not be "
                      f"reset ({escape(reset.error)}); Codex will log projection warnings")
        else:
            out.print(f"Codex's thread history of {escape(reset.thread_id)} was reset ({reset.rows} rows; they are "
                      f"saved in {escape(str(reset.backup))}); Codex rebuilds it at the next resume")
    return CLEAN


@app.command()
def rules(format: FormatOpt = Format.text) -> int:
    """List the rules: code, name, fix safety, whether they run by default."""
    from rollout_doctor.formats.codex.rules import RULES

    if format is Format.json:
        _emit_json([{"code": r.code, "name": r.name, "summary": r.summary, "fix_safety": r.fix_safety,
                     "default": r.default, "target": r.target} for r in RULES])
        return CLEAN
    from rollout_doctor.cli import render

    render.print_rules(render.console())
    return CLEAN


@app.command()
def rule(name: Annotated[str, typer.Argument(help="A rule name (orphan-call) or code (RD101).")]) -> int:
    """Explain a rule: what it checks, why it breaks a resume, an example, its fix safety."""
    from rollout_doctor.cli import render
    from rollout_doctor.core.rules import UnknownRule
    from rollout_doctor.formats.codex.rules import REGISTRY

    try:
        found = REGISTRY.lookup(name)
    except UnknownRule as exc:
        raise typer.BadParameter(str(exc)) from None
    render.print_rule(render.console(), found)
    return CLEAN


class Order(str, Enum):
    updated = "updated"
    created = "created"


GuardTargetOpt = TargetOpt


# `guard` and `pre-resume` normally run through rollout_doctor.cli.entry, which parses them without typer
# (start-up time is the user's wait before every resume); these definitions serve --help and library
# callers of `main`, and run the same code.
@app.command()
def guard(
    session: Annotated[str | None, typer.Argument(help="A session id (uuid) or a thread name from "
                                                          "$CODEX_HOME/session_index.jsonl.", show_default=False)] = None,
    last: Annotated[bool, typer.Option("--last", help="The session `codex resume --last` would open.")] = False,
    all_folders: Annotated[bool, typer.Option("--all", help="With --last: any folder, not just this one.")] = False,
    order: Annotated[Order, typer.Option("--order", help="With --last: `updated` (newest mtime, Codex 2026) or "
                                                         "`created` (newest name, no folder filter: 0.77.0).")] = Order.updated,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing; the exit code tells.")] = False,
    target: GuardTargetOpt = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
) -> int:
    """Before a resume: find the session's rollout as Codex does, apply the safe fixes, print one line.

    Exit 0 when the session is resumable, 1 when problems remain, 2 when it cannot be found or read,
    3 when the file changed while being fixed."""
    from rollout_doctor.cli.entry import run_guard

    if last == bool(session):
        raise typer.BadParameter("give a SESSION or --last (one of them)")
    return run_guard(session, last, all_folders, order.value, quiet, target.value if target else None, select, ignore)


@app.command("pre-resume", hidden=True, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def pre_resume(ctx: typer.Context) -> int:
    """What the shell-init wrapper calls with codex's own arguments: guard the session they resume."""
    from rollout_doctor.cli.entry import pre_resume as run_pre_resume

    return run_pre_resume(list(ctx.args))


@app.command("shell-init")
def shell_init(
    shell: Annotated[str, typer.Argument(help="bash, zsh or fish.", show_default=False)],
) -> int:
    """Print a `codex` wrapper that runs `rollout-doctor guard` before `codex resume` / `codex exec resume`.

    Add `eval "$(rollout-doctor shell-init bash)"` to ~/.bashrc (zsh: ~/.zshrc; fish:
    `rollout-doctor shell-init fish | source` in ~/.config/fish/config.fish)."""
    from rollout_doctor.formats.codex.shell import SHELLS, wrapper

    if shell not in SHELLS:
        raise typer.BadParameter(f"unknown shell {shell!r}; one of: {', '.join(SHELLS)}")
    sys.stdout.write(wrapper(shell))
    return CLEAN


def _version(value: bool) -> None:
    if value:
        print(f"rollout-doctor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Check and repair OpenAI Codex CLI session rollouts so that sessions resume."""


def main(argv: list[str] | None = None) -> int:
    from rollout_doctor.cli.entry import lenient_stdio
    from rollout_doctor.store.signals import terminate_like_interrupt

    lenient_stdio()
    terminate_like_interrupt()  # SIGTERM unwinds like Ctrl-C: no temporary file is left beside a session
    try:
        result = app(args=argv, prog_name="rollout-doctor", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print("rollout-doctor: aborted", file=sys.stderr)
        return ERROR
    except KeyboardInterrupt as exc:
        return 128 + getattr(exc, "signum", signal.SIGINT)
    except Exception as exc:
        # Usage errors (typer's vendored click, or click itself in older typer) know how to show themselves.
        if callable(getattr(exc, "show", None)) and hasattr(exc, "exit_code"):
            exc.show()
            return ERROR
        raise
    return result if isinstance(result, int) else CLEAN


if __name__ == "__main__":
    raise SystemExit(main())
