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
RULE_OPTIONS = ("check", "fix", "guard")

# In the order each command lists them in its help.
PARAMS: tuple[Param, ...] = (
    Param("paths", PATHS_HELP, ("check", "fix"), type=Path, many=True, show_default=False),
    Param("session", "A session id (uuid) or a thread name from $CODEX_HOME/session_index.jsonl.", ("guard",),
          show_default=False),
    Param("path", "A rollout that rollout-doctor fixed.", ("undo",), type=Path, show_default=False),
    Param("name", "A rule name (orphan-call) or code (RD101).", ("rule",), required=True),
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
    Param("format", "Report as text or as JSON (README: JSON report).", ("check", "fix", "rules"), ("--format",),
          choices=("text", "json"), default="text"),
    Param("target", TARGET_HELP, RULE_OPTIONS, ("--target",), choices=wires, show_default=False),
    Param("select", "Only these rules (names or codes, comma-separated; ALL for every rule).", RULE_OPTIONS,
          ("--select",), many=True),
    Param("ignore", "Skip these rules (names or codes).", RULE_OPTIONS, ("--ignore",), many=True),
    Param("force", "Rewrite even a rollout a running process may still write to; what it writes afterwards is "
          "then not in the session.", ("fix",), ("--force",), bool, default=False),
    Param("list_", "List the backups (of PATH, or all).", ("undo",), ("--list",), bool, default=False),
    Param("prune", "Remove the backups of finished fixes older than DAYS days (they can no longer be undone).",
          ("undo",), ("--prune",), float, metavar="DAYS", show_default=False),
    Param("force", "Restore even if a file changed since the fix, or a running process may still write to it.",
          ("undo",), ("--force",), bool, default=False),
)


def params_of(command: str) -> tuple[Param, ...]:
    return tuple(param for param in PARAMS if command in param.commands)


def split_rules(values: Iterable[str] | None) -> frozenset[str] | None:
    """``--select a,b --select c`` as {a, b, c}; None when the option was not given."""
    if values is None:
        return None
    return frozenset(v for value in values for v in value.split(",") if v.strip())


def rule_options(target: str | None, select: list[str] | None, ignore: list[str] | None,
                 unsafe_fixes: bool = False) -> Options:
    """The engine's options from the parsed values; raises core.rules.UnknownRule for a rule no one has."""
    from rollout_doctor.core.rules import Options
    from rollout_doctor.formats.codex import CODEX

    options = Options(target=target, select=split_rules(select), ignore=split_rules(ignore) or frozenset(),
                      unsafe_fixes=unsafe_fixes)
    CODEX.rules.resolve(options.select)
    CODEX.rules.resolve(options.ignore)
    return options
