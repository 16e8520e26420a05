"""The pre-resume guard for Claude Code: find the transcript ``claude --resume ID`` or ``claude --continue``
takes up, apply the safe fixes, say in one line what happened (exit codes as for Codex: receipt.py).

A clean session costs one read and one check; only a session with something a safe fix solves goes
through ``core.fixer.fix_files`` (backup, atomic replace, refusal while a live ``claude`` runs it).
"""

from __future__ import annotations

from pathlib import Path

from rollout_doctor.core.exitcodes import CLEAN, ERROR, REFUSED
from rollout_doctor.core.fixes import applicable
from rollout_doctor.core.rules import Options
from rollout_doctor.core.verdict import RESUMES
from rollout_doctor.formats.claude import home as claude_home
from rollout_doctor.formats.claude.claude_args import ClaudeResume
from rollout_doctor.formats.claude.format import CLAUDE
from rollout_doctor.formats.codex.guard import GuardResult
from rollout_doctor.formats.codex.receipt import PREFIX, left

# When a resume still fails with a pairing error on a file that checks clean: the request is Claude
# Code's own making (#90771, #14173: 119 uses, 119 results in the file, an orphan in the request).
NOT_IN_THE_FILE = ("if the resume still fails, the error is not in this file: Claude Code builds the failing "
                   "request itself (anthropics/claude-code#90771, #14173)")


def transcript_of(request: ClaudeResume, cwd: Path, home: Path | None = None) -> Path | None:
    if request.session is not None:
        return claude_home.find_session(request.session, home)
    if request.continue_last:
        return claude_home.latest_in(cwd, home)
    return None


def guard_claude(request: ClaudeResume, options: Options, cwd: Path, home: Path | None = None,
                 force: bool = False) -> GuardResult:
    if request.picker:
        what = f"the picker (searching {request.search!r})" if request.search else "the picker"
        return GuardResult(CLEAN, f"{PREFIX}: `claude --resume` opens {what}; nothing to guard until a session "
                                  "is chosen (`rollout-doctor guard ID` guards one)")
    path = transcript_of(request, cwd, home)
    if path is None:
        asked = (f"session {request.session}" if request.session else f"a conversation in {cwd} to continue")
        return GuardResult(ERROR, f"{PREFIX}: no Claude Code transcript for {asked} under "
                                  f"{(home or claude_home.configured_home()) / claude_home.PROJECTS}")
    return guard_transcript(path, options, force)


def guard_transcript(path: Path, options: Options, force: bool = False) -> GuardResult:
    from rollout_doctor.core.check import check_file

    checked = check_file(CLAUDE, path, options)
    label = f"{PREFIX}: session {claude_home.session_id(path) or path.stem}"
    if checked.error:
        return GuardResult(ERROR, f"{label}: cannot read it: {checked.error}", path)
    if checked.cli_version:
        label += f" (Claude Code {checked.cli_version})"
    if not checked.diagnostics and checked.verdict.name == RESUMES.name:
        return GuardResult(CLEAN, f"{label}: ready to resume ({NOT_IN_THE_FILE})", path)
    if not any(applicable(d.fix, options.unsafe_fixes) for d in checked.diagnostics):
        return GuardResult(*left(label, checked, path, None), path)
    from rollout_doctor.core.fixer import complete_interrupted, fix_files

    complete_interrupted([CLAUDE])
    [fixed] = [r for r in fix_files(CLAUDE, [path], options, want_diff=False, force=force) if r.path == path]
    if fixed.refused:
        return GuardResult(REFUSED, f"{label}: not fixed: {fixed.refused}", path)
    if fixed.error:
        return GuardResult(ERROR, f"{label}: not fixed: {fixed.error}", path)
    if fixed.held:
        return GuardResult(*left(label, fixed, path, None, f"not fixed ({fixed.held})", held=True), path)
    after = check_file(CLAUDE, path, options)
    judged = after if not after.error else fixed
    rules = ", ".join(sorted({d.rule for d in fixed.diagnostics if applicable(d.fix, options.unsafe_fixes)}))
    solved = len(fixed.diagnostics) - len(judged.problems)
    undo = f"undo: `{PREFIX} undo {path}`"
    if judged.problems or judged.verdict.name != RESUMES.name:
        return GuardResult(*left(label, judged, path, None, f"fixed {solved} problem(s) ({rules}; {undo})"), path)
    return GuardResult(CLEAN, f"{label}: fixed {solved} problem(s) ({rules}); ready to resume; {undo}", path)
