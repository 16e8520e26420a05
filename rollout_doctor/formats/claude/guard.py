"""The pre-resume guard for Claude Code: find the transcript ``claude --resume ID`` or ``claude --continue``
takes up, then guard it (formats/guarding.py; exit codes as for Codex: receipt.py). A live ``claude``
running the session makes the fix refuse (its registry of running sessions: home.py).
"""

from __future__ import annotations

from pathlib import Path

from rollout_doctor.core.exitcodes import CLEAN, ERROR
from rollout_doctor.core.rules import Options
from rollout_doctor.formats.claude import home as claude_home
from rollout_doctor.formats.claude.claude_args import ClaudeResume
from rollout_doctor.formats.claude.format import CLAUDE
from rollout_doctor.formats.guarding import GuardResult, guard_file
from rollout_doctor.formats.receipt import PREFIX

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
    label = f"{PREFIX}: session {claude_home.session_id(path) or path.stem}"
    return guard_file(CLAUDE, path, label, options, force, clean_note=f" ({NOT_IN_THE_FILE})")
