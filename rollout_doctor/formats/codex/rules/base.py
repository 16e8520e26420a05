"""What Codex's rules share: the context of one check pass, and the vocabulary of their metadata.

A rule (core/rules.py says what one is) only yields diagnostics; the engine decides which rules run,
which fixes apply and in what order, and stamps each diagnostic with the rule's code and name. The
pairing rules share one broker replay of the history (``Context.replay``, facts only) so that they
agree with each other about which output answers which call; each decides for itself what is wrong.
"""

from __future__ import annotations

from functools import cached_property

from rollout_doctor.core.rules import Diagnostic, Options, Rule, found
from rollout_doctor.core.verdict import Effect
from rollout_doctor.formats.codex.history import LinesRead, Replay, read_lines, replay
from rollout_doctor.formats.codex.item_order import position
from rollout_doctor.formats.codex.records import Item
from rollout_doctor.formats.codex.rollout import Rollout

TARGETS = ("responses", "chat")  # the wires Codex sends a history over (config.toml wire_api)
GENERATIONS = ("legacy", "envelope", "paginated")  # the shapes of rollout (docs/codex-format.md, "Three generations")
# What a rule judges: "pairing", the history sent to the model against the broker contract (RD1xx);
# "structure", the file as Codex reads it, line by line (RD2xx).
CATEGORIES = ("pairing", "structure")
# What a defect does when Codex resumes the session, worst first: a session's verdict is the worst of its
# problems' (core/verdict.py). What each rule's defect does was seen with the real releases (README,
# "Before and after"; tests/test_e2e_resume.py BEFORE) and is documented in each rule's "Effect" paragraph.
EFFECTS = (
    # The model API (or Codex, before it asks the model) refuses the history: stuck on every resume.
    Effect("refused", True, "will not resume"),
    # Codex silently skips the record: the model loses what it held.
    Effect("dropped", False, "resumes, but Codex skips records"),
    # Codex repairs it in memory before every request; the file stays broken for every other reader.
    Effect("patched", False, "resumes, patched in memory"),
    # Codex sends it as written and the API takes it; nothing is lost.
    Effect("harmless", False, "resumes, with harmless problems"),
)


class Context:
    """What one check pass over one file knows; each analysis is computed at most once."""

    def __init__(self, model: Rollout, options: Options) -> None:
        self.model = model
        self.options = options

    @cached_property
    def lines_read(self) -> LinesRead:
        return read_lines(self.model)

    @cached_property
    def history(self) -> list[Item]:
        return self.lines_read.history

    @cached_property
    def replay(self) -> Replay:
        return replay(self.history)

    @cached_property
    def notable(self) -> list[Item]:
        """The history's items with a rare field (records.Rare) or an output Codex drops, in order: the
        only ones the rules about an item's own shape (and orphan-output, about an output's own call id)
        can report, since every other item carries the defaults they pass over (None, False). A 500 MB session's 67 000 items hold a handful; each of
        those rules walked them all, reading a property of each (3 to 12 ms a rule, bench/guard.py)."""
        return [item for item in self.history if item.rare is not None or not item.output_ok]


def item_label(item: Item) -> str:
    if item.name:
        return f"{item.type} {item.name}"
    if item.role:
        return f"{item.role} message"
    return item.type


__all__ = ["CATEGORIES", "EFFECTS", "GENERATIONS", "TARGETS", "Context", "Diagnostic", "Options", "Rule", "found",
           "item_label", "position"]
