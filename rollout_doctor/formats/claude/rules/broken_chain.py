"""A conversation line whose ``parentUuid`` names no line, or is null in the middle of the transcript.

Why it breaks a resume: a resume walks the ``parentUuid`` chain back from the newest line; where the chain
breaks, everything earlier is silently left out of the conversation (#19559, #21751, #22526, #24304,
#58554). A null parent is right only for the first line and for a compact boundary, where the
conversation starts anew on purpose.

Effect on a resume: a null parent in the middle cuts every earlier turn from the request, without a word
(dropped, seen with 2.1.332). A parent that names no line is linked past by 2.1.332 (patched; both in
tests/test_claude_e2e.py); the releases of the reports above cut the conversation there.

Fix: hang the line from the line it follows in the conversation: the nearest earlier line of the
main conversation, never one before a compact boundary (the boundary is nearer), never a parallel
call's result hanging off the side (those are regathered by message id), never one that descends
from the line itself.

Fix safety: safe: only the ``parentUuid`` value changes; the relinked conversation is the file's
own order.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability, Fix
from rollout_doctor.core.rules import Diagnostic, found
from rollout_doctor.formats.claude.edits import relink
from rollout_doctor.formats.claude.rules.base import Context

CODE = "CC202"
NAME = "broken-chain"
SUMMARY = "a parentUuid that names no line, or null mid-transcript"
FIX_SAFETY = "safe: relinked to the line it follows"
CATEGORY = "structure"
EFFECT = "dropped"
UPSTREAM = ("#19559", "#21751", "#22526", "#24304", "#58554")


def check(ctx: Context) -> Iterator[Diagnostic]:
    conversation = ctx.conversation
    main = conversation.main()
    if not conversation.chain or not main:
        return
    # The walk back from the newest line stops at the first break: that is the one that cuts the resumed
    # conversation (once relinked, the next pass finds the one before it, if any). A break off the chain
    # (an abandoned branch) changes nothing a resume sends.
    line = conversation.chain[0]
    entry = conversation.entries[line]
    if entry.compact or line == main[0]:
        return
    if entry.parent is None:
        problem, effect = "its parentUuid is null in the middle of the transcript: every earlier turn is cut off", None
    else:
        problem = (f"its parentUuid {entry.parent} names no line: 2.1.332 links past it, older releases and other "
                   "readers cut the turns before it")
        effect = "patched"
    parent = conversation.right_parent(line)
    fix = None
    if parent is not None:
        fix = Fix("relink to the line it follows", Applicability.SAFE,
                  (relink(ctx.model, line, conversation.entries[parent].uuid),))
    yield found(line, problem, None, fix, effect=effect)
