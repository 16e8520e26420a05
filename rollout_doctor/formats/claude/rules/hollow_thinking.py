"""A ``thinking`` block with empty text under a kept signature (a "hollow" thinking block).

Why it breaks a resume: the API checks the latest assistant message's thinking against its signature and
refuses a changed one: "messages.N.content.K: ``thinking`` or ``redacted_thinking`` blocks in the latest
assistant message cannot be modified. These blocks must remain as they were in the original
response." A wave of sessions stuck this way in 2026 (2.1.152 to 2.1.154; #63147): the transcript
kept the signature and lost the text.

Effect on a resume: the API refuses it when the block is in the last assistant message a resume sends;
2.1.152 to 2.1.154 stayed stuck on it. 2.1.332 retries the refused request without thinking and goes
on (tests/test_claude_e2e.py sees the refusal, then the retry): patched, the model loses its thinking
for the session. Harmless further back (the API drops older thinking).

Fix: none automatic: the signed text is gone and cannot be rebuilt. The workarounds users
report: resume with thinking off (``CLAUDE_CODE_DISABLE_THINKING=1 claude --resume …``, or
``MAX_THINKING_TOKENS=0``), or, with --unsafe-fixes, remove the hollow block (its line too when nothing
else is on it, the chain relinked around it).

Fix safety: unsafe: removes a block the model wrote (it is empty, but its signature goes with it).
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability, Edit, Fix
from rollout_doctor.core.rules import Diagnostic, found
from rollout_doctor.formats.claude.edits import without_blocks
from rollout_doctor.formats.claude.rules.base import Context
from rollout_doctor.formats.claude.rules.splice import cut_out

CODE = "CC106"
NAME = "hollow-thinking"
SUMMARY = "a thinking block with empty text and a kept signature"
FIX_SAFETY = "unsafe: the hollow block removed (or resume with CLAUDE_CODE_DISABLE_THINKING=1)"
CATEGORY = "pairing"
EFFECT = "patched"
UPSTREAM = ("#63147",)
WORKAROUND = "resume with CLAUDE_CODE_DISABLE_THINKING=1 (or MAX_THINKING_TOKENS=0)"


def _hollow(block: dict[str, object]) -> bool:
    return block.get("type") == "thinking" and not block.get("thinking") and bool(block.get("signature"))


def check(ctx: Context) -> Iterator[Diagnostic]:
    conversation = ctx.conversation
    assistants = [turn for turn in conversation.turns if turn.role == "assistant"]
    for turn in assistants:
        latest = turn is assistants[-1]
        for line in turn.lines:
            if not conversation.entries[line].hollow_thinking:
                continue
            rest = without_blocks(ctx.model, line, _hollow)
            edits = ((Edit.replace(line, rest, "without the hollow thinking block"),) if rest is not None
                     else tuple(cut_out(conversation, line)))
            where = ("in the latest assistant message: the API refuses it (2.1.332 retries without thinking)"
                     if latest else "in an earlier message")
            yield found(line, f"thinking block with empty text and a kept signature, {where}; {WORKAROUND}", None,
                        Fix("remove the hollow thinking block", Applicability.UNSAFE, edits),
                        effect=None if latest else "harmless")
