"""The shell function that runs the guard before a client resumes a session, for bash and zsh (POSIX) and
for fish, whichever client (formats/codex/shell.py, formats/claude/shell.py say when it runs and what the
guard is handed).

The function only does the cheap part: when the command line holds one of the client's resume words, it
hands the whole command line to ``rollout-doctor pre-resume``; every other command starts with no Python
in the way. Then the real client runs with its arguments untouched. By default the guard never stands in
the way; with ``ROLLOUT_DOCTOR_STRICT`` set the resume stops when the guard says the session will not
resume (exit 1), and only then. Ctrl-C during the guard (an exit of 128 and more: a signal) always stops
it. The guard's status is taken with ``||`` so that a shell running under ``set -e`` does not end the
function before the client runs.
"""

from __future__ import annotations

from typing import NamedTuple


class Wrapper(NamedTuple):
    command: str  # the client's program, which the function is named after: "codex"
    resumes: str  # what it guards, for the comment: "`codex resume` / `codex exec resume`"
    posix_patterns: str  # a `case " $* " in` pattern list matching a resume: *" resume "*
    fish_condition: str  # a fish condition that holds for a resume: contains -- resume $argv
    guard_words: str  # what follows `rollout-doctor pre-resume`: "--", "claude --"
    installed_by: bool  # say how it is installed (once, on the first of the functions printed)


_POSIX = """\
# rollout-doctor: run `rollout-doctor guard` before {resumes}.{installed}
{command}() {{
    case " $* " in
        {posix_patterns})
            local rd_status=0
            command rollout-doctor pre-resume {guard_words} "$@" || rd_status=$?
            if [ "$rd_status" -ge 128 ]; then
                return "$rd_status"
            fi
            if [ "$rd_status" -eq 1 ] && [ -n "${{ROLLOUT_DOCTOR_STRICT:-}}" ]; then
                return "$rd_status"
            fi
            ;;
    esac
    command {command} "$@"
}}
"""

_FISH = """\
# rollout-doctor: run `rollout-doctor guard` before {resumes}.{installed}
function {command} --wraps {command} --description '{command}, guarded by rollout-doctor before a resume'
    if {fish_condition}
        command rollout-doctor pre-resume {guard_words} $argv
        set -l rd_status $status
        if test $rd_status -ge 128
            return $rd_status
        end
        if test $rd_status -eq 1; and set -q ROLLOUT_DOCTOR_STRICT
            return $rd_status
        end
    end
    command {command} $argv
end
"""


def render(wrapper: Wrapper, shell: str) -> str:
    fish = shell == "fish"
    installed = ""
    if wrapper.installed_by:
        how = "rollout-doctor shell-init fish | source" if fish else f'eval "$(rollout-doctor shell-init {shell})"'
        installed = f"\n# Installed by: {how}"
    return (_FISH if fish else _POSIX).format(installed=installed, **wrapper._asdict())
