"""``rules`` lists the rules; ``rule NAME`` explains one."""

from __future__ import annotations

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


def rule(name: str) -> int:
    """Explain a rule: what it checks, why it breaks a resume, an example, its fix safety."""
    from rollout_doctor.cli import render
    from rollout_doctor.formats.codex import CODEX

    found = CODEX.rules.lookup(name)  # core.rules.UnknownRule: each parser's usage error
    render.print_rule(render.console(), found)
    return CLEAN
