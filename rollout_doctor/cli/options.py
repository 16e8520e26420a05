"""Every command-line parameter, described once: the typer commands (app.py) and the argparse fast paths
(fastpath.py) are both built from ``PARAMS``, so an option's spelling, choices, default and help cannot
differ between them.

This module is imported on the fast path: it holds data and plain functions, and imports no parser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rollout_doctor.core.reports import FileReport
    from rollout_doctor.core.rules import Options


class UsageError(ValueError):
    """Values the parser accepted but the command cannot take: each parser reports it as its usage error."""


def wires() -> tuple[str, ...]:
    """``--target``'s choices: the wires the format's rules are written for."""
    from rollout_doctor.formats.codex import CODEX

    return CODEX.targets


class Param:
    """One parameter of one or more commands, as every parser of it sees it. (A plain class: a dataclass
    or typing.NamedTuple generates or type-checks on every start-up, up to a millisecond.)"""

    __slots__ = ("choices", "commands", "default", "dest", "flags", "help", "many", "metavar", "required",
                 "show_default", "type")

    def __init__(self, dest: str, help: str, commands: tuple[str, ...], flags: tuple[str, ...] = (),
                 type: type = str, choices: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None,
                 default: Any = None, many: bool = False, required: bool = False, metavar: str | None = None,
                 show_default: bool = True) -> None:
        self.dest = dest  # the keyword the command's function receives
        self.help = help
        self.commands = commands
        self.flags = flags  # none: a positional argument
        self.type = type  # bool: an on/off flag
        self.choices = choices
        self.default = default
        self.many = many  # an option given again adds to a list; an argument takes any number of values
        self.required = required
        self.metavar = metavar
        self.show_default = show_default

    @property
    def positional(self) -> bool:
        return not self.flags

    def choice_values(self) -> tuple[str, ...] | None:
        return self.choices() if callable(self.choices) else self.choices


PATHS_HELP = ("Rollout files or folders (searched recursively). Default: $CODEX_HOME/sessions and "
              "$CODEX_HOME/archived_sessions.")
TARGET_HELP = ("The wire Codex talks to the model on; chat adds the chat-adjacency rule. Default: each "
               "session's, from $CODEX_HOME/config.toml.")
ORDER_HELP = ("With --last: `updated` (newest mtime, Codex 2026) or `created` (newest name, no folder "
              "filter: 0.77.0).")
FORMAT_HELP = ("Report as text (one line per problem, cut to the width), full (whole messages and fix titles) "
               "or JSON (README: JSON report).")
SINCE_HELP = "Only sessions changed since WHEN: an age (30m, 12h, 2d, 1w) or a date (2026-11-20, 2026-11-20T09:00)."
UNDO_HELP = ("What to restore: a rollout, a folder (every fix of a file in it), or a session id or a unique "
             "prefix of one (its last fix).")
RULE_OPTIONS = ("check", "fix", "guard")

# In the order each command lists them in its help.
PARAMS: tuple[Param, ...] = (
    Param("paths", PATHS_HELP, ("check", "fix", "list"), type=Path, many=True, show_default=False),
    Param("session", "A session id (uuid, or a unique prefix of one) or a thread name from "
          "$CODEX_HOME/session_index.jsonl.", ("guard",), show_default=False),
    Param("what", UNDO_HELP, ("undo",), metavar="PATH|SESSION", show_default=False),
    Param("name", "A rule name (orphan-call) or code (RD101).", ("rule",), show_default=False),
    Param("all_rules", "Every rule's documentation, in code order.", ("rule",), ("--all",), bool, default=False),
    Param("shell", "bash, zsh or fish.", ("shell-init",), required=True, show_default=False),
    Param("dry_run", "Show what would change; write nothing.", ("fix",), ("--dry-run",), bool, default=False),
    Param("diff", "Show the changed lines of each file.", ("fix",), ("--diff",), bool, default=False),
    Param("unsafe_fixes", "Also apply fixes that change what the model is told.", ("fix",), ("--unsafe-fixes",),
          bool, default=False),
    Param("last", "The session `codex resume --last` would open.", ("guard",), ("--last",), bool, default=False),
    Param("all_folders", "With --last: any folder, not just this one.", ("guard",), ("--all",), bool,
          default=False),
    Param("order", ORDER_HELP, ("guard",), ("--order",), choices=("updated", "created"), default="updated"),
    Param("quiet", "Print nothing; the exit code tells.", ("guard",), ("-q", "--quiet"), bool, default=False),
    Param("quiet", "Print only the problems (one line each) and errors: no summary, no progress.",
          ("check", "fix"), ("-q", "--quiet"), bool, default=False),
    Param("format", "Report as text or as JSON (README: JSON report).", ("fix", "rules"), ("--format",),
          choices=("text", "json"), default="text"),
    Param("format", FORMAT_HELP, ("check", "list"), ("--format",), choices=("text", "full", "json"), default="text"),
    Param("target", TARGET_HELP, RULE_OPTIONS, ("--target",), choices=wires, show_default=False),
    Param("select", "Only these rules (names, codes or code prefixes such as RD1, comma-separated; ALL for every "
          "rule).", RULE_OPTIONS, ("--select",), many=True),
    Param("ignore", "Skip these rules (names, codes or code prefixes).", RULE_OPTIONS, ("--ignore",), many=True),
    Param("statistics", "One line per rule instead of one per problem: how many, and whether `fix` fixes them "
          "(with fix: what remains).", ("check", "fix"), ("--statistics",), bool, default=False),
    Param("exit_zero", "Exit 0 even when problems remain (errors still exit 2, refusals 3).", ("check", "fix"),
          ("--exit-zero",), bool, default=False),
    Param("force", "Rewrite even a rollout a running process may still write to; what it writes afterwards is "
          "then not in the session.", ("fix", "guard"), ("--force",), bool, default=False),
    Param("last_run", "Restore every file the last `fix` or `guard` wrote (the newest run not yet undone).",
          ("undo",), ("--last-run",), bool, default=False),
    Param("list_", "List the backups by run (of PATH or SESSION, or all) and the space they take.", ("undo",),
          ("--list",), bool, default=False),
    Param("prune", "Remove the backups of finished fixes older than DAYS days (they can no longer be undone).",
          ("undo",), ("--prune",), float, metavar="DAYS", show_default=False),
    Param("prune_keep", "Remove the backups of every finished run but the newest N.", ("undo",), ("--prune-keep",),
          int, metavar="N", show_default=False),
    Param("force", "Restore even if a file changed since the fix, or a running process may still write to it.",
          ("undo",), ("--force",), bool, default=False),
    Param("stuck", "Only the sessions that will not resume (the API or Codex refuses them).", ("list",),
          ("--stuck",), bool, default=False),
    Param("cwd", "Only the sessions of this project folder (`.`: the current one), as Codex's `resume --last` "
          "filters them.", ("list",), ("--cwd",), metavar="DIR", show_default=False),
    Param("since", SINCE_HELP, ("list",), ("--since",), metavar="WHEN", show_default=False),
    Param("no_cache", "Read every session whole, neither using nor updating the cache of what earlier runs "
          "learned (README: Cache).", ("check", "fix", "list", "guard"), ("--no-cache",), bool, default=False),
)


def params_of(command: str) -> tuple[Param, ...]:
    return tuple(param for param in PARAMS if command in param.commands)


class View:
    """What ``--statistics`` and ``-q/--quiet`` ask of a report (report_modes.py prints it). A plain class,
    as Param is: ``check FILE`` makes one on every start-up."""

    __slots__ = ("quiet", "statistics")

    def __init__(self, statistics: bool = False, quiet: bool = False) -> None:
        self.statistics, self.quiet = statistics, quiet

    @property
    def standard(self) -> bool:
        """Neither: the report as it always was."""
        return not (self.statistics or self.quiet)

    def prints(self, report: FileReport) -> bool:
        """Whether report_modes.print_file has anything to print for it (else rich need not be loaded)."""
        quiet_problems = self.quiet and not self.statistics and report.problems
        return self.standard or bool(report.error or report.refused or quiet_problems)


def cache_choice(no_cache: bool) -> None:
    """``--no-cache``: for this process and the workers it starts (core/cache_files.py)."""
    if no_cache:
        from rollout_doctor.core.cache_files import disable

        disable()


def exit_status(code: int, exit_zero: bool) -> int:
    """``--exit-zero``: problems (1) are no failure; usage and I/O errors (2) and refusals (3) still are."""
    from rollout_doctor.core.exitcodes import CLEAN, PROBLEMS

    return CLEAN if exit_zero and code == PROBLEMS else code


def split_rules(values: Iterable[str] | None) -> frozenset[str] | None:
    """``--select a,b --select c`` as {a, b, c}; None when the option was not given."""
    if values is None:
        return None
    return frozenset(v for value in values for v in value.split(",") if v.strip())


def rule_options(target: str | None, select: list[str] | None, ignore: list[str] | None,
                 unsafe_fixes: bool = False) -> Options:
    """The engine's options from the parsed values; raises core.rules.UnknownRule for a rule no one has."""
    from rollout_doctor.core.rules import Options, UnknownRule
    from rollout_doctor.formats import known

    options = Options(target=target, select=split_rules(select), ignore=split_rules(ignore) or frozenset(),
                      unsafe_fixes=unsafe_fixes)
    for key in sorted((options.select or frozenset()) | options.ignore):
        errors = []
        for fmt in known():
            try:
                fmt.rules.resolve([key])
                break
            except UnknownRule as error:
                errors.append(error)
        else:
            raise errors[0]
    return options
