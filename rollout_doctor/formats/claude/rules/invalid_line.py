"""A line that is not a transcript record: not JSON, torn, or without a type.

Why it breaks a resume: a crash or a full disk leaves the last line half written; after it, the next
run appends a newline first, so the fragment becomes a torn line in the middle of the file (seen with
2.1.332). Releases before 2.1.121 did not skip it; other readers of the file still may not.

Effect on a resume: 2.1.121 and later skip it, and what it held is lost to the model: dropped. When
the torn line was the turn's last answer, 2.1.332 sends "No response requested." in its place (seen,
tests/test_claude_e2e.py), before and after the fix alike: the answer is gone either way.

Fix: remove the line. A conversation line whose parent was on it is relinked by broken-chain.

Fix safety: safe: Claude Code cannot read the line either.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability, Edit, Fix
from rollout_doctor.core.rules import Diagnostic, found
from rollout_doctor.formats.claude.records import Invalid, LineKind
from rollout_doctor.formats.claude.rules.base import Context

CODE = "CC201"
NAME = "claude-invalid-line"
SUMMARY = "a line that is not a transcript record"
FIX_SAFETY = "safe: the line is removed"
CATEGORY = "structure"
EFFECT = "dropped"
PHASE = 0
UPSTREAM = ("#6836",)


def check(ctx: Context) -> Iterator[Diagnostic]:
    model = ctx.model
    for line in model.own_lines:
        if model.kinds[line] != LineKind.INVALID:
            continue
        record = model.records.get(line)
        reason = record.reason if isinstance(record, Invalid) else "unreadable"
        yield found(line, f"not a transcript record: {reason}", None,
                    Fix("remove the line", Applicability.SAFE, (Edit.delete(line),)))
