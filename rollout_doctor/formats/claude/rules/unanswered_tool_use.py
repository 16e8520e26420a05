"""A ``tool_use`` with no ``tool_result`` in the user message that follows it.

Why it breaks a resume: the Messages API refuses a history in which a call is not answered in the very
next message: "messages.N: ``tool_use`` ids were found without ``tool_result`` blocks immediately after:
…". Claude Code leaves one when it stops between writing the call and writing its result (a crash, a
kill, a closed terminal), and for years that stopped ``claude --resume`` for good (#6836 gathers well
over a hundred reports; #21088, #40026, #54638 in 2026).

Effect on a resume: 2.1.332 patches it in memory on every resume: it drops the unanswered call from the
request, so the model never learns it made it, and the file stays broken for every other reader and
for older releases.

Fix: insert the result Claude Code itself writes for a call whose result was never recorded (an
error ``tool_result``: "[Tool call interrupted: the session ended before this call's result was
recorded, …]"), hanging from the call's line, and hang the line that followed the call from the new
one: the ``parentUuid`` chain and the alternation of roles stay intact. A result that exists further
on is moved there instead (orphan-tool-result).

Fix safety: safe: the call stays in the history with the answer Claude Code gives an interrupted
call; nothing the user or the model wrote is removed.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability, Edit, Fix
from rollout_doctor.core.rules import Diagnostic, found
from rollout_doctor.formats.claude.edits import error_result, relink
from rollout_doctor.formats.claude.rules.base import Context

CODE = "CC101"
NAME = "unanswered-tool-use"
SUMMARY = "a tool_use with no tool_result in the next user message"
FIX_SAFETY = "safe: the error result Claude Code writes for an interrupted call"
CATEGORY = "pairing"
EFFECT = "patched"
UPSTREAM = ("#6836", "#21088", "#40026", "#54638")


def check(ctx: Context) -> Iterator[Diagnostic]:
    conversation = ctx.conversation
    turns = conversation.turns
    answered_later = {result for turn in turns if turn.role == "user"
                      for _line, result in conversation.results_of(turn)}
    for index, turn in enumerate(turns):
        if turn.role != "assistant":
            continue
        following = turns[index + 1] if index + 1 < len(turns) and turns[index + 1].role == "user" else None
        answered = {r for _l, r in conversation.results_of(following)} if following else set()
        # A result that sits further on is moved here by orphan-tool-result.
        missing = [(line, use) for line, use in conversation.uses_of(turn)
                   if use not in answered and use not in answered_later]
        if not missing:
            continue
        # One fix for the whole response: its new results follow one another on the chain.
        anchor = conversation.answer_end(index)
        parent = conversation.entries[anchor].uuid or ""
        edits: list[Edit] = []
        for line, use in missing:
            parent, content = error_result(ctx.model, anchor, line, use, parent)
            edits.append(Edit.insert_after(anchor, content, "interrupted-call result"))
        child = conversation.chain_child(anchor)
        if child is not None:
            edits.append(relink(ctx.model, child, parent))
        fix = Fix("insert the error result of an interrupted call", Applicability.SAFE, tuple(edits))
        for line, use in missing:
            yield found(line, f"tool_use {use} has no tool_result in the next user message", use, fix)
