"""The pre-resume guard: find one session's rollout, apply the safe fixes, say in one line what happened.

It is what runs before every ``codex resume``, so it does the least it can: a clean session costs one
read and one check (no hashing, no temporary files); only a session with something a safe fix solves
goes through ``core.fixer.fix_files``, with its backup, atomic replace and refusal when the file changed
under it. No terminal library is imported: the receipt is plain text for the caller to print.

Exit codes (the project's meanings, README "Exit codes"):
0 the session is resumable (clean, or clean after the safe fixes);
1 it will not resume: a problem the API or Codex refuses remains, which no safe fix solves (receipt.py);
2 the session could not be found or read (or judged: the history it continues is missing), or a usage error;
3 refused to write: the file changed while it was being fixed (a running Codex appending to it);
4 it resumes, but problems remain that no safe fix solves: Codex patches or skips them at every resume.
The receipt names the first problem left and the command that fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rollout_doctor.core.exitcodes import CLEAN, ERROR, REFUSED
from rollout_doctor.core.fixes import applicable
from rollout_doctor.core.verdict import RESUMES
from rollout_doctor.formats.codex.receipt import PREFIX, left
from rollout_doctor.formats.codex.rules import Options
from rollout_doctor.formats.codex.sessions import Session, SessionNotFound, resolve


@dataclass(frozen=True)
class GuardResult:
    code: int
    receipt: str
    path: Path | None = None


def guard(session: str | None, last: bool, options: Options, all_folders: bool = False,
          order: str = "updated", home: Path | None = None, cwd: Path | None = None,
          force: bool = False, chosen: Session | None = None) -> GuardResult:
    """Guard the session ``session`` or ``--last`` names, or ``chosen``, already found as the command line
    that resumes it chooses (pre_resume.py)."""
    from rollout_doctor.core.check import check_file
    from rollout_doctor.formats.codex.format import CODEX

    try:
        rollout: Session = chosen or resolve(session, last, all_folders, home, cwd, order=order)
    except SessionNotFound as exc:
        return GuardResult(ERROR, f"{PREFIX}: {exc}")
    path = rollout.path
    checked = check_file(CODEX, path, options)
    label = f"{PREFIX}: session {rollout.thread_id}"
    if checked.error:
        return GuardResult(ERROR, f"{label}: cannot read it: {checked.error}", path)
    if checked.cli_version:
        label += f" (Codex {checked.cli_version})"
    if not checked.diagnostics and checked.verdict.name == RESUMES.name:
        return GuardResult(CLEAN, f"{label}: ready to resume", path)
    if not any(applicable(d.fix, options.unsafe_fixes) for d in checked.diagnostics):
        return GuardResult(*left(label, checked, path, options.target), path)
    from rollout_doctor.core.fixer import (  # only now: a clean session is the everyday path
        complete_interrupted,
        fix_files,
    )

    complete_interrupted([CODEX])  # a transaction a killed run left half-done is completed before another starts
    reports = list(fix_files(CODEX, [path], options, want_diff=False, force=force))
    fixed = next(r for r in reports if r.path == path)
    children = [r for r in reports if r is not fixed and r.written]
    if fixed.refused:
        return GuardResult(REFUSED, f"{label}: not fixed: {fixed.refused}", path)
    if fixed.error:
        return GuardResult(ERROR, f"{label}: not fixed: {fixed.error}", path)
    if fixed.held:
        return GuardResult(*left(label, fixed, path, options.target, f"not fixed ({fixed.held})", held=True), path)
    # Judge the file as written, under its own name: the fix loop checks its passes under temporary
    # names, where a rule comparing session_meta.id with the file name has nothing to compare.
    after = check_file(CODEX, path, options)
    judged = after if not after.error else fixed
    remaining = judged.problems
    rules = ", ".join(sorted({d.rule for d in fixed.diagnostics if applicable(d.fix, options.unsafe_fixes)}))
    solved = len(fixed.diagnostics) - len(remaining)
    undo = f"undo: `{PREFIX} undo {path}`"
    if children:
        undo += f"; {len(children)} fork(s) of it rewritten with it"
    if remaining or judged.verdict.name != RESUMES.name:
        return GuardResult(*left(label, judged, path, options.target, f"fixed {solved} problem(s) ({rules}; {undo})"),
                           path)
    return GuardResult(CLEAN, f"{label}: fixed {solved} problem(s) ({rules}); ready to resume; {undo}", path)
