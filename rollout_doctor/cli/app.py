"""The typer app: every command of the command line, with its --help.

Each command is a function in cli/commands/; its typer parameters are built from options.PARAMS, as are
the argparse fast paths, and its help is its docstring. ``check``, ``guard`` and ``pre-resume`` normally
run through the fast path (fastpath.py); typer serves their --help, what the fast path cannot parse, and
library callers of ``main``, and runs the same functions.

Exit codes (README, "Exit codes"): 0 nothing left to report, 1 problems remain, 2 usage or I/O error,
3 refused to write.
"""

from __future__ import annotations

import inspect
import signal
import sys
from collections.abc import Callable
from enum import Enum
from functools import cache
from typing import Annotated, Any

import typer

from rollout_doctor import __version__
from rollout_doctor.cli import completion
from rollout_doctor.cli.commands import check, fix, guard, rules, undo
from rollout_doctor.cli.commands import list as list_
from rollout_doctor.cli.options import Param, UsageError, params_of
from rollout_doctor.cli.process import asks_for_completion, prepare
from rollout_doctor.core.exitcodes import CLEAN, ERROR
from rollout_doctor.core.rules import UnknownRule

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Check and repair OpenAI Codex CLI session rollouts so that sessions resume.",
    context_settings={"help_option_names": ["-h", "--help"]},
)


@cache
def choice_type(param: Param) -> type[Enum]:
    """The choices of ``param`` as the str Enum typer wants for them."""
    return Enum(param.dest.title(), [(value, value) for value in param.choice_values() or ()], type=str)


def typer_parameter(param: Param) -> inspect.Parameter:
    """``param`` as a parameter of a typer command's signature: its type (an Enum for choices, a list for a
    repeatable one, optional when it may be absent) annotated with typer's Argument or Option."""
    kind: Any = choice_type(param) if param.choices else param.type
    if param.many:
        kind = list[kind]  # type: ignore[valid-type]
    if param.default is None and not param.required:
        kind = kind | None
    if param.positional:
        info = typer.Argument(help=param.help, metavar=param.metavar, show_default=param.show_default)
    else:
        info = typer.Option(*param.flags, help=param.help, metavar=param.metavar, show_default=param.show_default)
    default = inspect.Parameter.empty if param.required else param.default
    if param.choices and default is not None:
        default = choice_type(param)(default)
    return inspect.Parameter(param.dest, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[kind, info])


def command(name: str, function: Callable[..., int], aliases: tuple[str, ...] = ()) -> None:
    """Add ``function`` to the app as the command ``name`` (and, hidden, as each of ``aliases``), taking the
    parameters options.PARAMS gives it."""
    params = params_of(name)
    if list(inspect.signature(function).parameters) != [param.dest for param in params]:
        raise TypeError(f"{function.__qualname__} does not take the parameters of `{name}` in options.PARAMS")

    def parsed(**values: Any) -> int:
        try:
            return function(**{key: v.value if isinstance(v, Enum) else v for key, v in values.items()})
        except (UsageError, UnknownRule) as exc:  # raised before the command prints anything
            raise typer.BadParameter(str(exc)) from None

    parsed.__signature__ = inspect.Signature([typer_parameter(param) for param in params])  # type: ignore[attr-defined]
    parsed.__name__, parsed.__doc__ = function.__name__, function.__doc__
    app.command(name)(parsed)
    for alias in aliases:
        app.command(alias, hidden=True)(parsed)


def pre_resume(ctx: typer.Context) -> int:
    """Guard the session a `codex` command line resumes: what the shell-init wrapper runs before codex.

    The words after `--` are read as codex reads them (`resume SESSION`, `resume --last [--all]`, `exec
    resume ...`, `-C DIR`) and that session is guarded as `rollout-doctor guard` does; a command line that
    resumes nothing is let through (exit 0). Given as `pre-resume claude -- ...`, they are claude's words (`--resume
    ID`, `-r ID`, `--continue`, `-c`), and the transcript claude would take up is guarded."""
    return guard.pre_resume(list(ctx.args))


command("check", check.check)
command("list", list_.list_sessions, aliases=("sessions",))
command("fix", fix.fix)
command("undo", undo.undo)
command("rules", rules.rules)
command("rule", rules.rule)
command("guard", guard.guard)
app.command("pre-resume", hidden=True, options_metavar="-- CODEX_ARGUMENTS...",
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(pre_resume)
command("shell-init", guard.shell_init)


def _version(value: bool) -> None:
    if value:
        print(f"rollout-doctor {__version__}")
        raise typer.Exit()


Shell = Enum("Shell", [(name, name) for name in completion.SHELLS], type=str)  # type: ignore[misc]


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    install_completion: Annotated[Shell | None, typer.Option(  # type: ignore[valid-type]
        "--install-completion", metavar="SHELL", callback=completion.install, expose_value=False, is_eager=True,
        help="Install tab completion for SHELL (bash, zsh or fish) in its start-up file.")] = None,
    show_completion: Annotated[Shell | None, typer.Option(  # type: ignore[valid-type]
        "--show-completion", metavar="SHELL", callback=completion.show, expose_value=False, is_eager=True,
        help="Print the tab completion script for SHELL (bash, zsh or fish).")] = None,
) -> None:
    """Check and repair OpenAI Codex CLI session rollouts so that sessions resume."""


def main(argv: list[str] | None = None) -> int:
    """Run the typer app on ``argv`` (default: the process's arguments); the exit code."""
    prepare()
    if asks_for_completion():
        completion.prepare()
    try:
        result = app(args=argv, prog_name=completion.PROG, standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:  # typer's completion ends with sys.exit
        return exc.code if isinstance(exc.code, int) else ERROR if exc.code else CLEAN
    except typer.Abort:
        print("rollout-doctor: aborted", file=sys.stderr)
        return ERROR
    except KeyboardInterrupt as exc:
        return 128 + getattr(exc, "signum", signal.SIGINT)
    except Exception as exc:
        # Usage errors (typer's vendored click, or click itself in older typer) know how to show themselves.
        if callable(getattr(exc, "show", None)) and hasattr(exc, "exit_code"):
            exc.show()
            return ERROR
        raise
    return result if isinstance(result, int) else CLEAN


if __name__ == "__main__":
    raise SystemExit(main())
