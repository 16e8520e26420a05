"""Run one rule case through check and fix, as tests/test_cases.py judges it and
``scripts/render_cases.py --update`` records it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollout_doctor.core.reports import FileReport
from rollout_doctor.core.rules import Diagnostic, Options
from rollout_doctor.formats.codex import check_file, fix_file
from tests.support.rollouts import Case, rollout_name


def options_of(case: Case) -> Options:
    select = case.options.get("select")
    return Options(target=case.options.get("target", "responses"),
                   select=frozenset(select) if select else None,
                   unsafe_fixes=case.options.get("unsafe_fixes", False))


def diagnostic_row(d: Diagnostic) -> dict[str, Any]:
    """A diagnostic as a case lists it; its effect only where it is not its rule's EFFECT."""
    from rollout_doctor.formats.codex.rules import REGISTRY

    return {"rule": d.rule, "line": d.line + 1, "call_id": d.call_id,
            "fix": d.fix.applicability.value if d.fix else None, "message": d.message,
            "effect": d.effect if d.effect != REGISTRY.lookup(d.rule).effect else None}


@dataclass
class Run:
    diagnostics: list[Diagnostic]  # what check reported on the input
    verdict: str  # what resuming the input does, by check's verdict
    fixed: FileReport  # what fix did
    original: bytes
    work: Path  # the file fix worked on


def run_case(case: Case, generation: str, data: bytes, folder: Path) -> Run:
    """Check and fix ``data``, the case's input, written under its rollout name in ``folder``."""
    work = folder / rollout_name(case, generation)
    work.write_bytes(data)
    options = options_of(case)
    checked = check_file(work, options)
    assert checked.error is None, checked.error
    fixed = fix_file(work, options)
    assert fixed.error is None and fixed.refused is None, (fixed.error, fixed.refused)
    return Run(checked.diagnostics, checked.verdict.name, fixed, data, work)
