"""What the guard says when problems are left that it did not fix, and its exit code for them.

What a problem does to a resume decides (core/verdict.py): a session the API or the client refuses will
not resume (exit 1, the one case the shell wrapper's ``ROLLOUT_DOCTOR_STRICT`` stops a resume for); any
other problem leaves a session that resumes, the client (Codex, Claude Code) patching or skipping what is
wrong on every resume (exit 4). Either way the receipt names the first problem that matters and the command that fixes it,
or says that none does.
"""

from __future__ import annotations

from pathlib import Path

from rollout_doctor.core.exitcodes import ERROR, PROBLEMS, RESUMES_WITH_PROBLEMS
from rollout_doctor.core.fixes import Applicability, applicable
from rollout_doctor.core.reports import FileReport
from rollout_doctor.core.rules import Diagnostic

PREFIX = "rollout-doctor"


def first_problem(problems: list[Diagnostic]) -> str:
    d = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    where = f"line {d.line + 1}" if d.path is None else f"line {d.line + 1} of {d.path}"
    return f"{d.code} {d.rule} at {where}: {d.message}{more}"


def fixing_command(problems: list[Diagnostic], path: Path, target: str | None, held: bool = False) -> str:
    """The command that fixes ``problems`` (``held``: safe fixes that only --unsafe-fixes writes), or what
    to read when no command does."""
    safe = not held and any(applicable(d.fix, False) for d in problems)
    unsafe = held or any(d.fix is not None and d.fix.applicability is Applicability.UNSAFE for d in problems)
    if not safe and not unsafe:
        return f"no automatic fix: `{PREFIX} rule {problems[0].rule}` says what to do"
    import shlex  # only for a receipt that names a command: a clean session is the everyday path

    words = [PREFIX, "fix", *([] if safe else ["--unsafe-fixes"]), *(["--target", target] if target else [])]
    return f"to fix: `{' '.join([*words, shlex.quote(str(path))])}`"


def left(label: str, report: FileReport, path: Path, target: str | None, done: str = "",
         held: bool = False) -> tuple[int, str]:
    """The exit code and receipt for a session whose problems (``report.problems``) were not all fixed;
    ``done`` says what was done first (what was fixed, or why nothing was)."""
    verdict = report.verdict
    said = f"{label}: {done}; it" if done else f"{label}:"
    if verdict.stops_resume:
        stopping = report.stopping()
        how = fixing_command(stopping, path, target, held)
        return PROBLEMS, f"{said} will not resume: {first_problem(stopping)}; {how}"
    problems = report.problems
    if not problems:  # nothing found, but the history it continues could not be read
        problem = report.thread.problem if report.thread is not None else None
        return ERROR, f"{said} could not be judged: {problem or report.error}"
    return RESUMES_WITH_PROBLEMS, (f"{said} {verdict.says}: {first_problem(problems)}; "
                                   f"{fixing_command(problems, path, target, held)}")
