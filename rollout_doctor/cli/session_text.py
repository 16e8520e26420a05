"""Sessions on the screen: a header per session, its problems one line each, the sessions that will not
resume first with the command that fixes them, and ``list``'s one line per session.

The lines are built as plain text by layout.py (what each holds, cut to the console's width); this
module only colours and prints them.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from rollout_doctor.cli import layout
from rollout_doctor.core.fixes import Applicability, applicable
from rollout_doctor.core.reports import FileReport
from rollout_doctor.core.rules import Diagnostic


def markup(line: layout.Line) -> str:
    """A line of the session view as rich markup."""
    return "".join(f"[{style}]{escape(text)}[/]" if style and text else escape(text) for text, style in line)


def mark_of(d: Diagnostic, unsafe: bool) -> layout.Segment:
    """``[*]`` when the fix applies, ``[unsafe fix]`` when only --unsafe-fixes would apply one."""
    if d.fix is not None and applicable(d.fix, unsafe):
        return "[*] ", "bold green"
    if d.fix is not None and d.fix.applicability is Applicability.UNSAFE:
        return "[unsafe fix] ", "yellow"
    return "", ""


def print_session(out: Console, report: FileReport, diagnostics: list[Diagnostic], unsafe: bool,
                  full: bool = False, header: bool = True) -> bool:
    """A session with something to say: its header, what kept it from being judged or fixed, then each
    problem in one line cut to the width, or whole (``--format full``); without the header when the
    caller has just printed it (a fix's diff). Whether it printed anything."""
    if not (diagnostics or report.error or report.in_progress or report.held):
        return False
    for line in layout.header(report, out.width) if header else []:
        out.print(markup(line))
    if report.error:
        out.print(f"  [bold red]error:[/] {escape(report.error)}")
    if report.in_progress:
        out.print(f"  [yellow]in progress:[/] {escape(report.in_progress)}; its current turn is not judged")
    if report.held:
        out.print(f"  [yellow]not fixed:[/] {escape(report.held)}")
    width = layout.label_width(diagnostics)
    for d in diagnostics:
        if full:
            for line in layout.problem_detail(d, mark_of(d, unsafe), width):
                out.print(markup(line))
        else:
            out.print(markup(layout.problem_line(d, mark_of(d, unsafe), width, out.width)))
    return True


def print_lead(out: Console, reports: list[FileReport], roots: list[Path] | None, target: str | None) -> None:
    """The sessions that will not resume, one line each with the first problem that stops it, and the one
    command that fixes them; nothing when every session resumes."""
    stuck = layout.stopping(reports)
    if not stuck:
        return
    out.print(f"[bold red]Will not resume:[/] {len(stuck)} session(s)")
    for report in stuck:
        first = report.stopping()[0] if report.stopping() else None
        problem: layout.Segment = (f"{first.code} {first.rule}", "magenta") if first else ("", "")
        line = [("  ", ""), (layout.short_id(report), "bold"), ("  ", ""), problem, ("  ", ""),
                layout.thread_name(report), ("  ", ""), (layout.cut_left(layout.folder_of(report), 30), "cyan")]
        out.print(markup(layout.fit(line, out.width, 5)))
    print_fix(out, stuck, roots, target)
    out.print()


def print_fix(out: Console, stuck: list[FileReport], roots: list[Path] | None, target: str | None) -> None:
    """The one command that fixes the sessions that will not resume, and what no command fixes."""
    from rollout_doctor.formats.codex.sessions import shortest_name

    command, no_fix = layout.fix_command(stuck, roots, target, named=shortest_name)
    if command:
        out.print(f"[bold]Fix:[/] {escape(command)}")
    if no_fix:
        out.print(f"No automatic fix for {escape(', '.join(no_fix))}: `rollout-doctor rule CODE` says what to do.",
                  soft_wrap=not out.is_terminal)


def print_list(out: Console, reports: list[FileReport], whole: bool, roots: list[Path] | None = None) -> None:
    """``list``: one line per session (newest first, as given), what the verdicts mean, and the command
    that fixes the sessions that will not resume."""
    folder_width = max((layout.cells(layout.folder_of(r)) for r in reports), default=0)
    for report in reports:
        out.print(markup(layout.list_line(report, out.width, whole, folder_width)))
    seen = {r.verdict.name: r.verdict for r in reports}
    meanings = [f"{name}: {verdict.says}" for name, verdict in seen.items() if name != verdict.says]
    line = ""
    for meaning in meanings:  # what the verdicts mean, in lines that fit the width too
        if line and layout.cells(f"{line}; {meaning}") > out.width:
            out.print(f"[dim]{escape(line)}[/]")
            line = ""
        line = f"{line}; {meaning}" if line else meaning
    if line:
        out.print(f"[dim]{escape(line)}[/]")
    print_fix(out, layout.stopping(reports), roots, None)
