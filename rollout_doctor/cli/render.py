"""Text output through rich: diagnostics, diffs and summaries a person can read.

Only the CLI imports this module, so the library never pulls in a terminal.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rollout_doctor.cli import layout, session_text
from rollout_doctor.core.fixes import Applicability, applicable
from rollout_doctor.core.reports import Change, FileReport
from rollout_doctor.core.verdict import RESUMES, UNKNOWN
from rollout_doctor.formats.codex.rules import Diagnostic

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


def print_diagnostics(out: Console, report: FileReport, diagnostics: list[Diagnostic], unsafe: bool,
                      full: bool = False, header: bool = True) -> bool:
    """A session's header and problems (session_text.py); nothing for a session with nothing to say.
    Whether it printed anything."""
    return session_text.print_session(out, report, diagnostics, unsafe, full, header)


def print_changes(out: Console, report: FileReport, dry_run: bool) -> None:
    """The session's header, what the fix does to it, and each changed line cut to the width (the
    summary gives way; the mark, the line number and the note stay)."""
    if not report.changes:
        return
    before = report.replaced(remaining=None)  # the header says how the session is now
    for line in layout.header(before if dry_run else report, out.width):
        out.print(session_text.markup(line))
    lines, passes = len(report.changes), report.passes
    if dry_run:
        then = f"; then it {report.verdict.says}" if report.verdict.says != before.verdict.says else ""
        state = [("  dry run: ", "bold"), (f"{lines} line(s) would change, nothing written{then}", "")]
    else:
        state = [("  changed ", "bold"), (f"{lines} line(s) in {passes} pass(es)", "")]
    out.print(session_text.markup(layout.fit(state, out.width, elastic=1)))
    for change in report.changes:
        out.print(session_text.markup(change_line(change, out.width)))


def change_line(change: Change, width: int) -> layout.Line:
    mark, colour = MARKS[change.kind]
    if change.kind == "move":
        where = f"{change.old_line}→{change.new_line}"
    elif change.kind == "remove":
        where = f"{change.old_line}"
    else:
        where = f"{change.new_line}"
    line: layout.Line = [(f"  {mark} {where:>7}  ", colour), (change.summary, colour)]
    if change.note:
        line.append((f"  ({change.note})", "dim"))
    return layout.fit(line, width, elastic=1)


def print_summary(out: Console, reports: list[FileReport], unsafe: bool, fixing: bool, dry_run: bool,
                  left_out: list[str] | None = None) -> None:
    """The closing sentences; on a terminal, wrapped at word boundaries to its width (elsewhere one line
    each, for grep). ``left_out``: the default rules the selection kept from running (then finding
    nothing is not an all-clear)."""
    saved, out.soft_wrap = out.soft_wrap, not out.is_terminal
    try:
        _print_summary(out, reports, unsafe, fixing, dry_run, left_out or [])
    finally:
        out.soft_wrap = saved


def _print_summary(out: Console, reports: list[FileReport], unsafe: bool, fixing: bool, dry_run: bool,
                   left_out: list[str]) -> None:
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
    elif not errors and any(r.verdict.name == UNKNOWN.name for r in reports):
        unjudged = sum(1 for r in reports if r.verdict.name == UNKNOWN.name)
        out.print(f"No problems found in {len(reports)} file(s), but {unjudged} could not be judged (the history "
                  "they continue is missing): not all clear.")
    elif not errors and any(r.in_progress for r in reports):
        from rollout_doctor.store.places import client_of

        live = [r for r in reports if r.in_progress]
        clients = " or ".join(dict.fromkeys(client_of(r.format or "codex") for r in live))
        out.print(f"No problems found in {len(reports)} file(s); {len(live)} in progress (a running {clients} writes "
                  "them, so their current turn was not judged).")
    elif not errors and left_out:
        shown = ", ".join(left_out[:6]) + (f" and {len(left_out) - 6} more" if len(left_out) > 6 else "")
        out.print(f"No problems found by the selected rules in {len(reports)} file(s); {shown} did not run "
                  "(--select/--ignore): not all clear.")
    elif not errors:
        out.print(f"[green]All clear:[/] {len(reports)} file(s) checked, no problems.")
        if any(r.format == "claude" for r in reports):
            # anthropics/claude-code#90771, #14173: a consistent transcript, an orphan in the request.
            out.print("[dim]If `claude --resume` still fails with a tool_use/tool_result error, it is not in the "
                      "file: Claude Code builds that request itself (anthropics/claude-code#90771, #14173).[/]")
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
    out.print(verdict_tally(reports))
    safe = sum(1 for d in diagnostics if applicable(d.fix, False))
    safe_files = sum(1 for r in reports if any(applicable(d.fix, False) for d in r.diagnostics))
    parts = [f"`rollout-doctor fix` would fix {safe} of them in {safe_files} file(s)"]
    unsafe_only = sum(1 for d in diagnostics if d.fix is not None and d.fix.applicability is Applicability.UNSAFE)
    if unsafe_only:
        parts.append(f"{unsafe_only} more need `fix --unsafe-fixes` (they change what the model is told)")
    recoverable = sum(1 for d in diagnostics if d.alternative is not None)
    if recoverable:
        parts.append(f"with `fix --unsafe-fixes`, {recoverable} call(s) get the output an event recorded "
                     "instead of 'aborted'")
    inherited = sum(1 for d in diagnostics if d.fix is None and d.path is not None)
    if inherited:
        parts.append(f"{inherited} live in the session a fork continues (fixing that session fixes them in "
                     "the fork too)")
    no_fix = sum(1 for d in diagnostics if d.fix is None and d.path is None)
    if no_fix:
        parts.append(f"{no_fix} have no automatic fix (`rollout-doctor rule NAME` explains each)")
    out.print("; ".join(parts) + ".")
    if all(r.format in ("", "codex") for r in with_problems):
        out.print(f"[dim]Codex releases of the files with problems: {escape(releases(with_problems))}.[/]")
    else:
        out.print(f"[dim]Releases of the files with problems: {escape(releases(with_problems, True))}.[/]")


def verdict_tally(reports: list[FileReport]) -> str:
    """How many sessions will not resume, resume with problems, resume cleanly, or could not be judged."""
    counts: Counter[str] = Counter()
    for report in reports:
        verdict = report.verdict
        if verdict.stops_resume:
            counts["[bold red]will not resume[/]"] += 1
        elif verdict.name == RESUMES.name:
            counts["[green]resume cleanly[/]"] += 1
        elif verdict.name == UNKNOWN.name:
            counts["[magenta]could not be judged[/]"] += 1
        else:
            counts["[yellow]resume with problems[/]"] += 1
    order = ["will not", "resume with", "could not", "resume cleanly"]
    ranked = sorted(counts.items(), key=lambda kv: next(n for n, word in enumerate(order) if word in kv[0]))
    return "Sessions: " + ", ".join(f"{count} {label}" for label, count in ranked) + "."


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


def releases(reports: list[FileReport], clients: bool = False) -> str:
    from rollout_doctor.store.places import client_of

    counts = Counter((f"{client_of(r.format or 'codex')} " if clients else "") + (r.cli_version or "unknown")
                     for r in reports)
    return ", ".join(f"{version} ({count} file(s))" for version, count in counts.most_common())


def print_rules(out: Console) -> None:
    table = Table(show_edge=False, box=None, pad_edge=False)
    for column in ("code", "name", "fix", "default", "summary"):
        table.add_column(column)
    from rollout_doctor.formats import known

    for rule in (rule for fmt in known() for rule in fmt.rules):
        fix = rule.fix_safety.split(":", 1)[0]
        if fix.startswith("safe") and "unsafe" in rule.fix_safety:
            fix = "safe/unsafe"
        default = "yes" if rule.default else "opt-in"
        if rule.target:
            default = f"--target {rule.target}"
        table.add_row(rule.code, rule.name, fix, default, rule.summary)
    out.print(table)

