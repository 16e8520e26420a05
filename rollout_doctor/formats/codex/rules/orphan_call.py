"""A call that never got an output.

What it checks: a ``function_call``, ``custom_tool_call``, ``local_shell_call`` (with a call_id) or
client-side ``tool_search_call`` in the history Codex would send, with no output carrying its call_id
anywhere after it.

Why it breaks a resume: the Responses API refuses the history with ``No tool output found for function
call call_…`` (or ``… for custom tool call …``). Released Codex hides this by inserting an ``aborted``
output in memory at every request, never writing it back; older and alpha builds log an error or panic
instead, and other clients reading the file see the hole. It is what an interrupted turn leaves: Esc,
a crash, or a stream that closed before ``response.completed`` (openai/codex#16255: an interrupted
stream leaves a completed tool call without its output in persisted history; seen here with 0.77.0;
#29773 "Persisted function_call without matching function_call_output in resumed session").

Effect on a resume: patched. Codex 0.77.0, 0.169.0 and 0.171.0 resume the session and send, right after
the call, an ``aborted`` output they make up in memory before every request, never written back
(``tests/test_e2e_resume.py``, and the README's #16255 transcript with 0.77.0). Alpha builds may panic on
a custom or local shell call without output instead (docs/codex-facts.md §1, read in the source).

Example::

    {"type":"response_item","payload":{"type":"function_call","name":"shell","call_id":"call_A",...}}
    {"type":"event_msg","payload":{"type":"turn_aborted",...}}

Fix (safe): insert, right after the call, the cancelled output Codex itself would have sent: the
output type matching the call type, with the text ``aborted`` (and, for a call with an item id, the same
deterministic output id Codex derives). The model is told nothing it would not be told anyway.

Recovered output (unsafe): when an event line still holds what the tool printed (0.169.0
``item_completed`` with a ``CommandExecution`` or ``FileChange``; older ``exec_command_end``,
``patch_apply_end``, ``mcp_tool_call_end``), the report says so, and ``--unsafe-fixes`` inserts that
output, rebuilt in the text Codex would have sent (``rollout_doctor/formats/codex/recover.py``), instead of
``aborted``. The model is then told the truth, which is more than Codex tells it, and in a text
rebuilt rather than recorded: hence unsafe. The diff marks the line "recovered output".
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability, Fix
from rollout_doctor.formats.codex.fixbuilder import FixBuilder
from rollout_doctor.formats.codex.history import Replay
from rollout_doctor.formats.codex.items import output_payload
from rollout_doctor.formats.codex.records import Item
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found, item_label, position

CODE = "RD101"
NAME = "orphan-call"
SUMMARY = "a tool call with no output after it"
FIX_SAFETY = "safe: inserts the 'aborted' output Codex would synthesize in memory anyway"
CATEGORY = "pairing"
EFFECT = "patched"
UPSTREAM = ("#16255", "#29773")


def orphan_calls(replay: Replay) -> list[Item]:
    """The first call of each call id that no output answers. A later call of the id left unanswered
    is a repeat of it: duplicate-call-id's."""
    calls = [replay.history[g.calls[0]] for g in replay.groups if g.calls and g.calls[0] not in g.answers]
    return sorted(calls, key=position)


def check(ctx: Context) -> Iterator[Diagnostic]:
    calls = orphan_calls(ctx.replay)
    if not calls:
        return
    # Imported here: recovering an output is for the few sessions with an orphan, and its import is a
    # millisecond and a half of every pre-resume check of a clean one.
    from rollout_doctor.formats.codex.recover import output_events, recover_output

    events = output_events(ctx.model)
    for call in calls:
        call_payload = FixBuilder(ctx.model).payload(call)
        message = (f"{item_label(call)} at {call.where} never got an output; the API refuses the history "
                   "as written (Codex patches it with 'aborted' in memory, on every request)")
        cancelled = FixBuilder(ctx.model)
        payload = output_payload(call_payload)
        cancelled.insert_after(call, payload, "cancelled output")
        fix: Fix | None = cancelled.build(f"insert a cancelled {payload['type']} after {call.where}",
                                          Applicability.SAFE)
        alternative = None
        recovered = recover_output(ctx.model, call, call_payload, events)
        if recovered is not None:
            builder = FixBuilder(ctx.model)
            builder.insert_after(call, output_payload(call_payload, recovered.output), "recovered output")
            alternative = builder.build(
                f"insert the output recovered from the {recovered.source} event at line "
                f"{recovered.event_line + 1} after {call.where}", Applicability.UNSAFE)
            message += (f"; what the tool printed survives in the {recovered.source} event at line "
                        f"{recovered.event_line + 1} (`fix --unsafe-fixes` writes it instead of 'aborted')")
            if ctx.options.unsafe_fixes:
                fix, alternative = alternative, None
        yield found(call.line, message, call.call_id, fix, alternative)
