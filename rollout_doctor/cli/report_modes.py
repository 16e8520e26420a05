"""What ``--statistics`` and ``-q/--quiet`` print in place of the full report of ``check`` and ``fix``.

As in ruff: ``--statistics`` prints one line per rule (how many problems, ``[*]`` when ``fix`` fixes them
all) instead of one per problem, and for ``check`` nothing else; ``fix`` still says what it wrote, and
counts what remains. ``--quiet`` prints the problems, one line each, and the errors: no summary, no
progress line, no backups. Both together: the rule lines alone. With ``--format json``,
``--statistics`` prints ruff's JSON statistics (code, name, count, fixable) instead of the report.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from rollout_doctor.core.fixes import Applicability, applicable

if TYPE_CHECKING:
    from rich.console import Console

    from rollout_doctor.cli.options import View
    from rollout_doctor.core.reports import FileReport
    from rollout_doctor.core.rules import Diagnostic


class Statistic:
    """One rule's line."""

    __slots__ = ("code", "count", "fixable", "name", "unsafe")

    def __init__(self, code: str, name: str, count: int, fixable: int, unsafe: int) -> None:
        self.code, self.name, self.count = code, name, count
        self.fixable = fixable  # how many of them the fix applies (safe ones; unsafe ones too with --unsafe-fixes)
        self.unsafe = unsafe  # how many more --unsafe-fixes would fix


def statistics(diagnostics: list[Diagnostic], unsafe: bool) -> list[Statistic]:
    """Per rule, the most frequent first (then by code), as ruff orders them."""
    counts: Counter[tuple[str, str]] = Counter()
    fixable: Counter[tuple[str, str]] = Counter()
    held: Counter[tuple[str, str]] = Counter()
    for d in diagnostics:
        counts[d.code, d.rule] += 1
        if applicable(d.fix, unsafe):
            fixable[d.code, d.rule] += 1
        elif d.fix is not None and d.fix.applicability is Applicability.UNSAFE:
            held[d.code, d.rule] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Statistic(code, name, n, fixable[code, name], held[code, name]) for (code, name), n in ranked]


def print_file(out: Console, report: FileReport, diagnostics: list[Diagnostic], unsafe: bool, view: View,
               header: bool = True) -> None:
    """One file's part of the report (``header``: unless the caller has just printed the session's)."""
    from rich.markup import escape

    from rollout_doctor.cli import render

    if view.standard:
        render.print_diagnostics(out, report, diagnostics, unsafe, header=header)
        return
    if report.error:
        out.print(f"[bold red]error:[/] {escape(render.display_path(report.path))}: {escape(report.error)}")
    if report.refused:
        out.print(f"[bold red]refused:[/] {escape(report.refused)}")
    if not view.statistics:
        for d in diagnostics:
            out.print(render.diagnostic_line(report.path, d, unsafe))


def print_statistics(out: Console, reports: list[FileReport], unsafe: bool) -> None:
    """ruff's ``--statistics`` lines: count, code, ``[*]`` when the fix applies to all of them, name."""
    from rich.markup import escape

    found = statistics([d for r in reports for d in r.problems], unsafe)
    width = max((len(str(s.count)) for s in found), default=1)
    for s in found:
        mark = "[*]" if s.fixable == s.count else "[ ]"
        out.print(f"{s.count:>{width}}  {s.code}  {escape(mark)} {escape(s.name)}")
    if any(s.fixable for s in found):
        out.print(escape("[*] fixable with `rollout-doctor fix`"))
    held = sum(s.unsafe for s in found)
    if held:
        out.print(f"{held} more fixable with `rollout-doctor fix --unsafe-fixes`")


def statistics_json(reports: list[FileReport], unsafe: bool) -> list[dict[str, object]]:
    """ruff's ``--statistics --output-format json``: one object per rule."""
    return [{"code": s.code, "name": s.name, "count": s.count, "fixable": s.fixable == s.count}
            for s in statistics([d for r in reports for d in r.problems], unsafe)]
