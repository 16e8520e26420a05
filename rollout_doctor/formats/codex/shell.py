"""A ``codex`` shell function that runs the guard before ``codex resume`` and ``codex exec resume``.

The shell only does the cheap part: when ``resume`` is one of the words, it hands the whole command
line to ``rollout-doctor pre-resume -- ARGS``, which reads it the way Codex's argument parser would
(``codex_args.resume_request``) and guards that session; every other ``codex`` command starts with no
Python in the way. Then the real ``codex`` runs with the arguments untouched. By default the guard
never stands in the way (Codex may still resume what the guard could not fix); with
``ROLLOUT_DOCTOR_STRICT`` set in the environment the resume stops when the guard says the session will
not resume (exit 1: a problem the API or Codex refuses is left), and only then: a session Codex resumes
with problems it patches or skips (exit 4), one the guard could not find or judge (2), or could not write
(3) is resumed, with the guard's receipt on stderr. Ctrl-C during the
guard (an exit of 128 and more: a signal) always stops it: the user asked to stop. The guard's status is
taken with ``||`` so that a shell running under ``set -e`` does not end the function before codex runs.
"""

from __future__ import annotations

from rollout_doctor.formats.codex.codex_args import ResumeRequest, resume_request
from rollout_doctor.formats.shell_wrapper import Wrapper, render

__all__ = ["SHELLS", "ResumeRequest", "resume_request", "wrapper"]  # the parser lives in codex_args.py

SHELLS = ("bash", "zsh", "fish")

CODEX = Wrapper("codex", "`codex resume` / `codex exec resume`", '*" resume "*', "contains -- resume $argv", "--",
                installed_by=True)


def wrapper(shell: str) -> str:
    return render(CODEX, shell)
