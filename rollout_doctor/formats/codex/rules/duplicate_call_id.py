"""Two calls sharing one call_id.

What it checks: a call whose call_id an earlier call in the history already used. Replayed lines
(the same call written twice) and providers that number calls per turn (``call_0`` in every turn)
both leave this.

Why it breaks a resume: call ids must be unique in a request; the API cannot tell which output answers
which call. Codex 0.169.0 passes both calls through unchanged. A replayed pair also repeats the item
``id`` that 2026 releases send (``fc_…``), which the API refuses as ``Duplicate item found with id fc_…``
(its wording, as reported in github/app#541 and continuedev/continue#10200); a reused id pairs two outputs
with one id, refused as ``Duplicate function_call_output for call_id …`` (NousResearch/hermes-agent#102629).

Effect on a resume: refused. 0.77.0, 0.169.0 and 0.171.0 send both calls as written
(``tests/test_e2e_resume.py``, ``tests/test_e2e_shapes.py``); the refusal is the real API's, in the words
those reports quote: the loopback stand-in of the tests does not model this check and takes the request.

Example::

    {"type":"response_item","payload":{"type":"function_call","call_id":"call_0","arguments":"{\"cmd\":\"ls\"}",...}}
    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_0",...}}
    {"type":"response_item","payload":{"type":"function_call","call_id":"call_0","arguments":"{\"cmd\":\"pwd\"}",...}}

Fix (safe): when the later call repeats the earlier one exactly (and its output, if any, repeats the
earlier output), remove the repeat. Otherwise give the later call, and the output paired with it, a new
unique call id (``<id>-rd<N>``); the model never reads ids, so what it is told does not change. The API
refuses a call_id longer than 64 characters ("string too long … maximum length 64"), and Codex 0.77.0,
0.169.0 and 0.171.0 send ids as written, so the new id keeps within 64: the old id is cut as much as the
suffix needs (a 64-character ``call_…`` becomes its first 60 characters and ``-rd2``). A repeat whose
removal would leave reasoning before it with no following item is renamed instead (``reasoning-order``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from rollout_doctor.core.fixes import Applicability, Fix
from rollout_doctor.formats.codex import item_order
from rollout_doctor.formats.codex.fixbuilder import FixBuilder
from rollout_doctor.formats.codex.history import Replay
from rollout_doctor.formats.codex.records import CALL_ID_MAX, Item
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found, position

CODE = "RD105"
NAME = "duplicate-call-id"
SUMMARY = "two tool calls sharing one call_id"
FIX_SAFETY = "safe: removes an exact repeat, or renames the later call and its output"
CATEGORY = "pairing"
EFFECT = "refused"
UPSTREAM = ("github/app#541", "hermes-agent#102629", "continue#10200")


def fresh_id(base: str, taken: set[str]) -> str:
    """``<base>-rd<N>`` with the smallest N >= 2 not taken, ``base`` cut short if the whole would pass
    CALL_ID_MAX characters (an id already too long comes out within it)."""
    n = 2
    while True:
        suffix = f"-rd{n}"
        candidate = base[: CALL_ID_MAX - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


class Reuse(NamedTuple):
    """A call that reuses the call id of an earlier one, with the outputs that answer each."""

    call: Item
    output: Item | None
    first: Item
    first_output: Item | None


def reused_ids(replay: Replay) -> list[Reuse]:
    """Every call after the first of its call id, in file order. The first call's output counts only
    when it comes after that call (an earlier one is misplaced-output's)."""
    history = replay.history
    reuses = []
    for group in replay.groups:
        first = group.calls[0] if group.calls else None
        for call in group.calls[1:]:
            assert first is not None
            reuses.append(Reuse(history[call], _item(history, group.answers.get(call)), history[first],
                                _item(history, group.answered_in_order(first))))
    return sorted(reuses, key=lambda reuse: position(reuse.call))


def _item(history: list[Item], pos: int | None) -> Item | None:
    return history[pos] if pos is not None else None


def strands_reasoning(history: list[Item], removed: list[Item]) -> bool:
    """Whether removing these items would leave a reasoning item followed by input or by nothing (the
    reasoning-order invariant: a repeated turn's reasoning stands before its repeated call)."""
    gone = {id(i) for i in removed}
    return item_order.count([i for i in history if id(i) not in gone]) > item_order.count(history)


def _fix(ctx: Context, reuse: Reuse, call_id: str, taken: set[str], removing: list[Item]) -> Fix:
    """Remove an exact repeat of the first call (and of its output), else rename the later call and its
    output. A removal that would strand the reasoning before the repeat, together with the removals this
    pass already offers (``removing``, which it joins), is a rename too: the fix loop applies them at once."""
    call, output = reuse.call, reuse.output
    builder = FixBuilder(ctx.model)
    removed = [call] if output is None else [call, output]
    repeat = builder.same_item(call, reuse.first) and (
        output is None or (reuse.first_output is not None and builder.same_item(output, reuse.first_output))
    ) and not strands_reasoning(ctx.history, [*removing, *removed])
    and_output = f" and its output at {output.where}" if output else ""
    if repeat:
        removing.extend(removed)
        builder.delete(call)
        if output is not None:
            builder.delete(output)
        return builder.build(f"remove the repeated call at {call.where}{and_output}", Applicability.SAFE)
    new_id = fresh_id(call_id, taken)
    taken.add(new_id)
    builder.set_field(call, "call_id", new_id, "call id renamed")
    if output is not None:
        builder.set_field(output, "call_id", new_id, "call id renamed")
    return builder.build(f"rename the call at {call.where}{and_output} to {new_id}", Applicability.SAFE)


def check(ctx: Context) -> Iterator[Diagnostic]:
    reuses = reused_ids(ctx.replay)
    if not reuses:
        return  # the set of every id below is 2.5 MiB on a 500 MB session: made only when a new id is picked
    taken = {i.call_id for i in ctx.history if i.call_id}
    removing: list[Item] = []
    for reuse in reuses:
        call, call_id = reuse.call, reuse.call.call_id
        assert call_id is not None
        message = f"{call.type} at {call.where} reuses call_id {call_id} of the call at {reuse.first.where}"
        yield found(call.line, message, call_id, _fix(ctx, reuse, call_id, taken, removing))
