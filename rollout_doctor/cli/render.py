"""Text output through rich: diagnostics, diffs and summaries a person can read.

Only the CLI imports this module, so the library never pulls in a terminal.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rollout_doctor.core.fixes import Applicability, applicable
from rollout_doctor.core.reports import Change, FileReport
from rollout_doctor.formats.codex.rules import RULES, Diagnostic, Rule

MARKS = {
    "insert": ("+", "green"),
    "remove": ("-", "red"),
    "move": ("↕", "cyan"),
    "modify": ("~", "yellow"),
}


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def fix_mark(d: Diagnostic, unsafe: bool) -> str:
    if d.fix is None:
        return ""
    if applicable(d.fix, unsafe):
        return "[bold green]\\[*][/] "
    if d.fix.applicability is Applicability.UNSAFE:
        return "[yellow]\\[unsafe fix][/] "
    return ""


def diagnostic_line(path: Path, d: Diagnostic, unsafe: bool) -> str:
    """``FILE:LINE: CODE rule message``; a fork's inherited problem names the parent's file and line."""
    call = f" [dim](call_id {escape(d.call_id)})[/]" if d.call_id else ""
    where = f"[bold]{escape(display_path(path))}[/]:{d.line + 1}"
    if d.path is not None:
        where = f"[bold]{escape(display_path(path))}[/]: [bold]{escape(display_path(d.path))}[/]:{d.line + 1}"
    return f"{where}: [bold red]{d.code}[/] [magenta]{d.rule}[/] {fix_mark(d, unsafe)}{escape(d.message)}{call}"


def print_written(out: Console, report: FileReport) -> None:
    if report.role == "child":
        out.print(f"rewrote {escape(display_path(report.path))}: it continues a session that was fixed, and now points at "
                  f"the same place in it ({len(report.applied)} fix(es))")
    else:
        out.print(f"fixed {escape(display_path(report.path))}: {len(report.applied)} fix(es) applied")


def journal_line(journal, label: str) -> str:  # type: ignore[no-untyped-def]
    files = ", ".join(escape(str(e.path)) for e in journal.entries)
    entry = journal.entries[0]
    return (f"{journal.created}  {files}  ({label}; {entry.size_before} bytes, sha256 {entry.sha256_before[:12]}… "
            f"before the fix, {entry.size_after} bytes, sha256 {entry.sha256_after[:12]}… after; "
            f"{escape(str(journal.folder))})")


def release_label(report: FileReport) -> str:
    """Which Codex wrote the file (session_meta.cli_version) and in which generation of the format."""
    release = f"written by Codex {report.cli_version}" if report.cli_version else "Codex release unknown"
    return f"{release}, {report.generation or 'unknown'} rollout"


def print_diagnostics(out: Console, report: FileReport, diagnostics: list[Diagnostic], unsafe: bool) -> None:
    if report.error:
        out.print(f"[bold red]error:[/] {escape(report.error)}")
    if report.in_progress:
        out.print(f"[bold]{escape(display_path(report.path))}[/] [yellow]in progress:[/] {escape(report.in_progress)}; "
                  "its current turn is not judged")
    if report.held:
        out.print(f"[bold]{escape(display_path(report.path))}[/] [yellow]not fixed:[/] {escape(report.held)}")
    if diagnostics:
        out.print(f"[bold]{escape(display_path(report.path))}[/] [dim]({escape(release_label(report))}; "
                  f"{len(diagnostics)} problem(s))[/]")
    for d in diagnostics:
        out.print(diagnostic_line(report.path, d, unsafe))


def print_changes(out: Console, report: FileReport, dry_run: bool) -> None:
    if not report.changes:
        return
    state = "would change (dry run, nothing written)" if dry_run else "changed"
    out.print(f"[bold]--- {escape(display_path(report.path))}[/] {state}: "
              f"{len(report.changes)} line(s), {report.passes} pass(es)")
    for change in report.changes:
        out.print(change_line(change))


def change_line(change: Change) -> str:
    mark, colour = MARKS[change.kind]
    if change.kind == "move":
        where = f"{change.old_line}→{change.new_line}"
    elif change.kind == "remove":
        where = f"{change.old_line}"
    else:
        where = f"{change.new_line}"
    note = f"  [dim]({escape(change.note)})[/]" if change.note else ""
    return f"  [{colour}]{mark} {where:>9}  {escape(change.summary)}[/]{note}"


def print_summary(out: Console, reports: list[FileReport], unsafe: bool, fixing: bool, dry_run: bool) -> None:
    diagnostics = [d for r in reports for d in r.diagnostics]
    errors = [r for r in reports if r.error]
    if len(reports) > 1 or diagnostics or errors:
        out.print()
    if len(reports) > 1 and diagnostics:
        out.print(rule_table(reports))
    if fixing:
        _print_fixed(out, reports, unsafe, dry_run)
    elif diagnostics:
        _print_found(out, reports)
    elif not errors and any(r.in_progress for r in reports):
        live = sum(1 for r in reports if r.in_progress)
        out.print(f"No problems found in {len(reports)} file(s); {live} in progress (a running Codex writes them, "
                  "so their current turn was not judged).")
    elif not errors:
        out.print(f"[green]All clear:[/] {len(reports)} file(s) checked, no problems.")
    if errors:
        out.print(f"[red]{len(errors)} file(s) could not be read.[/]")


def _print_fixed(out: Console, reports: list[FileReport], unsafe: bool, dry_run: bool) -> None:
    recoverable = sum(1 for r in reports for d in r.diagnostics if d.alternative is not None)
    written = sum(1 for r in reports if r.written)
    changed = sum(1 for r in reports if r.changes)
    remaining = sum(len(r.remaining or []) for r in reports)
    held = sum(len(r.held_back(unsafe)) for r in reports)
    verb = f"would change {changed}" if dry_run else f"fixed {written}"
    line = f"{len(reports)} file(s) checked, {verb} file(s); {remaining} problem(s) remain"
    if held:
        line += f" ({held} with an unsafe fix held back: rerun with --unsafe-fixes)"
    out.print(line + ".")
    if recoverable and not unsafe and dry_run:
        out.print(f"{recoverable} call(s) would get 'aborted' although an event recorded what the tool printed; "
                  "`--unsafe-fixes` writes that instead.")
    elif recoverable and not unsafe:
        out.print(f"{recoverable} call(s) got 'aborted' although an event recorded what the tool printed; "
                  "to write that instead: `rollout-doctor undo FILE`, then `rollout-doctor fix --unsafe-fixes FILE`.")
    refused_shown: set[str] = set()
    for r in reports:
        if r.refused and r.refused not in refused_shown:
            refused_shown.add(r.refused)
            out.print(f"[bold red]refused:[/] {escape(r.refused)}")
        elif r.backup:
            out.print(f"[dim]backup of {escape(display_path(r.path))}: {escape(str(r.backup))}[/]")
        reset = r.index_reset
        if reset is not None and reset.error is None:
            out.print(f"[dim]Codex's thread history of {reset.thread_id} reset ({reset.rows} rows in "
                      f"{escape(str(reset.database))}; Codex rebuilds it at the next resume); "
                      f"database backup: {escape(str(reset.backup))}[/]")


def _print_found(out: Console, reports: list[FileReport]) -> None:
    diagnostics = [d for r in reports for d in r.diagnostics]
    errors = [r for r in reports if r.error]
    with_problems = [r for r in reports if r.diagnostics]
    unreadable = f", {len(errors)} unreadable" if errors else ""
    out.print(f"Scanned {len(reports)} file(s): {len(with_problems)} session(s) with {len(diagnostics)} "
              f"problem(s){unreadable}.")
    safe = sum(1 for d in diagnostics if applicable(d.fix, False))
    safe_files = sum(1 for r in reports if any(applicable(d.fix, False) for d in r.diagnostics))
    parts = [f"`rollout-doctor fix` would fix {safe} of them in {safe_files} file(s)"]
    unsafe_only = sum(1 for d in diagnostics if d.fix is not None and d.fix.applicability is Applicability.UNSAFE)
    if unsafe_only:
        parts.append(f"{unsafe_only} more need `--unsafe-fixes` (they change what the model is told)")
    recoverable = sum(1 for d in diagnostics if d.alternative is not None)
    if recoverable:
        parts.append(f"with `--unsafe-fixes`, {recoverable} call(s) get the output an event recorded "
                     "instead of 'aborted'")
    inherited = sum(1 for d in diagnostics if d.fix is None and d.path is not None)
    if inherited:
        parts.append(f"{inherited} live in the session a fork continues (fixing that session fixes them in "
                     "the fork too)")
    no_fix = sum(1 for d in diagnostics if d.fix is None and d.path is None)
    if no_fix:
        parts.append(f"{no_fix} have no automatic fix (`rollout-doctor rule NAME` explains each)")
    out.print("; ".join(parts) + ".")
    out.print(f"[dim]Codex releases of the files with problems: {escape(releases(with_problems))}.[/]")


def _fix_column(diagnostics: list[Diagnostic]) -> str:
    kinds = sorted({"none" if d.fix is None else d.fix.applicability.value for d in diagnostics},
                   key=["safe", "unsafe", "none"].index)
    text = "/".join(kinds)
    recoverable = sum(1 for d in diagnostics if d.alternative is not None)
    if recoverable:
        text += f" ({recoverable} recoverable with --unsafe-fixes)"
    return text


def rule_table(reports: list[FileReport]) -> Table:
    """Per rule: problems, files, and how they are fixed; the most frequent first."""
    by_rule: dict[tuple[str, str], list[Diagnostic]] = {}
    files: Counter[tuple[str, str]] = Counter()
    for report in reports:
        seen: set[tuple[str, str]] = set()
        for d in report.diagnostics:
            by_rule.setdefault((d.code, d.rule), []).append(d)
            seen.add((d.code, d.rule))
        files.update(seen)
    table = Table(title=None, show_edge=False, box=None, pad_edge=False)
    for column, justify in (("count", "right"), ("files", "right"), ("code", "left"), ("rule", "left"),
                            ("fix", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for key, found in sorted(by_rule.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        table.add_row(str(len(found)), str(files[key]), key[0], key[1], _fix_column(found))
    return table


def releases(reports: list[FileReport]) -> str:
    counts = Counter(r.cli_version or "unknown" for r in reports)
    return ", ".join(f"{version} ({count} file(s))" for version, count in counts.most_common())


def print_rules(out: Console) -> None:
    table = Table(show_edge=False, box=None, pad_edge=False)
    for column in ("code", "name", "fix", "default", "summary"):
        table.add_column(column)
    for rule in RULES:
        fix = rule.fix_safety.split(":", 1)[0]
        if fix.startswith("safe") and "unsafe" in rule.fix_safety:
            fix = "safe/unsafe"
        default = "yes" if rule.default else "opt-in"
        if rule.target:
            default = f"--target {rule.target}"
        table.add_row(rule.code, rule.name, fix, default, rule.summary)
    out.print(table)


def print_rule(out: Console, rule: Rule) -> None:
    out.print(f"[bold]{rule.name}[/] ({rule.code})  fix: {escape(rule.fix_safety)}")
    out.print()
    out.print(escape(rule.doc))


class ScanProgress:
    """A progress bar for a folder scan, on stderr: bytes and files checked, time left.

    Refreshed only when a file (or a range of a big one) is done, so it runs no thread of its own:
    the scan may fork worker processes while it is shown. Lines printed to stdout while it is up go
    above it (rich redirects stdout during the display)."""

    def __init__(self, total_bytes: int, files: int) -> None:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        self.files = files
        self.done_files = 0
        self.progress = Progress(
            TextColumn("checking"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[files]}"),
            TimeRemainingColumn(), console=console(stderr=True), auto_refresh=False, transient=True,
        )
        self.task = self.progress.add_task("check", total=total_bytes, files=f"0/{files} files")

    def __enter__(self) -> ScanProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def advance(self, nbytes: int) -> None:
        self.progress.update(self.task, advance=nbytes, refresh=True)

    def file_done(self) -> None:
        self.done_files += 1
        self.progress.update(self.task, files=f"{self.done_files}/{self.files} files", refresh=True)
