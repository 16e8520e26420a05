"""Two ``tool_use`` blocks sharing one id in the conversation.

Why it breaks a resume: the Messages API refuses it: "messages.N.content.K: ``tool_use`` ids must be
unique". A response written twice, or a session stitched from two, leaves it (#6836, #80439).

Effect on a resume: 2.1.332 patches it in memory and loses output doing so: the later call becomes
"[Tool use interrupted]" and its result never reaches the model.

Fix: give the later call a new id, and the results that answer it in the next user message the
same new id: both calls and both outputs reach the model.

Fix safety: safe: an id is an opaque label the API pairs calls and results by; nothing the model
or the user wrote changes.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability, Edit, Fix
from rollout_doctor.core.rules import Diagnostic, found
from rollout_doctor.formats.claude.edits import fresh_tool_id, renamed_ids
from rollout_doctor.formats.claude.rules.base import Context

CODE = "CC103"
NAME = "duplicate-tool-use-id"
SUMMARY = "two tool_use blocks share an id"
FIX_SAFETY = "safe: the later call and its results get a new id"
CATEGORY = "pairing"
EFFECT = "dropped"
UPSTREAM = ("#6836", "#80439")


def check(ctx: Context) -> Iterator[Diagnostic]:
    conversation = ctx.conversation
    turns = conversation.turns
    first: dict[str, int] = {}
    for index, turn in enumerate(turns):
        if turn.role != "assistant":
            continue
        for line, use in conversation.uses_of(turn):
            if use not in first:
                first[use] = line
                continue
            new = fresh_tool_id(use, line)
            edits = [Edit.replace(line, renamed_ids(ctx.model, line, use, new), "new tool_use id")]
            if index + 1 < len(turns) and turns[index + 1].role == "user":
                edits += [Edit.replace(at, renamed_ids(ctx.model, at, use, new), "new tool_use id")
                          for at, result in conversation.results_of(turns[index + 1]) if result == use][:1]
            yield found(line, f"tool_use id {use} is used before, on line {first[use] + 1}", use,
                        Fix("give the later call a new id", Applicability.SAFE, tuple(edits)))
