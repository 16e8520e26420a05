"""The session's ``session_meta`` line is missing, not first, or names another session.

What it checks: the first readable line must be ``session_meta`` (Codex 2026 refuses a paginated
rollout that "does not start with session metadata"); its ``id`` must be the thread uuid in the file
name (``rollout-<time>-<uuid>.jsonl``), which is how Codex finds the file; ``history_mode``, when
present, must be ``legacy`` or ``paginated``. A legacy rollout (a bare header line, written before
Sept 2025) is checked for its pairing only: its header is what older Codex wrote (current Codex cannot
resume such files at all; the JSON report's ``generation`` says ``legacy``).

Why it breaks a resume: with no readable meta Codex fails with "failed to parse thread ID from rollout
file" or "rollout contains no session metadata"; an id that differs from the name gives "rollout
contains history for thread …"; an empty file is "empty session file".

Effect on a resume: refused, on every resume (the errors above, docs/codex-facts.md §4, read in the
source). A meta that is present but not first stops 0.169.0 and 0.171.0 before they ask the model ("does
not start with session metadata") in a paginated rollout; 0.77.0 resumes its own envelope rollout so, and
no newer release was tried on one: harmless there (``tests/test_e2e_resume.py``).

Example::

    {"timestamp":"…","type":"response_item","payload":{…}}
    {"timestamp":"…","type":"session_meta","payload":{"id":"…",…}}

Fix (safe): only for a meta line that is present but not first: move it to the top. A missing meta
and a mismatched id need a person's decision and have no fix.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import TOP, Applicability, Edit, Fix
from rollout_doctor.formats.codex.home import thread_id_from_name
from rollout_doctor.formats.codex.records import LineKind, Meta
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found

CODE = "RD202"
NAME = "session-meta"
SUMMARY = "session_meta missing, not first, or naming another session"
FIX_SAFETY = "safe: moves a misplaced session_meta to the top; other cases have no fix"
CATEGORY = "structure"
EFFECT = "refused"
# A legacy header is what older Codex wrote; only its pairing is checked.
GENERATIONS = ("envelope", "paginated")

HISTORY_MODES = frozenset({"legacy", "paginated"})


def check(ctx: Context) -> Iterator[Diagnostic]:
    model = ctx.model
    first = model.first_meaningful_line
    if first is None:
        if LineKind.INVALID not in model.kinds[model.own_start:]:
            yield found(model.own_start, "the file holds no records; Codex refuses an empty session file")
        return
    meta = model.meta
    if meta is None:
        yield found(first, "no session_meta line; Codex cannot tell which session this is")
        return
    if meta.legacy:
        return
    if meta.line != first:
        fix = Fix("move session_meta to the top", Applicability.SAFE, (Edit.move_after(meta.line, TOP),))
        yield found(meta.line, f"session_meta is on line {meta.line + 1}, not first", fix=fix,
                    effect=None if model.generation == "paginated" else "harmless")
    yield from _check_fields(ctx, meta)


def _check_fields(ctx: Context, meta: Meta) -> Iterator[Diagnostic]:
    expected = thread_id_from_name(ctx.model.name_path)
    if not isinstance(meta.id, str):
        yield found(meta.line, f"session_meta id is {meta.id!r}, not a uuid string")
    elif expected is not None and meta.id.lower() != expected:
        yield found(meta.line, f"session_meta id {meta.id} differs from the file name's thread id "
                               f"{expected}; Codex finds the file by its name and then refuses it")
    if meta.history_mode is not None and meta.history_mode not in HISTORY_MODES:
        yield found(meta.line, f"unknown history_mode {meta.history_mode!r}; Codex refuses the file")
