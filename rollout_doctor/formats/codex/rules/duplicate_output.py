"""A call answered more than once.

What it checks: a second output for a call that already has one (a replayed line, a retried tool
whose first result was also recorded), or an output recorded before a call that has its own output
later.

Why it breaks a resume: the API expects exactly one output per call; Codex 0.169.0 sends both, and the
request is refused with ``Duplicate function_call_output for call_id … Each function_call must have
exactly one matching function_call_output`` (that wording reported in NousResearch/hermes-agent#102629,
another Responses client replaying a stored history).

Example::

    {"type":"response_item","payload":{"type":"function_call","call_id":"call_A",...}}
    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_A","output":"ok"}}
    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_A","output":"ok"}}

Fix: remove the extra output. Safe when it repeats the kept output exactly; unsafe when the two
differ, since the model then loses what the removed one said (``--unsafe-fixes``; ``undo`` restores it).
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.formats.codex.fixbuilder import FixBuilder
from rollout_doctor.core.fixes import Applicability
from rollout_doctor.formats.codex.history import Defect
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic

CODE = "RD106"
NAME = "duplicate-output"
SUMMARY = "a tool call answered by more than one output"
FIX_SAFETY = "safe when the extra output repeats the kept one exactly, unsafe otherwise"


def check(ctx: Context) -> Iterator[Diagnostic]:
    for finding in ctx.replay.of(Defect.DUPLICATE_OUTPUT):
        output, kept = finding.item, finding.anchor
        builder = FixBuilder(ctx.model)
        same = kept is not None and builder.same_item(output, kept)
        builder.delete(output)
        applicability = Applicability.SAFE if same else Applicability.UNSAFE
        what = "an exact repeat" if same else "a different output"
        kept_where = f" of the output at {kept.where}" if kept else ""
        yield Diagnostic(
            NAME, CODE, output.line,
            f"{output.type} at {output.where} is {what}{kept_where} for {finding.call_id}",
            finding.call_id, builder.build(f"remove the extra output at {output.where}", applicability),
        )
