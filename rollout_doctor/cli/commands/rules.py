"""``rules`` lists the rules; ``rule NAME`` explains one, ``rule --all`` every one."""

from __future__ import annotations

from rollout_doctor.cli.options import UsageError
from rollout_doctor.core.exitcodes import CLEAN


def rules(format: str) -> int:
    """List the rules: code, name, fix safety, whether they run by default (Codex's, then Claude Code's)."""
    from rollout_doctor.formats import known

    if format == "json":
        from rollout_doctor.cli.json_report import emit_json

        emit_json([{"code": r.code, "name": r.name, "summary": r.summary, "fix_safety": r.fix_safety,
                    "default": r.default, "target": r.target, "format": fmt.name}
                   for fmt in known() for r in fmt.rules])
        return CLEAN
    from rollout_doctor.cli import render

    render.print_rules(render.console())
    return CLEAN


def rule(name: str | None, all_rules: bool) -> int:
    """Explain a rule: what it checks, why it breaks a resume, an example, its fix safety (--all: every rule)."""
    from rollout_doctor.cli import render, rule_docs
    from rollout_doctor.core.rules import UnknownRule
    from rollout_doctor.formats import known

    if bool(name) == all_rules:
        raise UsageError("give a rule's NAME or code, or --all (one of them)")
    registries = [fmt.rules for fmt in known()]
    if all_rules:
        chosen = [rule for registry in registries for rule in registry]
    else:
        # An unknown name raises core.rules.UnknownRule before anything is printed: each parser's usage error.
        found = [registry.by_key[key] for registry in registries if (key := (name or "").strip().lower()) in registry.by_key]
        if not found:
            raise UnknownRule(f"unknown rule {name!r}; `rollout-doctor rules` lists them")
        chosen = found[:1]
    rule_docs.print_rules(render.console(), chosen)
    return CLEAN
