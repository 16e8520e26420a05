"""An ``advisor_tool_result`` that follows no ``server_tool_use`` of its own in the assistant message.

Why it breaks a resume: the advisor is a server tool: its call (``server_tool_use``) and its result
(``advisor_tool_result``) sit in the same assistant message. A result whose call was lost (a response
cut off, a rewind) is refused: "messages.N.content.K: unexpected tool_use_id found in
advisor_tool_result blocks: …".

Effect on a resume: refused: with the advisor in use, 2.1.332 sends it and ``claude --resume`` exits 1 on every
resume ("messages.2.content.1: unexpected tool_use_id found in advisor_tool_result blocks", seen
against a loopback API that refuses it as the real one does). Without the advisor, 2.1.332 leaves the
block out of the request (tests/test_claude_e2e.py), but the file stays one that other readers and
other settings are refused on; the verdict stays the worst case.

Fix: remove the orphan block (or its line when nothing else is on it, the chain relinked around it).

Fix safety: safe: the advisor's answer to a call the model no longer sees cannot be sent at all.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability, Edit, Fix
from rollout_doctor.core.rules import Diagnostic, found
from rollout_doctor.formats.claude.edits import without_blocks
from rollout_doctor.formats.claude.rules.base import Context
from rollout_doctor.formats.claude.rules.splice import cut_out

CODE = "CC105"
NAME = "orphan-advisor-result"
SUMMARY = "an advisor_tool_result with no server_tool_use before it"
FIX_SAFETY = "safe: the orphan result removed"
CATEGORY = "pairing"
EFFECT = "refused"
UPSTREAM = ("#6836",)


def check(ctx: Context) -> Iterator[Diagnostic]:
    conversation = ctx.conversation
    for turn in conversation.turns:
        if turn.role != "assistant":
            continue
        called: set[str] = set()
        for line in turn.lines:
            entry = conversation.entries[line]
            called.update(entry.server_uses)
            for result in entry.advisor_results:
                if result in called:
                    continue
                rest = without_blocks(ctx.model, line, lambda b, r=result: b.get("type") == "advisor_tool_result"
                                      and b.get("tool_use_id") == r)
                edits = ((Edit.replace(line, rest, "without the orphan advisor result"),) if rest is not None
                         else tuple(cut_out(conversation, line)))
                yield found(line, f"advisor_tool_result {result} follows no server_tool_use {result}", result,
                            Fix("remove the orphan advisor result", Applicability.SAFE, edits))
