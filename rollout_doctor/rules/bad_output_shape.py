"""An output Codex cannot read, so it drops the whole line.

What it checks: a ``function_call_output`` or ``custom_tool_call_output`` whose ``output`` is neither
a string nor an array of content items (``input_text``, ``input_image``), or whose ``call_id`` is not a
string. Codex's deserializer rejects such a line and skips it silently.

Why it breaks a resume: the call then looks unanswered; Codex sends ``aborted`` in place of what the tool
really returned, and the model is told the tool failed when it ran. The old ``{content, success}``
object shape (Codex 0.2x) and hand-written JSON objects are the usual causes.

Example::

    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_A","output":{"content":"ok","success":true}}}

Fix (unsafe): rewrite ``output`` as a string: the ``content`` text of the old object shape, else the
value's JSON text. The model then sees the real result, in a form nobody wrote, so it needs
``--unsafe-fixes``. A non-string ``call_id`` has no fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from rollout_doctor.fixbuilder import FixBuilder
from rollout_doctor.fixes import Applicability
from rollout_doctor.rules.base import Context, Diagnostic

CODE = "RD107"
NAME = "bad-output-shape"
SUMMARY = "a tool output in a shape Codex drops"
FIX_SAFETY = "unsafe: rewrites the output value as a string"


def as_text(output: Any) -> str:
    if isinstance(output, dict) and isinstance(output.get("content"), str):
        return output["content"]
    return orjson.dumps(output).decode()


def check(ctx: Context) -> Iterator[Diagnostic]:
    for item in ctx.history:
        if item.output_ok:
            continue
        builder = FixBuilder(ctx.model)
        fix = None
        payload = builder.payload(item)
        if isinstance(payload.get("call_id"), str) and "output" in payload:
            builder.set_field(item, "output", as_text(payload["output"]), "output rewritten as text")
            fix = builder.build(f"rewrite the output at {item.where} as a string", Applicability.UNSAFE)
        yield Diagnostic(
            NAME, CODE, item.line,
            f"{item.type} at {item.where}: {item.output_problem}; Codex drops this line",
            item.call_id, fix,
        )
