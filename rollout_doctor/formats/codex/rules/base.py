"""The contract every rule keeps: a code, a stable kebab-case name, its documentation, and ``check``.

A rule only yields diagnostics; the engine decides which rules run, which fixes apply and in what
order. The pairing rules share one broker replay of the history (``Context.replay``) so that they
agree with each other about which output answers which call.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import ModuleType

from rollout_doctor.formats.codex.facts import Item
from rollout_doctor.core.fixes import Fix
from rollout_doctor.formats.codex.history import Replay, effective_history, replay
from rollout_doctor.core.model import Rollout

TARGETS = ("responses", "chat")


@dataclass(frozen=True)
class Diagnostic:
    rule: str
    code: str
    line: int  # 0-based; reports print line + 1
    message: str
    call_id: str | None = None
    fix: Fix | None = None
    # A fix that would change what the model is told, offered in place of a safe ``fix``: the rule
    # makes it ``fix`` under --unsafe-fixes; reports count it as what --unsafe-fixes would do.
    alternative: Fix | None = None
    # A fork's problem in the history it inherits: the parent file ``line`` is in (None: this file).
    path: Path | None = None


@dataclass
class Options:
    # The wire: "responses" or "chat"; None takes each session's from the user's config.toml
    # (codex_config.session_wire), as the CLI does without --target.
    target: str | None = "responses"
    select: frozenset[str] | None = None  # rule names or codes; None means the default set
    ignore: frozenset[str] = field(default_factory=frozenset)
    unsafe_fixes: bool = False


class Context:
    """What one check pass over one file knows; each analysis is computed at most once."""

    def __init__(self, model: Rollout, options: Options) -> None:
        self.model = model
        self.options = options

    @cached_property
    def history(self) -> list[Item]:
        return effective_history(self.model)

    @cached_property
    def replay(self) -> Replay:
        return replay(self.history, chat=self.options.target == "chat")


Check = Callable[[Context], Iterator[Diagnostic]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    doc: str
    fix_safety: str
    check: Check
    default: bool = True  # run without --select
    target: str | None = None  # only with this --target
    # Fixes of a lower phase are applied, and the file checked again, before any of a higher phase:
    # repairing lines (phase 0) changes which items the history holds, so pairing fixes must wait.
    phase: int = 1

    @classmethod
    def from_module(cls, module: ModuleType) -> Rule:
        return cls(
            code=module.CODE,
            name=module.NAME,
            summary=module.SUMMARY,
            doc=inspect.cleandoc(module.__doc__ or ""),
            fix_safety=module.FIX_SAFETY,
            check=module.check,
            default=getattr(module, "DEFAULT", True),
            target=getattr(module, "TARGET", None),
            phase=getattr(module, "PHASE", 1),
        )


def item_label(item: Item) -> str:
    if item.name:
        return f"{item.type} {item.name}"
    if item.role:
        return f"{item.role} message"
    return item.type
