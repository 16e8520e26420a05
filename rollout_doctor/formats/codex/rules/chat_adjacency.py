"""A call not followed at once by its output (Chat Completions wire only; ``--target chat``).

What it checks: on the Chat wire Codex sends each call as its own assistant message with
``tool_calls`` and each output as a ``tool`` message, so anything that becomes a message of its own
(another call, another output, an assistant message) between a call and its output breaks the wire's
rule. Reasoning items, web searches and ghost snapshots become no message and do not count; input
messages in between are reported by ``interleaved-message``.

Why it breaks a resume: the API refuses it with ``An assistant message with 'tool_calls' must be
followed by tool messages responding to each 'tool_call_id'``. Real Codex 0.77.0 on the Chat wire
writes parallel calls as ``call_A, call_B, out_A, out_B`` and then refuses its own session on every
resume (openai/codex#8479: the session is stuck for good); ``call_A, out_A, call_B, out_B`` resumes.

Example::

    {"type":"response_item","payload":{"type":"function_call","call_id":"call_A",...}}
    {"type":"response_item","payload":{"type":"function_call","call_id":"call_B",...}}
    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_A",...}}
    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_B",...}}

Fix (safe): move the output to just after its call, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.formats.codex.fixbuilder import move_fix
from rollout_doctor.formats.codex.history import Defect
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic

CODE = "RD108"
NAME = "chat-adjacency"
SUMMARY = "a tool call not followed at once by its output (Chat wire)"
FIX_SAFETY = "safe: moves the output directly after its call, unchanged"
TARGET = "chat"


def check(ctx: Context) -> Iterator[Diagnostic]:
    for finding in ctx.replay.of(Defect.CHAT_ADJACENCY):
        call, output = finding.item, finding.anchor
        assert output is not None
        between = finding.related[0]
        fix = move_fix(ctx.model, output, call, f"move the output at {output.where} directly after its call")
        yield Diagnostic(
            NAME, CODE, call.line,
            f"{call.type} at {call.where} is followed by {between.type} at {between.where}, "
            f"not by its output at {output.where}",
            finding.call_id, fix,
        )
