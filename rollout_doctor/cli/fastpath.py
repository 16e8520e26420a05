"""``check``, ``guard`` and ``pre-resume`` parsed with argparse, without typer (and ``list`` and ``fix``
when spelt plainly).

``guard`` runs before every ``codex resume`` the shell wrapper sees, and ``check FILE`` before every
resume a pre-resume hook sees, so their start-up is the user's wait. Importing typer (it vendors
click) and building the app costs ~65 ms here (median of 15 cold starts, 2026-11-29), where a whole
`check` of a small session takes ~90 ms and the guard's own work on a 5 MB session ~30 ms
(``bench/guard.py``). The parsers here are built from the same parameter table
as typer's commands (options.py) and call the same command functions; ``--help``, and any ``check``
they cannot parse (a bad option, an unknown rule), go to typer, which reports it as usual.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from rollout_doctor.cli.options import Param, UsageError, params_of

if TYPE_CHECKING:
    import argparse

HELP = frozenset({"-h", "--help"})


class Deferred(Exception):
    """The fast parser cannot take these arguments: typer parses them (and reports any error)."""


def run(args: list[str]) -> int | None:
    """The exit code of a command run from here; None when typer must take the arguments."""
    command, rest = args[:1], args[1:]
    if command == ["pre-resume"] and rest[:1] not in (["--help"], ["-h"]):
        # codex's own words follow `--` (the wrapper's call): a --help among them is codex's
        from rollout_doctor.cli.commands.guard import pre_resume

        return pre_resume(rest)
    if HELP & set(rest):
        return None
    if command == ["guard"]:
        return fast_guard(rest)
    if command == ["check"]:
        return fast_check(rest)
    if command in (["list"], ["sessions"]):
        return fast_list(rest)
    if command == ["fix"]:
        return fast_fix(rest)
    return None


def fast_guard(args: list[str]) -> int:
    """``guard`` without typer; a bad argument gets argparse's usage message or the guard's own line."""
    from rollout_doctor.cli.commands.guard import guard
    from rollout_doctor.core.exitcodes import ERROR

    try:
        values = plain_values("guard", args) or vars(parser_for("guard").parse_args(args))
    except SystemExit as exc:  # argparse has printed the usage error
        return ERROR if exc.code else 0
    try:
        return guard(**values)
    except UsageError as exc:
        print(f"rollout-doctor guard: {exc}", file=sys.stderr)
        return ERROR


def fast_check(args: list[str]) -> int | None:
    """``check`` without typer; None to let typer take the arguments (and report what is wrong). The run is
    recorded for a replay (run_cache.py), which main.py tries before anything is parsed."""
    from rollout_doctor.cli import run_cache
    from rollout_doctor.cli.commands.check import check
    from rollout_doctor.core.rules import UnknownRule

    try:
        values = plain_values("check", args) or vars(parser_for("check", defer=True).parse_args(args))
        paths = values["paths"] or None
        if paths is not None and not all(os.path.lexists(p) for p in paths):
            return check(**values)  # a session id among them: found through the home, not kept
        with run_cache.Recorder("check", args, paths) as recorder:
            code = check(**values)  # an unknown rule is raised before anything is printed
        recorder.finish(code)
        return code
    except (Deferred, UnknownRule):
        return None


def fast_list(args: list[str]) -> int | None:
    """``list`` without typer (a hook may run it before every resume); None to let typer take the
    arguments and report what is wrong."""
    from rollout_doctor.cli.commands.list import list_sessions

    try:
        values = plain_values("list", args) or vars(parser_for("list", defer=True).parse_args(args))
        return list_sessions(**values)
    except (Deferred, UsageError):
        return None


def fast_fix(args: list[str]) -> int | None:
    """``fix`` spelt plainly (plain_values), without typer; None to let typer take any other spelling.

    Memory, more than time: typer 0.29 converts every parameter it reads with pydantic, and typer, its
    click and pydantic are 13 MiB of a fix's peak, whose target on a 1 GB rollout is 100 MiB (issue 14;
    RSS when the original is read: 37 MiB through typer, 24 MiB from here). A bad rule name or option
    value is found before anything is read or written (rule_options), and typer then reports it."""
    from rollout_doctor.cli.commands.fix import fix
    from rollout_doctor.core.rules import UnknownRule

    values = plain_values("fix", args)
    if values is None:
        return None
    try:
        return fix(**values)
    except UnknownRule:  # raised before anything is printed: typer says what is wrong
        return None


def plain_values(command: str, args: list[str]) -> dict[str, Any] | None:
    """What argparse makes of ``args`` (``parser_for(command)``) when they are spelt the plain way:
    options first, each exactly as listed (a value as the next word), then the arguments, no word of
    them starting with ``-``. None for anything else, which argparse then parses, errors and all.

    ``guard ID`` and ``check --format json FOLDER`` are the words a shell wrapper or a hook says before
    every resume; importing argparse (with gettext and locale) and building its parser is 3.5 ms of
    their start-up (2026-11-29, Python 3.11). tests/test_fastpath_plain.py holds the answers equal."""
    params = params_of(command)
    flags = {flag: param for param in params for flag in param.flags}
    values: dict[str, Any] = {param.dest: False if param.type is bool else param.default for param in params}
    given: set[str] = set()
    words = iter(args)
    rest: list[str] = []
    for word in words:
        if not word.startswith("-"):
            rest = [word, *words]
            break
        param = flags.get(word)
        if param is None:
            return None
        if param.type is bool:
            values[param.dest] = True
            continue
        value = _converted(param, next(words, None))
        if value is None:
            return None
        values[param.dest] = [*(values[param.dest] or ()), value] if param.many else value
        given.add(param.dest)
    positional = [param for param in params if param.positional]
    if not positional:
        return None if rest else _string_defaults(params, values, given)
    if len(positional) > 1:
        return None
    param = positional[0]
    converted = [_converted(param, word) for word in rest]
    if any(value is None for value in converted):
        return None
    if param.many:
        values[param.dest] = converted if converted or param.default is None else param.default
    elif len(converted) == 1:
        values[param.dest] = converted[0]
        given.add(param.dest)
    elif converted or param.required:
        return None
    return _string_defaults(params, values, given)


def _converted(param: Param, word: str | None) -> Any:
    """``word`` as argparse stores it for ``param``; None when argparse would refuse it (or might read it
    otherwise)."""
    if word is None or word.startswith("-"):
        return None
    try:
        value = word if param.type is str else param.type(word)
    except (TypeError, ValueError):
        return None
    choices = param.choice_values()
    return None if choices is not None and value not in choices else value


def _string_defaults(params: tuple[Param, ...], values: dict[str, Any], given: set[str]) -> dict[str, Any] | None:
    """argparse passes a string default it used through the parameter's type; None (argparse decides)
    for a default the type refuses."""
    for param in params:
        if param.dest not in given and isinstance(param.default, str) and param.type not in (str, bool):
            value = _converted(param, param.default)
            if value is None:
                return None
            values[param.dest] = value
    return values


def parser_for(command: str, defer: bool = False) -> argparse.ArgumentParser:
    """An argparse parser of ``command``'s parameters; with ``defer``, an error raises Deferred instead of
    printing the usage and exiting."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str):  # type: ignore[no-untyped-def]
            if defer:
                raise Deferred(message)
            super().error(message)

    class Building(argparse.HelpFormatter):
        """The formatter while arguments are added: ``add_argument`` formats each one to check it, and
        argparse's own formatter asks the terminal's width for that text no one sees, importing shutil
        (and bz2, lzma, zlib with it: 2 ms of a start-up, 2026-11-29)."""

        def __init__(self, prog: str) -> None:
            super().__init__(prog, width=80)

    parser = Parser(prog=f"rollout-doctor {command}", add_help=False, allow_abbrev=False, formatter_class=Building)
    for param in params_of(command):
        parser.add_argument(*param.flags or (param.dest,), **argparse_settings(param))
    parser.formatter_class = argparse.HelpFormatter  # a usage error is printed at the terminal's width
    return parser


def argparse_settings(param: Param) -> dict[str, Any]:
    if param.type is bool:
        return {"dest": param.dest, "action": "store_true", "help": param.help}
    settings: dict[str, Any] = {"default": param.default, "choices": param.choice_values(), "help": param.help}
    if param.type is not str:
        settings["type"] = param.type
    if param.metavar:
        settings["metavar"] = param.metavar
    if param.positional:
        settings["nargs"] = "*" if param.many else None if param.required else "?"
    else:
        settings["dest"] = param.dest
        if param.many:
            settings["action"] = "append"
    return settings
