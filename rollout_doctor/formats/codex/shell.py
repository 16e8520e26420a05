"""A ``codex`` shell function that runs the guard before ``codex resume`` and ``codex exec resume``.

The shell only does the cheap part: when ``resume`` is one of the words, it hands the whole command
line to ``rollout-doctor pre-resume -- ARGS``, which reads it the way Codex's argument parser would
(``resume_request`` below) and guards that session; every other ``codex`` command starts with no
Python in the way. Then the real ``codex`` runs with the arguments untouched. By default the guard
never stands in the way (Codex may still resume what the guard could not fix); with
``ROLLOUT_DOCTOR_STRICT`` set in the environment a non-zero guard stops the resume. Ctrl-C during the
guard (an exit of 128 and more: a signal) always stops it: the user asked to stop. The guard's status is
taken with ``||`` so that a shell running under ``set -e`` does not end the function before codex runs.
"""

from __future__ import annotations

from dataclasses import dataclass

SHELLS = ("bash", "zsh", "fish")

_POSIX = """\
# rollout-doctor: run `rollout-doctor guard` before `codex resume` / `codex exec resume`.
# Installed by: eval "$(rollout-doctor shell-init {shell})"
codex() {{
    case " $* " in
        *" resume "*)
            local rd_status=0
            command rollout-doctor pre-resume -- "$@" || rd_status=$?
            if [ "$rd_status" -ge 128 ]; then
                return "$rd_status"
            fi
            if [ "$rd_status" -ne 0 ] && [ -n "${{ROLLOUT_DOCTOR_STRICT:-}}" ]; then
                return "$rd_status"
            fi
            ;;
    esac
    command codex "$@"
}}
"""

_FISH = """\
# rollout-doctor: run `rollout-doctor guard` before `codex resume` / `codex exec resume`.
# Installed by: rollout-doctor shell-init fish | source
function codex --wraps codex --description 'codex, guarded by rollout-doctor before a resume'
    if contains -- resume $argv
        command rollout-doctor pre-resume -- $argv
        set -l rd_status $status
        if test $rd_status -ge 128
            return $rd_status
        end
        if test $rd_status -ne 0; and set -q ROLLOUT_DOCTOR_STRICT
            return $rd_status
        end
    end
    command codex $argv
end
"""


def wrapper(shell: str) -> str:
    if shell == "fish":
        return _FISH
    return _POSIX.format(shell=shell)


# Options of `codex`, `codex exec` and `codex [exec] resume` that take a value as the next word
# (codex-rs cli/exec clap definitions, 0.77.0 to 0.169.0). `--opt=value` needs no entry.
VALUE_OPTIONS = frozenset({
    "-c", "--config", "-m", "--model", "-p", "--profile", "-s", "--sandbox", "-a", "--ask-for-approval",
    "-C", "--cd", "-i", "--image", "--add-dir", "--local-provider", "--output-schema", "-o",
    "--output-last-message", "--color", "--enable", "--disable",
})
STOP_OPTIONS = frozenset({"-h", "--help", "-V", "--version"})


@dataclass(frozen=True)
class ResumeRequest:
    session: str | None
    last: bool
    all_folders: bool
    exec_mode: bool
    cd: str | None = None  # `-C DIR` / `--cd DIR`: the folder Codex runs in, which --last matches


def resume_request(argv: list[str]) -> ResumeRequest | None:
    """What ``codex ARGV`` resumes, or None when it is not a resume the guard can name (another command,
    help, or the interactive picker: ``codex resume`` with neither a session nor ``--last``)."""
    words = iter(argv)
    path: list[str] = []  # subcommands seen: [], ["exec"], ["resume"], ["exec", "resume"]
    session: str | None = None
    last = all_folders = False
    cd: str | None = None
    for word in words:
        if word == "--":
            rest = list(words)
            if path[-1:] == ["resume"] and session is None and rest:
                session = rest[0]
            break
        if word in STOP_OPTIONS:
            return None
        if word.startswith("-") and word != "-":
            if word in ("-C", "--cd"):
                cd = next(words, None)
            elif word.startswith("--cd="):
                cd = word[len("--cd="):]
            elif word in VALUE_OPTIONS:
                next(words, None)
            elif path[-1:] == ["resume"] and word == "--last":
                last = True
            elif path[-1:] == ["resume"] and word == "--all":
                all_folders = True
            continue
        if path[-1:] == ["resume"]:
            session = session or word  # the first positional; with --last it is the prompt
            continue
        if not path and word in ("exec", "e"):
            path.append("exec")
        elif path in ([], ["exec"]) and word == "resume":
            path.append("resume")
        else:
            return None  # another subcommand, or a prompt: `codex "resume the work"`
    if path[-1:] != ["resume"]:
        return None
    if last:
        return ResumeRequest(None, True, all_folders, path[0] == "exec", cd)
    if session is None:
        return None
    return ResumeRequest(session, False, False, path[0] == "exec", cd)
