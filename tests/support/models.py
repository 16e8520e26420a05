"""Comparing line indexes (rollout_doctor.core.model) in tests."""

from __future__ import annotations

from rollout_doctor.formats.codex.rollout import Rollout


def model_state(model: Rollout) -> tuple[object, ...]:
    """Everything an index holds, comparable with ``==``: two models that agree on this are the same to
    every rule. tests/test_parallel.py compares ranges put back together with the whole file's index,
    tests/test_classify_fast.py the fast path's index with the reference's."""
    return (list(model.offsets), bytes(model.kinds), list(model.ordinals), sorted(model.records.items()),
            model.has_bom)
