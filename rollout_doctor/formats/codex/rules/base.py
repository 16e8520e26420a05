"""What Codex's rules share: the context of one check pass.

A rule (core/rules.py says what one is) only yields diagnostics; the engine decides which rules run,
which fixes apply and in what order. The pairing rules share one broker replay of the history
(``Context.replay``) so that they agree with each other about which output answers which call.
"""

from __future__ import annotations

from functools import cached_property

from rollout_doctor.core.rules import Diagnostic, Options, Rule, found
from rollout_doctor.formats.codex.facts import Item
from rollout_doctor.formats.codex.history import Replay, effective_history, replay
from rollout_doctor.formats.codex.rollout import Rollout

TARGETS = ("responses", "chat")  # the wires Codex sends a history over (config.toml wire_api)


class Context:
    """What one check pass over one file knows; each analysis is computed at most once."""

    def __init__(self, model: Rollout, options: Options) -> None:
        self.model = model
        self.options = options

    @cached_property
    def history(self) -> list[Item]:
        return effective_history(self.model)

    @cached_property
    def replay(self) -> Replay:
        return replay(self.history, chat=self.options.target == "chat")


def item_label(item: Item) -> str:
    if item.name:
        return f"{item.type} {item.name}"
    if item.role:
        return f"{item.role} message"
    return item.type


__all__ = ["TARGETS", "Context", "Diagnostic", "Options", "Rule", "found", "item_label"]
