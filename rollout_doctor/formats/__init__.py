"""Session formats: each folder here is one client's logs, seen through ``core.format.Format``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rollout_doctor.core.format import Format


def known() -> tuple[Format, ...]:
    """Every format, in the order a file is offered to them."""
    from rollout_doctor.formats.claude import CLAUDE
    from rollout_doctor.formats.codex import CODEX

    return (CODEX, CLAUDE)
