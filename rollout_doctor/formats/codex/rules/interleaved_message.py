"""A user (or developer) message recorded while a tool call was still waiting for its output.

What it checks: an input message that sits between a call and that call's output in the history. A
correct broker holds input that arrives while calls are pending, and releases it once every pending
call has its output (or a cancellation); this is what typing during a long tool run, or parallel
calls racing a new user message, leaves behind when the writer does not.

Why it breaks a resume: the conversation the model sees has the user speaking in the middle of a tool
exchange. Codex 0.169.0 passes it through unchanged; the Chat wire refuses it (an assistant message
with tool_calls must be followed at once by its tool messages) and models answer the wrong turn.

Effect on a resume: harmless on the Responses wire: 0.77.0, 0.169.0 and 0.171.0 send the message where it
is and the API takes it (``tests/test_e2e_resume.py``); nothing is lost, though the model reads an odd
order. Refused on the Chat wire (``--target chat``, releases before 0.169.0): the message comes between
an assistant message with tool_calls and its tool message (docs/codex-facts.md §7, the API's rule in
docs/codex-format.md; not run with a real binary).

Example::

    {"type":"response_item","payload":{"type":"function_call","call_id":"call_A",...}}
    {"type":"response_item","payload":{"type":"message","role":"user","content":[...]}}
    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_A",...}}

Fix (safe): move the message, unchanged, to just after the output that left no call pending; several
messages keep their order.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.formats.codex.fixbuilder import move_fix
from rollout_doctor.formats.codex.item_order import held_messages
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found, position

CODE = "RD104"
NAME = "interleaved-message"
SUMMARY = "an input message recorded while a tool call was pending"
FIX_SAFETY = "safe: moves the message after the outputs, as a broker would have held it"
CATEGORY = "pairing"
EFFECT = "harmless"


def check(ctx: Context) -> Iterator[Diagnostic]:
    for message, waiting, release in sorted(held_messages(ctx.replay), key=lambda held: position(held[0])):
        pending = ", ".join(c.call_id or "?" for c in waiting)
        title = f"move the message at {message.where} after {release.where}"
        fix = move_fix(ctx.model, message, release, title)
        yield found(message.line, f"{message.role} message at {message.where} arrived while {pending} waited "
                                  "for output", waiting[0].call_id, fix,
                    effect="refused" if ctx.options.target == "chat" else None)
