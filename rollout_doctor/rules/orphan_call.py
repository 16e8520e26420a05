"""A call that never got an output.

What it checks: a ``function_call``, ``custom_tool_call``, ``local_shell_call`` (with a call_id) or
client-side ``tool_search_call`` in the history Codex would send, with no output carrying its call_id
anywhere after it.

Why it breaks a resume: the Responses API refuses the history with ``No tool output found for function
call call_…`` (or ``… for custom tool call …``). Released Codex hides this by inserting an ``aborted``
output in memory at every request, never writing it back; older and alpha builds log an error or panic
instead, and other clients reading the file see the hole. It is what an interrupted turn leaves: Esc,
a crash, or a stream that closed before ``response.completed`` (openai/codex#16255, seen with 0.77.0;
#29773 for the error logged on every turn).

Example::

    {"type":"response_item","payload":{"type":"function_call","name":"shell","call_id":"call_A",...}}
    {"type":"event_msg","payload":{"type":"turn_aborted",...}}

Fix (safe): insert, right after the call, the cancelled output Codex itself would have sent: the
output type matching the call type, with the text ``aborted`` (and, for a call with an item id, the same
deterministic output id Codex derives). The model is told nothing it would not be told anyway.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.fixbuilder import FixBuilder
from rollout_doctor.fixes import Applicability
from rollout_doctor.history import Defect
from rollout_doctor.rules.base import Context, Diagnostic, item_label
from rollout_doctor.synth import output_payload

CODE = "RD101"
NAME = "orphan-call"
SUMMARY = "a tool call with no output after it"
FIX_SAFETY = "safe: inserts the 'aborted' output Codex would synthesize in memory anyway"


def check(ctx: Context) -> Iterator[Diagnostic]:
    for finding in ctx.replay.of(Defect.ORPHAN_CALL):
        call = finding.item
        builder = FixBuilder(ctx.model)
        payload = output_payload(builder.payload(call))
        builder.insert_after(call, payload, "cancelled output")
        fix = builder.build(f"insert a cancelled {payload['type']} after {call.where}", Applicability.SAFE)
        yield Diagnostic(
            NAME, CODE, call.line,
            f"{item_label(call)} at {call.where} never got an output; the API refuses this history",
            finding.call_id, fix,
        )
