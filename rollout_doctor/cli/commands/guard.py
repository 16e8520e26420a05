"""``guard`` before a resume, ``pre-resume`` (what the shell wrapper runs), and ``shell-init`` (the wrapper).

The guard runs before every ``codex resume`` the shell wrapper sees, so its start-up is the user's wait:
this module imports only the engine, and fastpath.py parses ``guard`` and ``pre-resume`` without typer.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from rollout_doctor.cli.options import UsageError, cache_choice, rule_options
from rollout_doctor.core.exitcodes import CLEAN

if TYPE_CHECKING:
    from pathlib import Path


def guard(session: str | None, last: bool, all_folders: bool, order: str, quiet: bool, target: str | None,
          select: list[str] | None, ignore: list[str] | None, force: bool, no_cache: bool = False) -> int:
    """Before a resume: find the session's rollout as Codex does (or the transcript of a Claude Code
    session id or path), apply the safe fixes, print one line.

    Exit 0 when the session is resumable, 1 when problems remain, 2 when it cannot be found or read,
    3 when the file changed while being fixed."""
    if last == bool(session):
        raise UsageError("give a SESSION or --last (one of them)")
    cache_choice(no_cache)
    return run_guard(session, last, all_folders, order, quiet, target, select, ignore, force=force)


def run_guard(session: str | None, last: bool, all_folders: bool = False, order: str = "updated",
              quiet: bool = False, target: str | None = None, select: list[str] | None = None,
              ignore: list[str] | None = None, cwd: str | None = None, force: bool = False) -> int:
    """Guard one session and print its receipt on stderr (stdout belongs to codex); the exit code."""
    from rollout_doctor.core.exitcodes import ERROR
    from rollout_doctor.core.rules import UnknownRule
    from rollout_doctor.formats.codex.guard import guard as guard_session
    from rollout_doctor.store.runs import start_run

    start_run("guard")  # a fix it writes is undone by `undo --last-run`

    try:
        # No --target: each session's wire from config.toml (codex_config.session_wire).
        options = rule_options(target, select, ignore)
    except UnknownRule as exc:
        print(f"rollout-doctor guard: {exc}", file=sys.stderr)
        return ERROR
    from pathlib import Path

    claude = claude_transcript(session) if session else None
    if claude is not None:
        from rollout_doctor.formats.claude.guard import guard_transcript

        result = guard_transcript(claude, options, force=force)
    else:
        result = guard_session(session, last, options, all_folders=all_folders, order=order,
                               cwd=Path(os.path.abspath(os.path.expanduser(cwd))) if cwd else None, force=force)
    if not quiet:
        print(result.receipt, file=sys.stderr)
    from rollout_doctor.store import signals

    stopped = signals.pending()  # Ctrl-C while the fix was being written: finished, then stop here
    return signals.exit_code(stopped) if stopped else result.code


def claude_transcript(session: str) -> Path | None:
    """The Claude Code transcript ``guard SESSION`` names: a transcript's path, or a session id (or a
    unique prefix of one) that Codex does not know and Claude Code does."""
    from pathlib import Path

    given = Path(os.path.expanduser(session))
    if given.is_file():
        from rollout_doctor.formats.claude import CLAUDE

        return given if CLAUDE.owns_name(given.name) or CLAUDE.owns_content(given) else None
    from rollout_doctor.formats.codex.home import configured_home
    from rollout_doctor.formats.codex.sessions import SessionNotFound, find_by_name_or_id

    try:
        find_by_name_or_id(session, configured_home())
        return None  # a Codex session: Claude Code's format is not even imported (3 ms of every guard)
    except (SessionNotFound, OSError):
        from rollout_doctor.formats.claude.home import find_session

        return find_session(session)


def pre_resume(codex_args: list[str]) -> int:
    """What the shell-init wrapper runs with codex's own arguments: guard the session they resume (its id
    or name, its --last, or the picker's first page), chosen as those arguments make Codex choose it.
    Given as ``claude -- ARGS`` (the claude wrapper's call; codex's always starts with ``--``), the
    arguments are claude's (``--resume ID``, ``--continue``)."""
    if codex_args[:2] == ["claude", "--"]:
        return claude_pre_resume(codex_args[2:])
    from rollout_doctor.formats.codex.codex_args import resume_request

    request = resume_request(codex_args[1:] if codex_args[:1] == ["--"] else codex_args)
    if request is None:
        return 0
    from rollout_doctor.formats.codex.pre_resume import pre_resume as guard_resume
    from rollout_doctor.store import signals
    from rollout_doctor.store.runs import start_run

    start_run("guard")  # a fix it writes is undone by `undo --last-run`
    outcome = guard_resume(request, rule_options(None, None, None))
    print(outcome.receipt, file=sys.stderr)
    stopped = signals.pending()  # Ctrl-C while a fix was being written: finished, then stop here
    return signals.exit_code(stopped) if stopped else outcome.code


def claude_pre_resume(claude_args: list[str]) -> int:
    """Guard the transcript a ``claude`` command line takes up (``--resume ID``, ``--continue``)."""
    from pathlib import Path

    from rollout_doctor.formats.claude.claude_args import resume_request

    request = resume_request(claude_args)
    if request is None:
        return 0
    from rollout_doctor.formats.claude.guard import guard_claude
    from rollout_doctor.store import signals
    from rollout_doctor.store.runs import start_run

    start_run("guard")
    outcome = guard_claude(request, rule_options(None, None, None), Path.cwd())
    print(outcome.receipt, file=sys.stderr)
    stopped = signals.pending()
    return signals.exit_code(stopped) if stopped else outcome.code


def shell_init(shell: str) -> int:
    """Print `codex` and `claude` wrappers that run `rollout-doctor guard` before `codex resume` / `codex exec
    resume` and before `claude --resume` / `claude --continue`.

    Add `eval "$(rollout-doctor shell-init bash)"` to ~/.bashrc (zsh: ~/.zshrc; fish:
    `rollout-doctor shell-init fish | source` in ~/.config/fish/config.fish)."""
    from rollout_doctor.formats.claude.shell import wrapper as claude_wrapper
    from rollout_doctor.formats.codex.shell import SHELLS, wrapper

    if shell not in SHELLS:
        raise UsageError(f"unknown shell {shell!r}; one of: {', '.join(SHELLS)}")
    sys.stdout.write(wrapper(shell) + "\n" + claude_wrapper(shell))
    return CLEAN
