"""A user (or developer) message recorded while a tool call was still waiting for its output.

What it checks: an input message that sits between a call and that call's output in the history. A
correct broker holds input that arrives while calls are pending, and releases it once every pending
call has its output (or a cancellation); this is what typing during a long tool run, or parallel
calls racing a new user message, leaves behind when the writer does not.

Why it breaks a resume: the conversation the model sees has the user speaking in the middle of a tool
exchange. Codex 0.169.0 passes it through unchanged; the Chat wire refuses it (an assistant message
with tool_calls must be followed at once by its tool messages) and models answer the wrong turn.

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
from rollout_doctor.formats.codex.history import Defect
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic

CODE = "RD104"
NAME = "interleaved-message"
SUMMARY = "an input message recorded while a tool call was pending"
FIX_SAFETY = "safe: moves the message after the outputs, as a broker would have held it"


def check(ctx: Context) -> Iterator[Diagnostic]:
    for finding in ctx.replay.of(Defect.INTERLEAVED_MESSAGE):
        message, release = finding.item, finding.anchor
        assert release is not None
        pending = ", ".join(c.call_id or "?" for c in finding.related)
        fix = move_fix(ctx.model, message, release, f"move the message at {message.where} after {release.where}")
        yield Diagnostic(
            NAME, CODE, message.line,
            f"{message.role} message at {message.where} arrived while {pending} waited for output",
            finding.call_id, fix,
        )
