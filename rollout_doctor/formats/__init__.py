"""Session formats: each folder here is one client's logs, seen through ``core.format.Format``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rollout_doctor.core.format import Format
    from rollout_doctor.core.rules import Options


def known() -> tuple[Format, ...]:
    """Every format, in the order a file is offered to them."""
    from rollout_doctor.formats.claude import CLAUDE
    from rollout_doctor.formats.codex import CODEX

    return (CODEX, CLAUDE)


def left_out(fmt: Format, options: Options) -> list[str]:
    """The codes of ``fmt``'s default rules that ``--select``/``--ignore`` keep from running (then finding
    nothing is not an all-clear); with neither given, none, known without loading the format's rules
    (5 ms of a re-check that reads only what was appended)."""
    return [] if options.every_default_rule else [rule.code for rule in fmt.rules.left_out(options)]
