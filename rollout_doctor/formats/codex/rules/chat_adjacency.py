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

Effect on a resume: refused, on every resume: seen with 0.77.0 (``tests/test_e2e_stuck.py``,
``tests/test_e2e_resume.py``); 0.169.0 and 0.171.0 refuse the Chat wire at start-up.

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
from rollout_doctor.formats.codex.item_order import separated
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found

CODE = "RD108"
NAME = "chat-adjacency"
SUMMARY = "a tool call not followed at once by its output (Chat wire)"
FIX_SAFETY = "safe: moves the output directly after its call, unchanged"
TARGET = "chat"
CATEGORY = "pairing"
EFFECT = "refused"
UPSTREAM = ("#8479",)


def check(ctx: Context) -> Iterator[Diagnostic]:
    for call, output, between in separated(ctx.replay):
        fix = move_fix(ctx.model, output, call, f"move the output at {output.where} directly after its call")
        yield found(call.line, f"{call.type} at {call.where} is followed by {between[0].type} at "
                               f"{between[0].where}, not by its output at {output.where}", call.call_id, fix)
