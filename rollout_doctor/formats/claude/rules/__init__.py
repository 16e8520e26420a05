"""Claude Code's rules, one module each; the order here is the order they are documented and run."""

from __future__ import annotations

from rollout_doctor.core.rules import Registry
from rollout_doctor.formats.claude.rules import (
    broken_chain,
    duplicate_tool_result,
    duplicate_tool_use_id,
    hollow_thinking,
    invalid_line,
    orphan_advisor_result,
    orphan_tool_result,
    unanswered_tool_use,
)
from rollout_doctor.formats.claude.rules.base import CATEGORIES, EFFECTS, GENERATIONS, TARGETS

MODULES = (unanswered_tool_use, orphan_tool_result, duplicate_tool_use_id, duplicate_tool_result,
           orphan_advisor_result, hollow_thinking, invalid_line, broken_chain)
REGISTRY = Registry(MODULES, TARGETS, CATEGORIES, GENERATIONS, EFFECTS)
RULES = REGISTRY.rules
