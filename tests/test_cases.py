"""Every rule case in tests/cases/<rule>.toml: the diagnostics, the fixed file, and the promises fixes keep.

For each case and generation:
* ``check`` reports exactly the expected diagnostics (rule, line, call id, fix applicability);
* ``fix`` produces exactly the expected fixed file, or writes nothing when none is expected;
* the fixed file checks clean of everything a safe fix could fix, and its history keeps the broker
  contract as judged independently (tests/support/judge.py) when no pairing problem remains;
* fixing the fixed file changes nothing; ``undo`` gives back the input byte for byte.
The same cases, rendered, are the files of fixtures/cases (``python scripts/render_cases.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from rollout_doctor.core.fixes import applicable
from rollout_doctor.formats.codex import check_file, fix_file
from rollout_doctor.formats.codex.rules import RULES
from rollout_doctor.store import restore
from tests.support.case_files import (
    DATA,
    GENERATIONS,
    CaseFileError,
    RuleCase,
    case_of,
    load_all,
    rendered_tree,
    tree_on_disk,
)
from tests.support.case_run import diagnostic_row, options_of, run_case
from tests.support.judge import broker_contract_violations, responses_refusal

CASES = load_all([rule.name for rule in RULES])
PAIRING_RULES = {rule.name for rule in RULES if rule.category == "pairing"}


def sent_history(path: Path) -> list[dict[str, Any]]:
    """The items Codex would send, rebuilt independently of rollout_doctor.formats.codex.history, for the shapes the
    cases use: the newest replacement_history replaces what came before; an inter_agent_communication
    line is sent as an agent_message; a rollback of N turns cuts at the Nth-last user message that is not
    injected context (``<...>`` markup) or agent message."""
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
        elif line.get("type") == "inter_agent_communication":
            items.append({"type": "agent_message", "content": [{"type": "input_text", "text": line["payload"]["content"]}]})
        elif line.get("type") == "event_msg" and line["payload"].get("type") == "thread_rolled_back":
            # 0.171.0 counts another agent's message as a turn too (codex-rs is_user_turn_boundary)
            starts = [n for n, i in enumerate(items) if i.get("type") == "agent_message" or (
                      i.get("type") == "message" and i.get("role") == "user"
                      and not i["content"][0]["text"].startswith("<"))]
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


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))


@pytest.mark.parametrize(("case", "generation"), all_cases())
def test_case(case: RuleCase, generation: str, tmp_path: Path) -> None:
    expected = case.expected[generation]
    run = run_case(case, generation, case.input(generation), tmp_path)

    assert [diagnostic_row(d) for d in run.diagnostics] == expected.diagnostics
    assert run.verdict == expected.verdict, "the session's verdict, as check's header says it"

    fixed = case.fixed(generation)
    if fixed is not None:
        assert run.fixed.written
        assert run.work.read_bytes() == fixed
    else:
        assert not run.fixed.written and run.fixed.backup is None
        assert run.work.read_bytes() == run.original

    options = options_of(case)
    after = check_file(run.work, options)
    assert [diagnostic_row(d) for d in after.diagnostics] == expected.remaining
    assert not [d for d in after.diagnostics if applicable(d.fix, options.unsafe_fixes)], "fixed => clean"

    again = fix_file(run.work, options)
    assert not again.written, "fixing twice is fixing once"

    if not {d["rule"] for d in expected.remaining} & PAIRING_RULES:
        history = sent_history(run.work)
        assert broker_contract_violations(history) == []
        if options.target != "chat" and not expected.remaining:
            assert responses_refusal(history) is None, "the judge takes what the fixed file sends"
        if options.target == "chat":
            assert chat_adjacency_violations(history) == []

    if run.fixed.written:
        restore(run.work)
        assert run.work.read_bytes() == run.original


def test_every_rule_has_a_case_in_every_generation_it_applies_to() -> None:
    for rule in RULES:
        covered = {g for c in CASES if c.rule == rule.name for g in c.generations}
        applies = set(rule.generations or GENERATIONS)
        if rule.default:
            assert applies <= covered, f"no case for {rule.name} in {sorted(applies - covered)}"
        else:  # an opt-in rule is asked for by name: a case in one generation shows it works
            assert applies & covered, f"no case for {rule.name}"


def test_each_rule_file_holds_cases_of_that_rule() -> None:
    """A rule's file holds cases it reports on (and some about its fixes' side effects); the clean file
    holds cases no rule reports on."""
    assert sorted(p.stem for p in DATA.glob("*.toml")) == sorted(["clean", *(rule.name for rule in RULES)])
    reported: dict[str, set[str]] = {}
    for case in CASES:
        rows = [row for g in case.generations for row in case.expected[g].diagnostics]
        reported.setdefault(case.rule, set()).update(row["rule"] for row in rows)
    assert reported.pop("clean") == set()
    assert [name for name, rules in reported.items() if name not in rules] == []


@pytest.mark.parametrize("entry", [
    {"name": "n", "itmes": []},
    {"name": "n", "items": [{"usr": "hi"}]},
    {"name": "n", "items": [{"call": "call_A", "kidn": "custom"}]},
    {"name": "n", "items": ["contxt"]},
    {"name": "n", "generations": ["envelope"], "items": [], "legacy": {}},
    {"name": "n", "items": [], "envelope": {"diagnostic": []}},
], ids=["case key", "item", "item option", "item word", "generation", "expectation key"])
def test_a_misspelt_data_file_fails_loudly(entry: dict[str, Any]) -> None:
    with pytest.raises(CaseFileError):
        case_of("orphan-call", entry)


def test_the_fixtures_are_rendered_from_the_data_files() -> None:
    """fixtures/cases holds exactly what the data files render (`python scripts/render_cases.py`)."""
    expected, committed = rendered_tree(CASES), tree_on_disk()
    assert sorted(set(committed) - set(expected)) == [], "stray files: rerun scripts/render_cases.py"
    assert sorted(set(expected) - set(committed)) == [], "missing files: rerun scripts/render_cases.py"
    assert [str(path) for path in expected if expected[path] != committed[path]] == []
