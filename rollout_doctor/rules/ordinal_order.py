"""Paginated ordinals that repeat, go back, jump, or are missing.

What it checks: in a paginated rollout (``history_mode: "paginated"``, Codex 2026), every readable
record carries a top-level integer ``ordinal``, one more than the record before it.

Why it breaks a resume: a final record with no ordinal makes resume fail ("final paginated rollout
record … is missing an ordinal", openai/codex#45150); a repeated or missing ordinal stops Codex's
thread-history projection for good ("expected ordinal N, got N-1": #40630, #41566, #44432, seen in
0.153.4 and later after an unfinished turn and a resume).

Example::

    {"timestamp":"…","ordinal":41,"type":"event_msg","payload":{"type":"token_count",…}}
    {"timestamp":"…","ordinal":41,"type":"event_msg","payload":{"type":"thread_settings_applied",…}}

Fix (safe): renumber the records from the first bad one on, so ordinals increase by one; only the
ordinal's digits change (or the member is added, after ``timestamp``, where Codex writes it).
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.facts import LineKind
from rollout_doctor.fixes import Applicability, Edit, Fix
from rollout_doctor.rules.base import Context, Diagnostic

CODE = "RD203"
NAME = "ordinal-order"
SUMMARY = "paginated ordinals that repeat, go back, jump or are missing"
FIX_SAFETY = "safe: renumbers ordinals from the first bad record, touching only the ordinal"

UNREAD = frozenset({LineKind.BLANK, LineKind.INVALID})


def check(ctx: Context) -> Iterator[Diagnostic]:
    model = ctx.model
    if model.generation != "paginated":
        return
    previous: int | None = None
    for line, kind in enumerate(model.kinds):
        if kind in UNREAD:
            continue
        ordinal = model.ordinal(line)
        problem = None
        if ordinal is None:
            problem = "has no ordinal"
        elif ordinal is False:
            problem = "has an ordinal that is not an integer"
        elif previous is not None and ordinal <= previous:
            problem = f"has ordinal {ordinal}, not above the previous record's {previous}"
        elif previous is not None and ordinal > previous + 1:
            problem = f"has ordinal {ordinal}: it skips from {previous}"
        if problem:
            fix = Fix(f"renumber ordinals from line {line + 1}", Applicability.SAFE, (Edit.renumber_from(line),))
            yield Diagnostic(NAME, CODE, line, f"line {line + 1} {problem}", None, fix)
        # Judge each record against its neighbour so one break is reported once, not on every later line.
        if type(ordinal) is int:
            previous = ordinal
        else:
            previous = previous + 1 if previous is not None else 0
