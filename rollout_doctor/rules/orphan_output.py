"""An output whose call is nowhere in the history.

What it checks: a ``function_call_output``, ``custom_tool_call_output`` or ``tool_search_output`` whose
call_id matches no call in the history Codex would send (the call may have been lost to a crash, a
rollback or a compaction that dropped it).

Why it breaks a resume: the Responses API refuses it with ``No tool call found for function call output
with call_id call_…``; on the Chat wire, ``messages with role 'tool' must be a response to a preceeding
message with 'tool_calls'``. Released Codex drops such outputs in memory (logging ``Orphan function call
output for call id``) on every request; clients that replay the file as it is hit the error
(openai/codex#17630, "No tool call found for function call output with call_id", labelled tool-calls).

Example::

    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_gone","output":"..."}}

Fix (safe): remove the line (or the element of a compacted history). Codex already drops it before
every request; the bytes stay recoverable with ``rollout-doctor undo``.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.fixbuilder import FixBuilder
from rollout_doctor.fixes import Applicability
from rollout_doctor.history import Defect
from rollout_doctor.rules.base import Context, Diagnostic

CODE = "RD102"
NAME = "orphan-output"
SUMMARY = "a tool output whose call is nowhere in the history"
FIX_SAFETY = "safe: removes an output Codex drops before every request anyway"


def check(ctx: Context) -> Iterator[Diagnostic]:
    for finding in ctx.replay.of(Defect.ORPHAN_OUTPUT):
        output = finding.item
        builder = FixBuilder(ctx.model)
        builder.delete(output)
        yield Diagnostic(
            NAME, CODE, output.line,
            f"{output.type} at {output.where} answers a call that is not in the history",
            finding.call_id, builder.build(f"remove the orphan output at {output.where}", Applicability.SAFE),
        )
