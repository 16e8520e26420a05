"""A call answered more than once.

What it checks: a second output for a call that already has one (a replayed line, a retried tool
whose first result was also recorded), or an output recorded before a call that has its own output
later.

Why it breaks a resume: the API expects exactly one output per call; Codex 0.169.0 sends both, and the
request is refused with ``Duplicate function_call_output for call_id … Each function_call must have
exactly one matching function_call_output`` (that wording reported in NousResearch/hermes-agent#102629,
another Responses client replaying a stored history).

Effect on a resume: refused, on every resume: seen with 0.77.0, 0.169.0 and 0.171.0
(``tests/test_e2e_resume.py``).

Example::

    {"type":"response_item","payload":{"type":"function_call","call_id":"call_A",...}}
    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_A","output":"ok"}}
    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_A","output":"ok"}}

Fix: remove the extra output. Safe when it repeats the kept output exactly; unsafe when the two
differ, since the model then loses what the removed one said (``--unsafe-fixes``; ``undo`` restores it).
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability
from rollout_doctor.formats.codex.fixbuilder import FixBuilder
from rollout_doctor.formats.codex.history import CallGroup, Replay
from rollout_doctor.formats.codex.records import Item
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found, position

CODE = "RD106"
NAME = "duplicate-output"
SUMMARY = "a tool call answered by more than one output"
FIX_SAFETY = "safe when the extra output repeats the kept one exactly, unsafe otherwise"
CATEGORY = "pairing"
EFFECT = "refused"
UPSTREAM = ("hermes-agent#102629",)


def kept_output(group: CallGroup, extra: int) -> int | None:
    """The output an extra one repeats: for one after the id's first call, the latest output before it
    that answers a call recorded before that output; for one before, the output answering the first call."""
    if extra > group.calls[0]:
        return max((o for c, o in group.answers.items() if c < o < extra), default=None)
    return group.answers.get(group.calls[0])


def extra_outputs(replay: Replay) -> list[tuple[Item, Item | None]]:
    """(extra output, the output it repeats) for each output of a called id that answers no call, in
    file order. Outputs of an id no call has are orphan-output's."""
    history = replay.history
    extras = []
    for group in replay.groups:
        if not group.calls:
            continue
        answering = set(group.answers.values())
        for output in group.outputs:
            if output not in answering:
                kept = kept_output(group, output)
                extras.append((history[output], history[kept] if kept is not None else None))
    return sorted(extras, key=lambda extra: position(extra[0]))


def check(ctx: Context) -> Iterator[Diagnostic]:
    for output, kept in extra_outputs(ctx.replay):
        builder = FixBuilder(ctx.model)
        same = kept is not None and builder.same_item(output, kept)
        builder.delete(output)
        applicability = Applicability.SAFE if same else Applicability.UNSAFE
        what = "an exact repeat" if same else "a different output"
        kept_where = f" of the output at {kept.where}" if kept else ""
        fix = builder.build(f"remove the extra output at {output.where}", applicability)
        yield found(output.line, f"{output.type} at {output.where} is {what}{kept_where} for {output.call_id}",
                    output.call_id, fix)
