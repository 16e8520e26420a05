"""A call with no output gets a cancelled one, just after it (the toy format's only rule)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from rollout_doctor.core.fixes import Applicability, Edit, Fix
from rollout_doctor.core.rules import Diagnostic, found

CODE = "TY001"
NAME = "toy-orphan-call"
SUMMARY = "A call with no output."
FIX_SAFETY = "safe: a cancelled output"
CATEGORY = "pairing"
EFFECT = "stuck"


def check(ctx: Any) -> Iterator[Diagnostic]:
    from tests.support.toy import CALL, OUT

    model = ctx.model
    answered = {model.records[line].call_id for line in model.own_lines if model.kinds[line] == OUT}
    for line in model.own_lines:
        record = model.records.get(line)
        if model.kinds[line] == CALL and record.call_id not in answered:
            content = orjson.dumps({"t": "out", "id": record.call_id, "cancelled": True})
            yield found(line, f"call {record.call_id} has no output", record.call_id,
                        Fix("add a cancelled output", Applicability.SAFE,
                            (Edit.insert_after(line, content, "cancelled output"),)))
