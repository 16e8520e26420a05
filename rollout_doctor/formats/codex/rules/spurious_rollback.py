"""A ``thread_rolled_back`` that cannot have been meant.

What it checks: a rollback event that names more turns than the history holds when Codex replays it,
or that was recorded inside a turn that then completed (after the turn's ``task_started`` and before its
``task_complete``). Codex's core refuses a rollback while a turn runs, and a person can only roll back
turns that exist, so such an event was written by something else: the TUI appends one when Ctrl+C
cancels the editing of an earlier prompt (openai/codex#31239, "Ctrl+C while editing a previous message
appends thread_rolled_back and hides the message"; two such events were seen right after the
interrupted turn).

Why it breaks a resume: on every resume Codex drops the last N turns of the history before sending it:
the messages the user still sees in the file are gone from what the model is told, or, for a rollback
naming more turns than exist, everything after the first prompt is.

Effect on a resume: dropped. The session resumes; the model has lost the turns the rollback hides
(the rollback is applied as ``codex-rs`` ``drop_last_n_user_turns`` reads it, docs/codex-facts.md §2).

Example::

    {"type":"event_msg","payload":{"type":"task_started","turn_id":"t1"}}
    {"type":"response_item","payload":{"type":"message","role":"user","content":[...]}}
    {"type":"event_msg","payload":{"type":"thread_rolled_back","num_turns":1}}
    {"type":"event_msg","payload":{"type":"task_complete","turn_id":"t1"}}

Fix (unsafe): remove the rollback line, as #31239's reporter did by hand. The model is told the turns
again; a rollback that was meant (rare in these two shapes) is undone, so it needs ``--unsafe-fixes``
and ``undo`` restores it.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability, Edit, Fix
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found

CODE = "RD114"
NAME = "spurious-rollback"
SUMMARY = "a thread_rolled_back naming more turns than exist, or recorded inside a completed turn"
FIX_SAFETY = "unsafe: removes the rollback, so the model is told the turns it hid"
CATEGORY = "pairing"
EFFECT = "dropped"
GENERATIONS = ("envelope", "paginated")  # events exist from the envelope on
UPSTREAM = ("#31239",)

TURN_ENDS = frozenset({"task_complete", "turn_aborted"})


def inside_completed_turns(ctx: Context) -> set[int]:
    """The lines of rollbacks recorded after a turn's task_started and before its task_complete."""
    records = ctx.model.records
    open_turns: dict[str | None, int] = {}  # turn id -> the task_started line
    pending: dict[str | None, list[int]] = {}  # turn id -> rollbacks recorded while it ran
    inside: set[int] = set()
    for line in ctx.lines_read.event_lines:
        record = records[line]
        if record.type == "task_started":
            open_turns[record.turn_id] = line
            pending[record.turn_id] = []
        elif record.type == "thread_rolled_back":
            for rollbacks in pending.values():
                rollbacks.append(line)
        elif record.type in TURN_ENDS and record.turn_id in open_turns:
            del open_turns[record.turn_id]
            if record.type == "task_complete":
                inside.update(pending.pop(record.turn_id, []))
            else:
                pending.pop(record.turn_id, None)
    return inside


def check(ctx: Context) -> Iterator[Diagnostic]:
    if ctx.model.generation == "legacy":
        return
    inside = inside_completed_turns(ctx)
    for event, turns in ctx.lines_read.rollbacks:
        assert event.num_turns is not None
        where = f"line {event.line + 1}"
        if event.num_turns > turns:
            why = f"names {event.num_turns} turn(s) but the history holds {turns}"
        elif event.line in inside:
            why = "was recorded inside a turn that then completed (Codex refuses a rollback while a turn runs)"
        else:
            continue
        fix = Fix(f"remove the rollback at {where}", Applicability.UNSAFE, (Edit.delete(event.line),))
        yield found(event.line, f"thread_rolled_back at {where} {why}; it hides turns from the model", None, fix)
