"""The pre-resume guard for Codex: find one session's rollout as ``codex resume`` does, then guard it
(formats/guarding.py: check, the safe fixes, one line saying what happened).

It is what runs before every ``codex resume``, so it does the least it can: a clean session costs one
read and one check.

Exit codes (the project's meanings, README "Exit codes"):
0 the session is resumable (clean, or clean after the safe fixes);
1 it will not resume: a problem the API or Codex refuses remains, which no safe fix solves (receipt.py);
2 the session could not be found or read (or judged: the history it continues is missing), or a usage error;
3 refused to write: the file changed while it was being fixed (a running Codex appending to it);
4 it resumes, but problems remain that no safe fix solves: Codex patches or skips them at every resume.
The receipt names the first problem left and the command that fixes it.
"""

from __future__ import annotations

from pathlib import Path

from rollout_doctor.core.exitcodes import ERROR
from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex.sessions import Session, SessionNotFound, resolve
from rollout_doctor.formats.guarding import GuardResult, guard_file
from rollout_doctor.formats.receipt import PREFIX

__all__ = ["PREFIX", "GuardResult", "guard"]


def guard(session: str | None, last: bool, options: Options, all_folders: bool = False,
          order: str = "updated", home: Path | None = None, cwd: Path | None = None,
          force: bool = False, chosen: Session | None = None) -> GuardResult:
    """Guard the session ``session`` or ``--last`` names, or ``chosen``, already found as the command line
    that resumes it chooses (pre_resume.py)."""
    from rollout_doctor.formats.codex.format import CODEX

    try:
        rollout: Session = chosen or resolve(session, last, all_folders, home, cwd, order=order)
    except SessionNotFound as exc:
        return GuardResult(ERROR, f"{PREFIX}: {exc}")
    return guard_file(CODEX, rollout.path, f"{PREFIX}: session {rollout.thread_id}", options, force)
