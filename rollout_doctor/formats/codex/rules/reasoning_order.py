"""A reasoning item that is not followed by the item it belongs to.

What it checks: a reasoning item (or a run of them) in the history Codex sends that is followed by input
(a user or developer message, a tool output) or by nothing, instead of the message or call the model
produced after it. Two ways it happens: the reasoning was written after its message (openai/codex#33044,
0.144.2: "the failing commentary message was persisted at 11:26:47.354Z; its required reasoning item
arrived later"), or a turn was cut off after the reasoning and before anything else (#10722, #13569 on
0.110.0).

Why it breaks a resume: the API refuses the request, on every resume: "Item 'rs_…' of type 'reasoning'
was provided without its required following item." (#10722, #13569), or, when it knows which message
the reasoning belongs to, "Item 'msg_…' of type 'message' was provided without its required 'reasoning'
item: 'rs_…'." (#33044).

Effect on a resume: refused. Codex 0.169.0 and 0.171.0 send reasoning items as the file orders them
(``tests/test_e2e_api_checks.py``).

What it leaves to another rule: a reasoning item followed by an output recorded before its own call
(``misplaced-output`` moves the output after the call, which leaves the reasoning followed by the call).
What it leaves uncaught: a reasoning item written after its message and followed by a later call of the
same turn; only the API, which knows which response each id came from, can tell it from a reasoning item
that belongs to that call.

rollout-doctor's own fixes never leave a reasoning item without its following item: this rule is an
invariant of the fix loop, which refuses to write a pass that makes more such items than it found.

Example::

    {"type":"response_item","payload":{"type":"message","role":"assistant","content":[...]}}
    {"type":"response_item","payload":{"type":"reasoning","summary":[],"encrypted_content":"..."}}
    {"type":"response_item","payload":{"type":"message","role":"user","content":[...]}}

Fix: when the item just before the reasoning is a message or call the model made, with no reasoning of
its own before it, move that item after the reasoning (safe: the model is sent the same items, in the
order it produced them). Otherwise remove the reasoning (unsafe: an interrupted turn's reasoning that the
API refuses anyway; ``undo`` restores it).
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability
from rollout_doctor.formats.codex.fixbuilder import FixBuilder
from rollout_doctor.formats.codex.item_order import early_outputs, is_model_item, stranded_runs
from rollout_doctor.formats.codex.records import Item
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found, item_label

CODE = "RD110"
NAME = "reasoning-order"
SUMMARY = "a reasoning item not followed by the message or call it belongs to"
FIX_SAFETY = "safe when its message stands just before it (moved after it); unsafe otherwise (removed)"
CATEGORY = "pairing"
TARGET = "responses"  # the Chat wire sends no reasoning items and no item ids
EFFECT = "refused"
INVARIANT = True
UPSTREAM = ("#33044", "#10722", "#13569")

def owner(history: list[Item], first: int) -> Item | None:
    """The model item just before a reasoning run, when nothing of its own reasoning precedes it."""
    before = first - 1
    if before < 0 or not is_model_item(history[before]):
        return None
    if before > 0 and history[before - 1].type == "reasoning":
        return None
    return history[before]


def check(ctx: Context) -> Iterator[Diagnostic]:
    history = ctx.history
    for first, last in stranded_runs(history, early_outputs(ctx.replay)):
        run = [i for i in history[first : last + 1] if i.type == "reasoning"]
        after = "nothing" if last + 1 >= len(history) else item_label(history[last + 1])
        head = run[0]
        builder = FixBuilder(ctx.model)
        message = owner(history, first)
        if message is not None and builder.move_after(message, run[-1]):
            fix = builder.build(f"move the {item_label(message)} at {message.where} after its reasoning at "
                                f"{run[-1].where}", Applicability.SAFE)
            text = (f"reasoning at {head.where} is followed by {after}; it was written after the "
                    f"{item_label(message)} at {message.where} it belongs to")
        else:
            builder = FixBuilder(ctx.model)
            for item in run:
                builder.delete(item)
            where = ", ".join(i.where for i in run)
            fix = builder.build(f"remove the reasoning at {where}", Applicability.UNSAFE)
            text = f"reasoning at {head.where} is followed by {after}, not by the message or call it belongs to"
        yield found(head.line, text, None, fix)
