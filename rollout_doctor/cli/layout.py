"""The session view as plain text: which pieces each line holds and how it is cut to the width.

A line is a list of segments, ``(text, style)``, where the style is a rich style name (or "" for
none): render.py colours them, and tests read the text. Every line but a file's path is cut to the
width it is given (the console's: ``COLUMNS`` when set), so the layout never depends on how a
terminal would wrap it; what is cut ends with "…". No rich here: the width of a text is counted in
terminal cells with the standard library.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.core.fixes import Applicability
from rollout_doctor.store.places import client_of

if TYPE_CHECKING:
    from rollout_doctor.core.reports import FileReport
    from rollout_doctor.core.rules import Diagnostic
    from rollout_doctor.core.verdict import Effect

Segment = tuple[str, str]
Line = list[Segment]
ELLIPSIS = "…"
MIN_WIDTH = 40  # narrower than this, lines are cut as if it were this wide


def cells(text: str) -> int:
    """Terminal cells ``text`` takes: wide (CJK, most emoji) 2, combining marks 0."""
    if text.isascii():
        return len(text)
    import unicodedata  # only for text that needs it: `check FILE` runs before every resume

    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, its end replaced by "…" when it does not fit."""
    if cells(text) <= width:
        return text
    kept, used = [], 0
    for c in text:
        if used + cells(c) > width - 1:
            break
        kept.append(c)
        used += cells(c)
    return "".join(kept) + ELLIPSIS if width > 0 else ""


def cut_left(text: str, width: int) -> str:
    """The same, keeping the end (a folder's last parts say most)."""
    return cut(text[::-1], width)[::-1] if cells(text) > width else text


def fit(line: Line, width: int, elastic: int, keep_end: bool = False) -> Line:
    """``line`` with its segment ``elastic`` cut so that the whole fits ``width`` cells."""
    room = max(width, MIN_WIDTH) - sum(cells(text) for n, (text, _) in enumerate(line) if n != elastic)
    text, style = line[elastic]
    shortened = (cut_left if keep_end else cut)(text, max(room, 1))
    return [*line[:elastic], (shortened, style), *line[elastic + 1:]]


def text_of(line: Line) -> str:
    return "".join(text for text, _ in line)


# --- pieces ---------------------------------------------------------------------------------------


def shown_path(path: Path | str) -> str:
    """A path as the reader can use it, short: relative to the current folder when inside it, else with
    ``~`` for the home folder."""
    path = Path(path)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return home_short(str(path))


def home_short(folder: str) -> str:
    home = os.path.expanduser("~")
    if home not in ("", "/") and (folder == home or folder.startswith(home + os.sep)):
        return "~" + folder[len(home):]
    return folder


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def local_time(timestamp: float) -> str:
    """When a session last changed, in the reader's time zone, to the minute."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def verdict_style(verdict: Effect) -> str:
    """The colour of a verdict: red when the session will not resume, green when it resumes cleanly."""
    from rollout_doctor.core.verdict import RESUMES, UNKNOWN

    if verdict.stops_resume:
        return "bold red"
    return {RESUMES.name: "green", UNKNOWN.name: "magenta"}.get(verdict.name, "yellow")


def short_id(report: FileReport) -> str:
    session_id = report.session.id if report.session is not None else None
    return (session_id or "?")[:8].ljust(8)


def thread_name(report: FileReport) -> Segment:
    name = report.session.name if report.session is not None else None
    return (name, "bold") if name else ("(no name)", "dim")


# --- lines ----------------------------------------------------------------------------------------


def header(report: FileReport, width: int) -> list[Line]:
    """The lines that say which session a report is about: id, name and verdict; its folder, last change,
    Codex release and size; then its file's path, whole (a path cut short cannot be used)."""
    verdict = report.verdict
    first = fit([(short_id(report), "bold"), ("  ", ""), thread_name(report), ("  ", ""),
                 (verdict.says, verdict_style(verdict))], width, 2)
    lines = [first]
    facts = session_facts(report)
    if facts:
        second: Line = [("  ", "")]
        for n, (text, style) in enumerate(facts):
            second += [(" · ", "dim")] if n else []
            second.append((text, style))
        has_folder = report.session is not None and bool(report.session.cwd)
        lines.append(fit(second, width, 1, keep_end=True) if has_folder else second)
    lines.append([("  ", ""), (shown_path(report.path), "dim")])
    # A fork's problems in the history it inherits live in its parent's file: named once, here.
    for parent in dict.fromkeys(d.path for d in report.problems if d.path is not None):
        lines.append([("  inherits from ", "dim"), (shown_path(parent), "dim")])
    return lines


def session_facts(report: FileReport) -> list[Segment]:
    """Folder (first: it is what gets cut), last change, release, size; what is unknown is left out."""
    session = report.session
    facts: list[Segment] = []
    if session is not None and session.cwd:
        facts.append((home_short(session.cwd), "cyan"))
    if session is not None and session.updated is not None:
        facts.append((local_time(session.updated), ""))
    if report.cli_version:
        facts.append((f"{client_of(report.format or 'codex')} {report.cli_version}", ""))
    if session is not None and session.size is not None:
        facts.append((human_size(session.size), ""))
    return facts


def line_label(d: Diagnostic) -> str:
    return str(d.line + 1)


def problem_line(d: Diagnostic, mark: Segment, label_width: int, width: int) -> Line:
    """One problem in one line: its line, rule code and name, whether a fix applies, the message cut."""
    return fit([*rule_of(d, label_width), mark, (d.message, "")], width, 8)


def rule_of(d: Diagnostic, label_width: int) -> Line:
    """A problem's line, rule code and name: how each of its lines in the view begins."""
    return [("  ", ""), (line_label(d).rjust(label_width), "dim"), ("  ", ""), (d.code, "bold red"), (" ", ""),
            (d.rule, "magenta"), (" ", "")]


def label_width(diagnostics: Iterable[Diagnostic]) -> int:
    return max((len(line_label(d)) for d in diagnostics), default=1)


def problem_detail(d: Diagnostic, mark: Segment, label_width: int) -> list[Line]:
    """``--format full``: the same first line, uncut, then the whole message, the call id, where an
    inherited problem lives, and the fixes with their titles."""
    lines: list[Line] = [[*rule_of(d, label_width), mark, (f"({d.effect})", "dim")]]
    indent = " " * (label_width + 4)
    lines.append([(indent, ""), (d.message, "")])
    if d.call_id:
        lines.append([(indent, ""), (f"call_id {d.call_id}", "dim")])
    if d.path is not None:
        lines.append([(indent, ""), (f"in {shown_path(d.path)}, line {d.line + 1}", "dim")])
    for label, fix in (("fix", d.fix), ("instead, with --unsafe-fixes", d.alternative)):
        if fix is not None:
            lines.append([(indent, ""), (f"{label} ({fix.applicability.value}): {fix.title}", "green")])
    return lines


def list_line(report: FileReport, width: int, whole: bool = False, folder_width: int = 0) -> Line:
    """``list``: one session in one line: last change, id, verdict, size, folder (in a column
    ``folder_width`` wide, as far as the width allows), name; ``whole``: nothing cut, and the path."""
    session, verdict = report.session, report.verdict
    updated = local_time(session.updated) if session is not None and session.updated is not None else "?"
    size = human_size(session.size) if session is not None and session.size is not None else "?"
    name = thread_name(report)
    line: Line = [(updated.ljust(16), ""), ("  ", ""), (short_id(report), "bold"), ("  ", ""),
                  (verdict.name.ljust(8), verdict_style(verdict)), ("  ", ""), (size.rjust(8), ""),
                  ("  ", "")]
    folder = folder_of(report)
    column = folder_width
    if not whole:  # the folder keeps its end, and leaves the name at least half of what is left
        room = max(width, MIN_WIDTH) - cells(text_of(line)) - 2
        column = min(folder_width, max(room // 2, room - cells(name[0])))
        folder = cut_left(folder, column)
    line += [(folder + " " * (column - cells(folder)), "cyan"), ("  ", ""), name]
    if whole:
        return [*line, ("  ", ""), (shown_path(report.path), "dim")]
    return fit(line, width, 10)


def folder_of(report: FileReport) -> str:
    return home_short(report.session.cwd) if report.session is not None and report.session.cwd else "?"


def stopping(reports: Iterable[FileReport]) -> list[FileReport]:
    """The sessions that will not resume until they are fixed."""
    return [r for r in reports if r.verdict.stops_resume]


NAMED_SESSIONS = 6  # ids of 8 or so digits: six of them and the command still fit 80 columns


def fix_command(stuck: list[FileReport], roots: list[Path] | None, target: str | None,
                show: bool = True, named: Callable[[Path], str | None] | None = None) -> tuple[str | None, list[str]]:
    """The one command that fixes the sessions that will not resume, and the rules whose problems no
    command fixes. The sessions are named by id when ``named`` gives each a short one (up to
    ``NAMED_SESSIONS`` of them), else by path when they are few, else the folders that were checked;
    ``show`` shortens paths for a reader (JSON keeps them whole)."""
    blocking = [(r, d) for r in stuck for d in r.stopping()]
    no_fix = sorted({f"{d.code} {d.rule}" for _, d in blocking if d.fix is None and d.alternative is None})
    fixable = [r for r in stuck if any(d.fix is not None or d.alternative is not None for d in r.stopping())]
    if not fixable:
        return None, no_fix
    import shlex  # here: importing it costs a millisecond, and most runs have no session to name

    def quoted(path: Path) -> str:
        text = shown_path(path) if show else str(path)
        if text.startswith("~/"):
            return "~/" + shlex.quote(text[2:])
        return shlex.quote(text)
    words = ["rollout-doctor", "fix"]
    if any(d.fix is not None and d.fix.applicability is Applicability.UNSAFE for _, d in blocking):
        words.append("--unsafe-fixes")
    if target:
        words += ["--target", target]
    ids = [named(r.path) for r in fixable[:NAMED_SESSIONS + 1]] if named is not None else []
    if ids and len(fixable) <= NAMED_SESSIONS and all(ids):
        words += [i for i in ids if i]
    elif len(fixable) <= 3:
        words += [quoted(r.path) for r in fixable]
    else:
        words += [quoted(root) for root in roots or ()]
    return " ".join(words), no_fix
