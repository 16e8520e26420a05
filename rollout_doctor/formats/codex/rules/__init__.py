"""The rule registry: an explicit list, in code order, not discovery by side effect."""

from __future__ import annotations

from rollout_doctor.core.rules import Registry, UnknownRule
from rollout_doctor.formats.codex.rules import (
    bad_image_url,
    bad_output_shape,
    chat_adjacency,
    duplicate_call_id,
    duplicate_output,
    foreign_reasoning_content,
    history_base,
    interleaved_message,
    invalid_line,
    item_id_prefix,
    long_call_id,
    misplaced_output,
    ordinal_order,
    orphan_call,
    orphan_output,
    reasoning_order,
    schema,
    session_meta,
    spurious_rollback,
)
from rollout_doctor.formats.codex.rules.base import (
    CATEGORIES,
    EFFECTS,
    GENERATIONS,
    TARGETS,
    Context,
    Diagnostic,
    Options,
    Rule,
)

REGISTRY = Registry(
    (
        orphan_call,
        orphan_output,
        misplaced_output,
        interleaved_message,
        duplicate_call_id,
        duplicate_output,
        bad_output_shape,
        chat_adjacency,
        long_call_id,
        reasoning_order,
        item_id_prefix,
        bad_image_url,
        foreign_reasoning_content,
        spurious_rollback,
        invalid_line,
        session_meta,
        ordinal_order,
        history_base,
        schema,
    ),
    targets=TARGETS,
    categories=CATEGORIES,
    generations=GENERATIONS,
    effects=EFFECTS,
)
RULES: tuple[Rule, ...] = REGISTRY.rules

__all__ = ["REGISTRY", "RULES", "Context", "Diagnostic", "Options", "Rule", "UnknownRule"]
