"""``rules`` lists the rules; ``rule NAME`` explains one, ``rule --all`` every one."""

from __future__ import annotations

from rollout_doctor.cli.options import UsageError
from rollout_doctor.core.exitcodes import CLEAN


def rules(format: str) -> int:
    """List the rules: code, name, fix safety, whether they run by default."""
    from rollout_doctor.formats.codex import CODEX

    if format == "json":
        from rollout_doctor.cli.json_report import emit_json

        emit_json([{"code": r.code, "name": r.name, "summary": r.summary, "fix_safety": r.fix_safety,
                    "default": r.default, "target": r.target} for r in CODEX.rules])
        return CLEAN
    from rollout_doctor.cli import render

    render.print_rules(render.console())
    return CLEAN


def rule(name: str | None, all_rules: bool) -> int:
    """Explain a rule: what it checks, why it breaks a resume, an example, its fix safety (--all: every rule)."""
    from rollout_doctor.cli import render, rule_docs
    from rollout_doctor.formats.codex import CODEX

    if bool(name) == all_rules:
        raise UsageError("give a rule's NAME or code, or --all (one of them)")
    # An unknown name raises core.rules.UnknownRule before anything is printed: each parser's usage error.
    chosen = list(CODEX.rules) if all_rules else [CODEX.rules.lookup(name or "")]
    rule_docs.print_rules(render.console(), chosen)
    return CLEAN
