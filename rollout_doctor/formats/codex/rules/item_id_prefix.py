"""An item id that does not begin as the API wants for the item's type.

What it checks: a message, function call, custom tool call or reasoning item in the history Codex sends
whose own ``id`` does not begin with ``msg``, ``fc``, ``ctc`` or ``rs`` respectively: a function call's
``fc_…`` id on a custom tool call (openai/codex#40039, Codex App 26.818, often right after an automatic
compaction), a bare UUID on a message (#33176, Codex App 26.707), ``review_rollout_user`` on the message
a review writes (#27928 on CLI 0.139.0, #34283 on App 26.715), another provider's ``item_…`` id on a
reasoning item (jlcodes99/cockpit-tools#2090).

Why it breaks a resume: the API checks each item id's prefix and refuses the whole request, on every
resume, until the id is gone: "Invalid 'input[107].id': 'fc_08d2…'. Expected an ID that begins with
'ctc'." (the words of #40039); retrying, compacting or restarting does not help (#34283).

Effect on a resume: refused. Codex 0.169.0 and 0.171.0 send an item's id as the file holds it (seen:
``fc_…`` on a custom tool call, ``item_…`` on a reasoning item, ``review_rollout_user`` on a message),
except a message id that is a bare UUID, which they leave out of the request: that one is harmless to
them and refused by the releases that sent it (#33176). 0.77.0 leaves every item id out of the request
(seen: a function call's, a message's and a reasoning item's), so a file it resumes is not refused for
this; the next release that resumes it is (``tests/test_e2e_api_checks.py`` resumes such sessions with
0.169.0 and 0.171.0).

Example::

    {"type":"response_item","payload":{"type":"custom_tool_call","id":"fc_08d2f9b0333b7690016a88ed74f82c87d0aa6bf2edc704ebc0","call_id":"call_A",...}}

Fix (safe): remove the ``id`` field. The id only names the item on the API's side; an item sent without
one is taken (0.77.0 sends none, 0.169.0 and 0.171.0 leave out the bare UUIDs themselves), and the
model is told the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability
from rollout_doctor.formats.codex.fixbuilder import FixBuilder
from rollout_doctor.formats.codex.item_ids import ID_PREFIXES, dropped_by_codex
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found, item_label

CODE = "RD111"
NAME = "item-id-prefix"
SUMMARY = "an item id whose prefix does not match the item's type"
FIX_SAFETY = "safe: removes the id, which names the item only on the API's side"
CATEGORY = "pairing"
TARGET = "responses"  # the Chat wire sends no reasoning items and no item ids
EFFECT = "refused"
GENERATIONS = ("envelope", "paginated")  # item ids are sent by 2026 releases, which read no legacy file
UPSTREAM = ("#40039", "#33176", "#27928", "#34283", "cockpit-tools#2090")


def check(ctx: Context) -> Iterator[Diagnostic]:
    if ctx.model.generation == "legacy":
        return
    for item in ctx.notable:
        if item.bad_id is None:
            continue
        builder = FixBuilder(ctx.model)
        builder.remove_field(item, "id", "item id removed")
        fix = builder.build(f"remove the id of the {item_label(item)} at {item.where}", Applicability.SAFE)
        shown = item.bad_id if len(item.bad_id) <= 60 else item.bad_id[:57] + "..."
        harmless = dropped_by_codex(item.type, item.bad_id)
        note = " (0.169.0 and 0.171.0 leave a bare UUID out; other releases send it)" if harmless else ""
        yield found(item.line, f"{item_label(item)} at {item.where} has id {shown!r}; the API wants an id "
                               f"beginning with {ID_PREFIXES[item.type]!r}{note}", item.call_id, fix,
                    effect="harmless" if harmless else None)
