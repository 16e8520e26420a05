"""What Codex's rules share: the context of one check pass, and the vocabulary of their metadata.

A rule (core/rules.py says what one is) only yields diagnostics; the engine decides which rules run,
which fixes apply and in what order, and stamps each diagnostic with the rule's code and name. The
pairing rules share one broker replay of the history (``Context.replay``, facts only) so that they
agree with each other about which output answers which call; each decides for itself what is wrong.
"""

from __future__ import annotations

from functools import cached_property

from rollout_doctor.core.rules import Diagnostic, Options, Rule, found
from rollout_doctor.formats.codex.history import Replay, effective_history, replay
from rollout_doctor.formats.codex.records import Item
from rollout_doctor.formats.codex.rollout import Rollout

TARGETS = ("responses", "chat")  # the wires Codex sends a history over (config.toml wire_api)
GENERATIONS = ("legacy", "envelope", "paginated")  # the shapes of rollout (docs/codex-format.md, "Three generations")
# What a rule judges: "pairing", the history sent to the model against the broker contract (RD1xx);
# "structure", the file as Codex reads it, line by line (RD2xx).
CATEGORIES = ("pairing", "structure")


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
        return replay(self.history)


def item_label(item: Item) -> str:
    if item.name:
        return f"{item.type} {item.name}"
    if item.role:
        return f"{item.role} message"
    return item.type


def position(item: Item) -> tuple[int, int]:
    """Where an item sits in the file: its line, then its place in a compacted line's history."""
    return item.line, item.index or 0


__all__ = ["CATEGORIES", "GENERATIONS", "TARGETS", "Context", "Diagnostic", "Options", "Rule", "found",
           "item_label", "position"]
