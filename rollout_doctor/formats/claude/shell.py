"""A ``claude`` shell function that runs the guard before ``claude --resume`` and ``claude --continue``.

As the ``codex`` wrapper (formats/shell_wrapper.py has the rules both follow), the shell only looks for
``-r``, ``--resume``, ``-c`` or ``--continue`` among the words, and hands the whole command line to
``rollout-doctor pre-resume claude -- ARGS``, which reads it as claude does (claude_args.py).
"""

from __future__ import annotations

from rollout_doctor.formats.shell_wrapper import Wrapper, render

CLAUDE = Wrapper(
    "claude", "`claude --resume` / `claude --continue`",
    '*" -r "*|*" --resume "*|*" --resume="*|*" -c "*|*" --continue "*',
    "contains -- -r $argv; or contains -- --resume $argv; or contains -- -c $argv; or contains -- --continue $argv; "
    "or string match -q -- '--resume=*' $argv",
    "claude --", installed_by=False)


def wrapper(shell: str) -> str:
    return render(CLAUDE, shell)
