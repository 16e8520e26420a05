"""Shell completion for bash, zsh and fish: typer's, offered as ``--show-completion SHELL`` and
``--install-completion SHELL`` on the root command.

Typer's own options guess the shell from the parent process and ignore a shell named after them (typer
0.29), so these take the shell by name, as ``shell-init`` does. The completion itself is typer's: the
script it prints runs ``rollout-doctor`` with ``_ROLLOUT_DOCTOR_COMPLETE`` set (process.py), which
main.py sends past the argparse fast path to typer, which answers with the words that fit.
"""

from __future__ import annotations

from typing import Any

PROG = "rollout-doctor"
SHELLS = ("bash", "zsh", "fish")


def prepare() -> None:
    """Register typer's completion classes (their answers are in the format its scripts read)."""
    from typer.completion import completion_init

    completion_init()


def show(ctx: Any, param: Any, shell: Any) -> None:
    """``--show-completion SHELL``: print the script (typer's callback exits)."""
    if shell is not None and not ctx.resilient_parsing:
        from typer.completion import show_callback

        prepare()
        show_callback(ctx, param, getattr(shell, "value", shell))


def install(ctx: Any, param: Any, shell: Any) -> None:
    """``--install-completion SHELL``: add the script to that shell's start-up file (typer's callback exits)."""
    if shell is not None and not ctx.resilient_parsing:
        from typer.completion import install_callback

        prepare()
        install_callback(ctx, param, getattr(shell, "value", shell))
