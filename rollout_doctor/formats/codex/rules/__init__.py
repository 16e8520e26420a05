"""The rule registry: an explicit list, in code order, not discovery by side effect."""

from __future__ import annotations

from rollout_doctor.formats.codex.rules import (
    bad_output_shape,
    chat_adjacency,
    duplicate_call_id,
    duplicate_output,
    history_base,
    interleaved_message,
    invalid_line,
    misplaced_output,
    ordinal_order,
    orphan_call,
    orphan_output,
    schema,
    session_meta,
)
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, Options, Rule

RULES: tuple[Rule, ...] = tuple(
    Rule.from_module(module)
    for module in (
        orphan_call,
        orphan_output,
        misplaced_output,
        interleaved_message,
        duplicate_call_id,
        duplicate_output,
        bad_output_shape,
        chat_adjacency,
        invalid_line,
        session_meta,
        ordinal_order,
        history_base,
        schema,
    )
)
BY_KEY: dict[str, Rule] = {**{r.name: r for r in RULES}, **{r.code.lower(): r for r in RULES}}


class UnknownRule(ValueError):
    pass


def lookup(key: str) -> Rule:
    try:
        return BY_KEY[key.strip().lower()]
    except KeyError:
        raise UnknownRule(f"unknown rule {key!r}; `rollout-doctor rules` lists them") from None


def resolve(keys: frozenset[str] | None) -> set[str]:
    """Rule names for --select/--ignore values; ALL means every rule."""
    if keys is None:
        return set()
    names: set[str] = set()
    for key in keys:
        if key.strip().upper() == "ALL":
            names |= {r.name for r in RULES}
        else:
            names.add(lookup(key).name)
    return names


def active_rules(options: Options) -> list[Rule]:
    selected = resolve(options.select) if options.select is not None else {r.name for r in RULES if r.default}
    ignored = resolve(options.ignore)
    return [
        r for r in RULES
        if r.name in selected and r.name not in ignored and (r.target is None or r.target == options.target)
    ]


__all__ = ["RULES", "Context", "Diagnostic", "Options", "Rule", "UnknownRule", "active_rules", "lookup"]
