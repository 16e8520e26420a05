"""Text output through rich: diagnostics, diffs and summaries a person can read.

Only the CLI imports this module, so the library never pulls in a terminal.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rollout_doctor.engine import Change, FileReport
from rollout_doctor.fixes import Applicability, applicable
from rollout_doctor.rules import RULES, Diagnostic, Rule

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
    call = f" [dim](call_id {escape(d.call_id)})[/]" if d.call_id else ""
    return (f"[bold]{escape(display_path(path))}[/]:{d.line + 1}: [bold red]{d.code}[/] "
            f"[magenta]{d.rule}[/] {fix_mark(d, unsafe)}{escape(d.message)}{call}")


def print_diagnostics(out: Console, report: FileReport, diagnostics: list[Diagnostic], unsafe: bool) -> None:
    if report.error:
        out.print(f"[bold red]error:[/] {escape(report.error)}")
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
    with_problems = [r for r in reports if r.diagnostics]
    if len(reports) > 1 or diagnostics or errors:
        out.print()
    if len(reports) > 1 and diagnostics:
        counts = Counter((d.code, d.rule) for d in diagnostics)
        table = Table(title=None, show_edge=False, box=None, pad_edge=False)
        table.add_column("count", justify="right")
        table.add_column("code")
        table.add_column("rule")
        for (code, rule), count in sorted(counts.items()):
            table.add_row(str(count), code, rule)
        out.print(table)
    safe = sum(1 for d in diagnostics if applicable(d.fix, False))
    unsafe_only = sum(1 for d in diagnostics if d.fix is not None and d.fix.applicability is Applicability.UNSAFE)
    if fixing:
        written = sum(1 for r in reports if r.written)
        changed = sum(1 for r in reports if r.changes)
        remaining = sum(len(r.remaining or []) for r in reports)
        held = sum(len(r.held_back(unsafe)) for r in reports)
        verb = f"would change {changed}" if dry_run else f"fixed {written}"
        line = f"{len(reports)} file(s) checked, {verb} file(s); {remaining} problem(s) remain"
        if held:
            line += f" ({held} with an unsafe fix held back: rerun with --unsafe-fixes)"
        out.print(line + ".")
        for r in reports:
            if r.refused:
                out.print(f"[bold red]refused:[/] {escape(r.refused)}")
            elif r.backup:
                out.print(f"[dim]backup of {escape(display_path(r.path))}: {escape(str(r.backup))}[/]")
    elif diagnostics:
        line = (f"Found {len(diagnostics)} problem(s) in {len(with_problems)} of {len(reports)} file(s); "
                f"{safe} fixable with `rollout-doctor fix`")
        if unsafe_only and not unsafe:
            line += f", {unsafe_only} more with `--unsafe-fixes`"
        out.print(line + ".")
    elif not errors:
        out.print(f"[green]All clear:[/] {len(reports)} file(s) checked, no problems.")
    if errors:
        out.print(f"[red]{len(errors)} file(s) could not be read.[/]")


def print_rules(out: Console) -> None:
    table = Table(show_edge=False, box=None, pad_edge=False)
    for column in ("code", "name", "fix", "default", "summary"):
        table.add_column(column)
    for rule in RULES:
        fix = rule.fix_safety.split(":", 1)[0]
        if fix.startswith("safe when"):
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
