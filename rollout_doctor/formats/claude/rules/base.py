"""What Claude Code's rules share: the context of one check pass, and the vocabulary of their metadata."""

from __future__ import annotations

from functools import cached_property

from rollout_doctor.core.rules import Options
from rollout_doctor.core.verdict import Effect
from rollout_doctor.formats.claude.conversation import Conversation
from rollout_doctor.formats.claude.transcript import GENERATION, Transcript

TARGETS = ("messages",)  # Claude Code sends a transcript over one wire, the Messages API
GENERATIONS = (GENERATION,)
# "pairing": the request against the Messages API's rules (CC1xx); "structure": the file as Claude Code
# reads it (CC2xx).
CATEGORIES = ("pairing", "structure")
# What a defect does on `claude --resume`, worst first; each rule's "Effect" paragraph says what
# 2.1.332 was seen to do (tests/test_claude_e2e.py reruns it).
EFFECTS = (
    Effect("refused", True, "will not resume"),
    Effect("dropped", False, "resumes, but Claude Code leaves turns out"),
    Effect("patched", False, "resumes, patched in memory"),
    Effect("harmless", False, "resumes, with harmless problems"),
)


class Context:
    def __init__(self, model: Transcript, options: Options) -> None:
        self.model = model
        self.options = options

    @cached_property
    def conversation(self) -> Conversation:
        return Conversation(self.model)
