"""An output whose call is nowhere in the history, or that names no call at all.

What it checks: a ``function_call_output``, ``custom_tool_call_output`` or client-side
``tool_search_output`` whose call_id matches no call in the history Codex would send (the call may have
been lost to a crash, a rollback or a compaction that dropped it); and a function or custom tool output
with no ``call_id`` (absent or null) or an empty one, or a client-side tool search output with an empty
one. A server-side ``tool_search_output`` (``"execution": "server"``) is never an orphan, whatever its
call_id, nor is a tool search output with no call_id: Codex's ``remove_orphan_outputs`` keeps both, and
0.169.0 and 0.171.0 send them as written (0.77.0 knows no tool search items and sends none).

Why it breaks a resume: the Responses API refuses an output whose call it cannot find with ``No tool
call found for function call output with call_id call_…``; on the Chat wire, ``messages with role 'tool'
must be a response to a preceeding message with 'tool_calls'``. Released Codex drops such outputs in
memory (logging ``Orphan function call output for call id``) on every request; clients that replay the
file as it is hit the error (openai/codex#17630, "No tool call found for function call output with
call_id", labelled tool-calls). An output with no call_id answers nothing either, which is why this rule
reports it rather than ``bad-output-shape``: no rewrite of its ``output`` could make it answer a call.
Codex 0.77.0 cannot read the line (``call_id`` is a required string) and skips it; 0.169.0 and 0.171.0
skip a custom tool output without one but send a function output without one to the API as it is, with
no ``call_id``, which the API requires. An empty call_id is read and dropped as an orphan by all three.
(Seen by resuming hand-made rollouts with 0.77.0, 0.169.0 and 0.171.0: ``tests/test_e2e_shapes.py``.)

Effect on a resume: patched. 0.77.0, 0.169.0 and 0.171.0 drop the output in memory before every request
and log ``Orphan function call output`` (``tests/test_e2e_resume.py``); an empty call_id goes the same
way. A function output with no call_id at all is refused: 0.169.0 and 0.171.0 send it without one and
the API requires it ("Missing required parameter: call_id"; 0.77.0 skips the line, but the releases
after the one that wrote a file resume it too). A custom tool output with none is dropped: every
release seen skips the line (``tests/test_e2e_shapes.py``).

Example::

    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_gone","output":"..."}}
    {"type":"response_item","payload":{"type":"function_call_output","output":"..."}}

Fix (safe): remove the line (or the element of a compacted history). Codex already drops it before
every request, or the API would refuse it; the bytes stay recoverable with ``rollout-doctor undo``.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability
from rollout_doctor.formats.codex.fixbuilder import FixBuilder
from rollout_doctor.formats.codex.records import Item
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found, position

CODE = "RD102"
NAME = "orphan-output"
SUMMARY = "a tool output whose call is nowhere in the history, or that names none"
FIX_SAFETY = "safe: removes an output Codex drops before every request anyway"
CATEGORY = "pairing"
EFFECT = "patched"
UPSTREAM = ("#17630",)


def orphan_outputs(ctx: Context) -> list[tuple[Item, str | None, str]]:
    """(output, call id, why) for each output that can answer no call, in file order."""
    history = ctx.replay.history
    orphans = [(history[output], g.call_id, "answers a call that is not in the history")
               for g in ctx.replay.groups if not g.calls for output in g.outputs]
    orphans += [(item, None, f"{item.call_id_problem}, so it answers no call")
                for item in ctx.notable if item.call_id_problem is not None]
    return sorted(orphans, key=lambda orphan: position(orphan[0]))


def effect_of(ctx: Context, output: Item) -> str | None:
    """What an output that names no call at all does, where it is not the orphan Codex drops in memory."""
    if output.call_id_problem is None or FixBuilder(ctx.model).payload(output).get("call_id") is not None:
        return None  # an empty call_id: dropped as an orphan, like an output whose call is gone
    return "refused" if output.type == "function_call_output" else "dropped"


def check(ctx: Context) -> Iterator[Diagnostic]:
    for output, call_id, why in orphan_outputs(ctx):
        builder = FixBuilder(ctx.model)
        builder.delete(output)
        yield found(output.line, f"{output.type} at {output.where} {why}", call_id,
                    builder.build(f"remove the orphan output at {output.where}", Applicability.SAFE),
                    effect=effect_of(ctx, output))
