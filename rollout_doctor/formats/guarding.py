"""The pre-resume guard of one session file, whichever client's: check it, apply the safe fixes, say in
one line what happened (formats/codex/guard.py and formats/claude/guard.py find the file first).

A clean session costs one read and one check (no hashing, no temporary files); only a session with
something a safe fix solves goes through ``core.fixer.fix_files``, with its backup, atomic replace and
refusal when the file changed under it or a live client holds it. No terminal library is imported: the
receipt is plain text for the caller to print. Exit codes: receipt.py and formats/codex/guard.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.core.exitcodes import CLEAN, ERROR, REFUSED
from rollout_doctor.core.fixes import applicable
from rollout_doctor.core.plain import Frozen
from rollout_doctor.core.rules import Options
from rollout_doctor.core.verdict import RESUMES
from rollout_doctor.formats import left_out
from rollout_doctor.formats.receipt import PREFIX, left
from rollout_doctor.store.places import client_of

if TYPE_CHECKING:
    from rollout_doctor.core.format import Format


class GuardResult(Frozen):
    FIELDS = ("code", "receipt", "path")

    def __init__(self, code: int, receipt: str, path: Path | None = None) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "receipt", receipt)
        object.__setattr__(self, "path", path)


def guard_file(fmt: Format, path: Path, label: str, options: Options, force: bool = False,
               clean_note: str = "") -> GuardResult:
    """Guard ``path``; ``label`` starts the receipt ("rollout-doctor: session ID"), ``clean_note`` is added
    to the receipt of a session found clean."""
    from rollout_doctor.core.check import check_file

    checked = check_file(fmt, path, options)
    if checked.error:
        return GuardResult(ERROR, f"{label}: cannot read it: {checked.error}", path)
    if checked.cli_version:
        label += f" ({client_of(fmt.name)} {checked.cli_version})"
    if not checked.diagnostics and checked.verdict.name == RESUMES.name:
        return GuardResult(CLEAN, f"{label}: {ready(fmt, options)}{clean_note}", path)
    if not any(applicable(d.fix, options.unsafe_fixes) for d in checked.diagnostics):
        return GuardResult(*left(label, checked, path, options.target), path)
    from rollout_doctor.core.fixer import (  # only now: a clean session is the everyday path
        complete_interrupted,
        fix_files,
    )

    complete_interrupted([fmt])  # a transaction a killed run left half-done is completed before another starts
    reports = list(fix_files(fmt, [path], options, want_diff=False, force=force))
    fixed = next(r for r in reports if r.path == path)
    children = [r for r in reports if r is not fixed and r.written]
    if fixed.refused:
        return GuardResult(REFUSED, f"{label}: not fixed: {fixed.refused}", path)
    if fixed.error:
        return GuardResult(ERROR, f"{label}: not fixed: {fixed.error}", path)
    if fixed.held:
        return GuardResult(*left(label, fixed, path, options.target, f"not fixed ({fixed.held})", held=True), path)
    # Judge the file as written, under its own name: the fix loop checks its passes under temporary
    # names, where a rule comparing a header's id with the file name has nothing to compare.
    after = check_file(fmt, path, options)
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
    return GuardResult(CLEAN, f"{label}: fixed {solved} problem(s) ({rules}); {ready(fmt, options)}; {undo}", path)


def ready(fmt: Format, options: Options) -> str:
    """"ready to resume", said only when every default rule ran: with --select/--ignore leaving some out,
    what was checked is named instead."""
    skipped = left_out(fmt, options)
    if not skipped:
        return "ready to resume"
    shown = ", ".join(skipped[:4]) + (f" and {len(skipped) - 4} more" if len(skipped) > 4 else "")
    return f"no problems found by the selected rules ({shown} did not run: not a full check)"
