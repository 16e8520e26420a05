"""Every rule case in fixtures/cases: the diagnostics, the fixed file, and the promises fixes keep.

For each case and generation:
* ``check`` reports exactly the expected diagnostics (rule, line, call id, fix applicability);
* ``fix`` produces exactly ``fixed.jsonl``, or writes nothing when none is expected;
* the fixed file checks clean of everything a safe fix could fix, and its history keeps the broker
  contract as judged independently (tests/support/judge.py) when no pairing problem remains;
* fixing the fixed file changes nothing; ``undo`` gives back the input byte for byte.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from rollout_doctor.formats.codex import check_file, fix_file
from rollout_doctor.core.fixes import applicable
from rollout_doctor.core.rules import Diagnostic, Options
from rollout_doctor.store import restore
from tests.case_specs import CASES
from tests.cases import GENERATIONS, ROOT, Case, rollout_name
from tests.support.judge import broker_contract_violations

PAIRING_RULES = {"orphan-call", "orphan-output", "misplaced-output", "interleaved-message",
                 "duplicate-call-id", "duplicate-output", "bad-output-shape", "chat-adjacency"}


def options_of(case: Case) -> Options:
    select = case.options.get("select")
    return Options(target=case.options.get("target", "responses"),
                   select=frozenset(select) if select else None,
                   unsafe_fixes=case.options.get("unsafe_fixes", False))


def diagnostic_row(d: Diagnostic) -> dict[str, Any]:
    return {"rule": d.rule, "line": d.line + 1, "call_id": d.call_id,
            "fix": d.fix.applicability.value if d.fix else None, "message": d.message}


def sent_history(path: Path) -> list[dict[str, Any]]:
    """The items Codex would send, rebuilt independently of rollout_doctor.formats.codex.history, for the shapes the
    cases use: the newest replacement_history replaces what came before; a rollback of N turns cuts at
    the Nth-last user message that is not injected context (``<...>`` markup)."""
    items: list[dict[str, Any]] = []
    for raw_line in path.read_bytes().splitlines():
        try:
            line = orjson.loads(raw_line.removeprefix(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError:
            continue
        if not isinstance(line, dict):
            continue
        if "payload" in line and not isinstance(line.get("timestamp"), str):
            continue  # Codex's RolloutLine requires a string timestamp; it skips the line otherwise
        if line.get("type") == "response_item":
            items.append(line["payload"])
        elif line.get("type") == "compacted" and line["payload"].get("replacement_history") is not None:
            items = list(line["payload"]["replacement_history"])
        elif line.get("type") == "event_msg" and line["payload"].get("type") == "thread_rolled_back":
            starts = [n for n, i in enumerate(items) if i.get("type") == "message" and i.get("role") == "user"
                      and not i["content"][0]["text"].startswith("<")]
            turns = line["payload"]["num_turns"]
            if starts:
                items = items[: starts[max(len(starts) - turns, 0)]]
        elif "payload" not in line and line.get("type") in ("message", "function_call", "function_call_output",
                                                             "custom_tool_call", "custom_tool_call_output",
                                                             "local_shell_call", "tool_search_call",
                                                             "tool_search_output", "reasoning"):
            items.append(line)
    return items


def chat_adjacency_violations(items: list[dict[str, Any]]) -> list[str]:
    calls = {"function_call", "custom_tool_call", "local_shell_call", "tool_search_call"}
    problems = []
    visible = [i for i in items if i.get("type") != "reasoning"]
    for n, item in enumerate(visible):
        if item.get("type") in calls:
            following = visible[n + 1] if n + 1 < len(visible) else None
            if following is None or following.get("call_id") != item.get("call_id") or following.get("type") in calls:
                problems.append(f"{item.get('call_id')} is not followed at once by its output")
    return problems


def all_cases() -> list[Any]:
    return [
        pytest.param(case, generation, id=f"{case.rule}/{case.name}/{generation}")
        for case in CASES
        for generation in case.generations
    ]


def run_case(case: Case, generation: str, tmp_path: Path) -> tuple[list[Diagnostic], Any, bytes, Path]:
    source = case.folder(generation) / rollout_name(case, generation)
    work = tmp_path / source.name
    shutil.copyfile(source, work)
    options = options_of(case)
    checked = check_file(work, options)
    assert checked.error is None, checked.error
    fixed = fix_file(work, options)
    assert fixed.error is None and fixed.refused is None, (fixed.error, fixed.refused)
    return checked.diagnostics, fixed, source.read_bytes(), work


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))


@pytest.mark.parametrize(("case", "generation"), all_cases())
def test_case(case: Case, generation: str, tmp_path: Path) -> None:
    folder = case.folder(generation)
    expected = orjson.loads((folder / "expected.json").read_bytes())
    diagnostics, fixed, original, work = run_case(case, generation, tmp_path)

    assert [diagnostic_row(d) for d in diagnostics] == expected["diagnostics"]

    expected_file = folder / "fixed.jsonl"
    if expected_file.exists():
        assert fixed.written
        assert work.read_bytes() == expected_file.read_bytes()
    else:
        assert not fixed.written and fixed.backup is None
        assert work.read_bytes() == original

    options = options_of(case)
    after = check_file(work, options)
    assert [diagnostic_row(d) for d in after.diagnostics] == expected["remaining"]
    assert not [d for d in after.diagnostics if applicable(d.fix, options.unsafe_fixes)], "fixed => clean"

    again = fix_file(work, options)
    assert not again.written, "fixing twice is fixing once"

    if not {d["rule"] for d in expected["remaining"]} & PAIRING_RULES:
        history = sent_history(work)
        assert broker_contract_violations(history) == []
        if options.target == "chat":
            assert chat_adjacency_violations(history) == []

    if fixed.written:
        restore(work)
        assert work.read_bytes() == original


def test_every_rule_has_a_case_in_every_generation_it_applies_to() -> None:
    from rollout_doctor.formats.codex.rules import RULES

    covered = {(c.rule, g) for c in CASES for g in c.generations}
    for rule in RULES:
        generations = ("paginated",) if rule.name in ("ordinal-order", "history-base") else GENERATIONS
        if rule.name in ("schema", "session-meta", "chat-adjacency", "invalid-line"):
            generations = ("envelope",)
        for generation in generations:
            assert (rule.name, generation) in covered, f"no case for {rule.name} in {generation}"


def test_case_inputs_are_rendered_from_the_specs() -> None:
    """The committed inputs are what tests/case_specs.py renders (run `python -m tests.cases`)."""
    from tests.cases import Renderer

    for case in CASES:
        for generation in case.generations:
            committed = (case.folder(generation) / rollout_name(case, generation)).read_bytes()
            assert committed == Renderer(case, generation).render(), f"{case.rule}/{case.name}/{generation}"


def update_expectations(cases: list[Case]) -> None:
    """Rewrite expected.json and fixed.jsonl from the current code, for review."""
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ROLLOUT_DOCTOR_HOME"] = str(Path(tmp) / "state")
        for case in cases:
            for generation in case.generations:
                folder = case.folder(generation)
                work_dir = Path(tmp) / case.rule / case.name / generation
                work_dir.mkdir(parents=True)
                diagnostics, fixed, _original, work = run_case(case, generation, work_dir)
                remaining = check_file(work, options_of(case)).diagnostics
                expected = {
                    "about": case.about,
                    "options": case.options,
                    "diagnostics": [diagnostic_row(d) for d in diagnostics],
                    "remaining": [diagnostic_row(d) for d in remaining],
                }
                (folder / "expected.json").write_bytes(orjson.dumps(expected, option=orjson.OPT_INDENT_2) + b"\n")
                target = folder / "fixed.jsonl"
                if fixed.written:
                    shutil.copyfile(work, target)
                elif target.exists():
                    target.unlink()


assert ROOT.name == "cases"
