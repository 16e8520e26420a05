"""A call answered twice in the same user message.

Why it breaks a resume: the API pairs one result with one call; a second ``tool_result`` for the same id
is refused as an unexpected one. A result written again after a retry leaves it (#6836, #84783).

Effect on a resume: 2.1.332 removes the later result in memory; the file stays broken for other readers.

Fix: remove the later result (the block, or its line when nothing else is on it, the chain
relinked around it).

Fix safety: safe when both results say the same; unsafe when they differ (the later output is
dropped; the model saw the first).
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from rollout_doctor.core.fixes import Applicability, Edit, Fix
from rollout_doctor.core.rules import Diagnostic, found
from rollout_doctor.formats.claude.edits import without_blocks
from rollout_doctor.formats.claude.rules.base import Context
from rollout_doctor.formats.claude.rules.splice import cut_out

CODE = "CC104"
NAME = "duplicate-tool-result"
SUMMARY = "a call answered twice"
FIX_SAFETY = "safe when both results are the same: the later removed; unsafe when they differ"
CATEGORY = "pairing"
EFFECT = "patched"
UPSTREAM = ("#6836", "#84783")


def _result(ctx: Context, line: int, use: str) -> object:
    content = orjson.loads(ctx.model.content(line))["message"]["content"]
    return next((b.get("content"), b.get("is_error")) for b in content
                if isinstance(b, dict) and b.get("type") == "tool_result" and b.get("tool_use_id") == use)


def check(ctx: Context) -> Iterator[Diagnostic]:
    conversation = ctx.conversation
    for turn in conversation.turns:
        if turn.role != "user":
            continue
        first: dict[str, int] = {}
        for line, use in conversation.results_of(turn):
            if use not in first:
                first[use] = line
                continue
            same = _result(ctx, line, use) == _result(ctx, first[use], use)
            safety = Applicability.SAFE if same else Applicability.UNSAFE
            if line == first[use]:
                continue  # twice in one line: left for a person (no block-level position to keep)
            rest = without_blocks(ctx.model, line,
                                  lambda b, use=use: b.get("type") == "tool_result" and b.get("tool_use_id") == use)
            edits = ((Edit.replace(line, rest, "without the repeated result"),) if rest is not None
                     else tuple(cut_out(conversation, line)))
            yield found(line, f"tool_use {use} is answered again (first on line {first[use] + 1})"
                        + ("" if same else "; the two results differ"), use,
                        Fix("remove the later result", safety, edits))
