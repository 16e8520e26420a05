"""A call id longer than the API takes.

What it checks: a call, or an output, in the history Codex sends whose ``call_id`` is longer than 64
characters. Codex keeps the ids a model or a provider gave; some give longer ones (a proxy that prefixes
its own run id, another provider's tool ids replayed through the Responses API).

Why it breaks a resume: the API refuses the whole request, on every resume: "Invalid
'input[149].call_id': string too long. Expected a string with maximum length 64, but got a string with
length 86 instead." (code ``string_above_max_length``; the wording reported in orchidfiles/ungate#26 and
AnswerDotAI/fastllm#45, both replaying Codex histories).

Effect on a resume: refused. Codex 0.77.0, 0.169.0 and 0.171.0 send call ids as written (a 68-character
one was seen sent by each), so the session is stuck until the id is shortened
(``tests/test_e2e_api_checks.py`` resumes such a session with 0.169.0 and 0.171.0).

Example::

    {"type":"response_item","payload":{"type":"function_call","call_id":"cursor-pi-bridge-run-c2417032-9686-40f2-bd3c-a763fbaa7693-tool-10",...}}

Fix (safe): give the call and every output of its id one new id within 64 characters: its first 60
characters and ``-rd<N>``, N chosen so that no other call has it. The model never reads call ids, so
what it is told does not change; the call and its output still pair.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability
from rollout_doctor.formats.codex.fixbuilder import FixBuilder
from rollout_doctor.formats.codex.records import ItemKind
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found
from rollout_doctor.formats.codex.rules.duplicate_call_id import CALL_ID_MAX, fresh_id

CODE = "RD109"
NAME = "long-call-id"
SUMMARY = "a call_id longer than the 64 characters the API takes"
FIX_SAFETY = "safe: renames the call and its outputs within 64 characters"
CATEGORY = "pairing"
EFFECT = "refused"
UPSTREAM = ("ungate#26", "fastllm#45")


def check(ctx: Context) -> Iterator[Diagnostic]:
    items_of: dict[str, list] = {}
    for item in ctx.history:
        if item.call_id and len(item.call_id) > CALL_ID_MAX and item.kind in (ItemKind.CALL, ItemKind.OUTPUT):
            items_of.setdefault(item.call_id, []).append(item)
    if not items_of:
        return
    taken = {i.call_id for i in ctx.history if i.call_id}
    for call_id, items in items_of.items():
        new_id = fresh_id(call_id, taken)
        taken.add(new_id)
        builder = FixBuilder(ctx.model)
        for item in items:
            builder.set_field(item, "call_id", new_id, "call id shortened")
        first = items[0]
        where = ", ".join(i.where for i in items)
        fix = builder.build(f"rename {call_id[:20]}… to {new_id} at {where}", Applicability.SAFE)
        yield found(first.line, f"{first.type} at {first.where} has a call_id of {len(call_id)} characters; "
                                f"the API takes at most {CALL_ID_MAX}", call_id, fix)
