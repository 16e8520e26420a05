"""An output recorded before its call.

What it checks: an output whose call appears later in the history, with no output of its own after it.
Parallel tool calls racing the writer, or a hand edit, leave this shape.

Why it breaks a resume: Codex 0.169.0 sends the items in file order, and the API requires the call
first: ``No tool call found for function call output with call_id …`` (the error of openai/codex#17630).

Effect on a resume: refused, on every resume: seen with 0.77.0, 0.169.0 and 0.171.0
(``tests/test_e2e_resume.py``).

Example::

    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_A",...}}
    {"type":"response_item","payload":{"type":"function_call","call_id":"call_A",...}}

Fix (safe): move the output to just after its call; no byte of it changes.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.formats.codex.fixbuilder import move_fix
from rollout_doctor.formats.codex.history import Replay
from rollout_doctor.formats.codex.records import Item
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found, position

CODE = "RD103"
NAME = "misplaced-output"
SUMMARY = "a tool output recorded before its call"
FIX_SAFETY = "safe: moves the output after its call, unchanged"
CATEGORY = "pairing"
EFFECT = "refused"
UPSTREAM = ("#17630",)


def outputs_before_their_call(replay: Replay) -> list[tuple[Item, Item]]:
    """(output, call) for each output that answers a call recorded after it, in file order."""
    history = replay.history
    early = [(history[output], history[call]) for g in replay.groups
             for call, output in g.answers.items() if output < call]
    return sorted(early, key=lambda pair: position(pair[0]))


def check(ctx: Context) -> Iterator[Diagnostic]:
    for output, call in outputs_before_their_call(ctx.replay):
        title = f"move the output at {output.where} after its call at {call.where}"
        fix = move_fix(ctx.model, output, call, title)
        yield found(output.line, f"{output.type} at {output.where} comes before its call at {call.where}",
                    call.call_id, fix)
