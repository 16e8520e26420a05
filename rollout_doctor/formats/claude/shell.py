"""A ``claude`` shell function that runs the guard before ``claude --resume`` and ``claude --continue``.

As the ``codex`` wrapper (formats/codex/shell.py, whose rules it follows: the guard never stands in the
way unless ``ROLLOUT_DOCTOR_STRICT`` is set and the session will not resume; Ctrl-C stops it): the shell
only looks for ``-r``, ``--resume``, ``-c`` or ``--continue`` among the words, and hands the whole command
line to ``rollout-doctor pre-resume claude -- ARGS``, which reads it as claude does (claude_args.py).
"""

from __future__ import annotations

_POSIX = """\
# rollout-doctor: run `rollout-doctor guard` before `claude --resume` / `claude --continue`.
claude() {{
    case " $* " in
        *" -r "*|*" --resume "*|*" --resume="*|*" -c "*|*" --continue "*)
            local rd_status=0
            command rollout-doctor pre-resume claude -- "$@" || rd_status=$?
            if [ "$rd_status" -ge 128 ]; then
                return "$rd_status"
            fi
            if [ "$rd_status" -eq 1 ] && [ -n "${{ROLLOUT_DOCTOR_STRICT:-}}" ]; then
                return "$rd_status"
            fi
            ;;
    esac
    command claude "$@"
}}
"""

_FISH = """\
# rollout-doctor: run `rollout-doctor guard` before `claude --resume` / `claude --continue`.
function claude --wraps claude --description 'claude, guarded by rollout-doctor before a resume'
    if contains -- -r $argv; or contains -- --resume $argv; or contains -- -c $argv; or contains -- --continue $argv; or string match -q -- '--resume=*' $argv
        command rollout-doctor pre-resume claude -- $argv
        set -l rd_status $status
        if test $rd_status -ge 128
            return $rd_status
        end
        if test $rd_status -eq 1; and set -q ROLLOUT_DOCTOR_STRICT
            return $rd_status
        end
    end
    command claude $argv
end
"""


def wrapper(shell: str) -> str:
    return _FISH if shell == "fish" else _POSIX.format()
