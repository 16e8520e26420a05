"""Paginated ordinals that repeat, go back, jump, or are missing.

What it checks: in a paginated rollout (``history_mode: "paginated"``, Codex 2026), every readable
record carries a top-level integer ``ordinal``, one more than the record before it.

Why it breaks a resume: a final record with no ordinal makes resume fail ("final paginated rollout
record … is missing an ordinal", openai/codex#45150); a repeated or missing ordinal stops Codex's
thread-history projection for good ("expected ordinal N, got N-1": #40630, #41566, #44432, seen in
0.153.4 and later after an unfinished turn and a resume).

Effect on a resume: harmless for a repeated, regressed or missing ordinal, or a gap: 0.169.0 and 0.171.0
resume and send the model the same history, and warn (``skipping duplicate or regressed rollout ordinal``)
as their thread-history projection leaves the line out (``tests/test_e2e_resume.py``,
``tests/test_e2e_paginated.py``). Refused when the file's last record has no ordinal (#45150; the check
is in docs/codex-facts.md §4, read in the source, not run here). Dropped when an ordinal is not an
integer: Codex cannot read the line as a rollout line (its ``ordinal`` is an unsigned integer) and skips
it (read in the source).

Example::

    {"timestamp":"…","ordinal":41,"type":"event_msg","payload":{"type":"token_count",…}}
    {"timestamp":"…","ordinal":41,"type":"event_msg","payload":{"type":"thread_settings_applied",…}}

Fix (safe): renumber the records from the first bad one on, so ordinals increase by one; only the
ordinal's digits change (or the member is added, after ``timestamp``, where Codex writes it).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

import orjson

from rollout_doctor.core.fixes import Applicability, Edit, Fix
from rollout_doctor.formats.codex.records import LineKind
from rollout_doctor.formats.codex.rollout import Rollout
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found
from rollout_doctor.formats.codex.salvage import salvage

CODE = "RD203"
NAME = "ordinal-order"
SUMMARY = "paginated ordinals that repeat, go back, jump or are missing"
FIX_SAFETY = "safe: renumbers ordinals from the first bad record, touching only the ordinal"
CATEGORY = "structure"
EFFECT = "harmless"
GENERATIONS = ("paginated",)  # the only rollouts with ordinals (0.169.0 on)
UPSTREAM = ("#45150", "#40630", "#41566", "#44432")


def _records(model: Rollout) -> Iterator[tuple[int, int | None | bool, bool]]:
    """(line, ordinal, glued) for each record Codex reads or invalid-line will salvage, in file order.

    Whole records glued into a damaged line (openai/codex#24425) hold their ordinals again once
    invalid-line keeps them, so the line after them is judged against them: the gap Codex sees until
    then is the damaged line's defect, not a second one. They are not judged themselves here: a
    renumbering cannot reach into a damaged line, and invalid-line's fix runs first (phase 0), after
    which the next pass judges the salvaged records like any other."""
    for line, kind in enumerate(model.kinds):
        if kind == LineKind.INVALID and not model.oversized(line):
            for record in salvage(model.content(line)):
                ordinal = orjson.loads(record).get("ordinal")
                yield line, ordinal if type(ordinal) is int else None if ordinal is None else False, True
        elif kind != LineKind.BLANK:
            yield line, model.ordinal(line), False


def _in_sequence(model: Rollout) -> bool:
    """Every line a record, ordinals n, n+1, n+2, ...: the usual file, decided at C speed (the loop
    below costs 0.1 s on a 1 GB rollout). Sentinels for absent or non-integer ordinals are negative."""
    count = len(model.ordinals)
    if not count or LineKind.BLANK in model.kinds or LineKind.INVALID in model.kinds:
        return False
    first = model.ordinals[0]
    return first >= 0 and model.ordinals == array("q", range(first, first + count))


def _last_record(model: Rollout) -> int | None:
    """The last line Codex reads as a record: where its check for a final ordinal looks (it passes over
    lines it cannot parse, from the end)."""
    for line in range(len(model) - 1, model.own_start - 1, -1):
        if model.kinds[line] not in (LineKind.BLANK, LineKind.INVALID):
            return line
    return None


def _effect(ordinal: int | None | bool, final: bool) -> str | None:
    """What this ordinal does to a resume, when it is not the rule's EFFECT."""
    if ordinal is None and final:
        return "refused"  # "final paginated rollout record … is missing an ordinal" (#45150)
    if ordinal is False:
        return "dropped"  # not a u64: the line is not a rollout line to Codex
    return None


def check(ctx: Context) -> Iterator[Diagnostic]:
    model = ctx.model
    if model.generation not in GENERATIONS or _in_sequence(model):
        return
    previous: int | None = None
    last = _last_record(model)
    for line, ordinal, glued in _records(model):
        if glued:
            previous = ordinal if type(ordinal) is int else previous
            continue
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
            yield found(line, f"line {line + 1} {problem}", fix=fix, effect=_effect(ordinal, line == last))
        # Judge each record against its neighbour so one break is reported once, not on every later line.
        if type(ordinal) is int:
            previous = ordinal
        else:
            previous = previous + 1 if previous is not None else 0
