"""The proof against the real client: sessions written by real Codex, broken one way each
(tests/support/breakers.py), fixed by `rollout-doctor fix`, then resumed by the release that wrote them.

Each test does what a user does: tries to resume the broken session first (which also makes Codex
0.169.0 and 0.171.0 build their SQLite thread history for it), runs `rollout-doctor fix`, and resumes
again. After the fix Codex must exit 0, the loopback API must accept every request, the history Codex
sends must keep the broker contract (every call answered once, later; no output without its call; no user
message while a call waits), and Codex, run with RUST_LOG=warn, must complain of nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.breakers import BREAKERS, Broken
from tests.support.codex_run import CodexHome, CodexRun, real_fixture, response_items, session_id_of
from tests.support.e2e import (
    E2E_CASES,
    E2ECase,
    complaints,
    doctor,
    history_items,
    ordinals,
    readable_items,
    user_texts,
)
from tests.support.judge import broker_contract_violations, items_of_chat
from tests.support.loopback import LoopbackServer, Recorded, say
from tests.support.scenarios import is_paginated

pytest_plugins = ["tests.support.fixtures"]

codex = pytest.mark.codex


@dataclass(frozen=True)
class Resumed:
    run: CodexRun
    requests: list[Recorded]  # the model requests this run made


def resume(home: CodexHome, server: LoopbackServer, release: str, session: str, prompt: str) -> Resumed:
    server.push([say(f"answer to {prompt}")])
    seen = len(server.model_requests)
    run = home.resume(release, session, prompt)
    return Resumed(run, server.model_requests[seen:])


def contract(request: Recorded, wire: str) -> list[str]:
    return broker_contract_violations(request.input if wire == "responses" else items_of_chat(request.input))


def fix_flags(broken: Broken) -> list[str]:
    return ["--target", broken.target, *(["--unsafe-fixes"] if broken.unsafe else [])]


def sent_after_call(request: Recorded, call_id: str) -> dict[str, Any]:
    sent = request.input
    at = next(i for i, item in enumerate(sent) if item.get("call_id") == call_id and "output" not in item)
    return sent[at + 1]


@dataclass
class Session:
    """One broken session in a fresh CODEX_HOME, resumed once before and once after `rollout-doctor fix`."""

    case: E2ECase
    broken: Broken
    home: CodexHome
    rollout: Path
    before: Resumed
    broken_after_first_resume: bytes
    fix: dict[str, Any]
    fixed: bytes  # the file as `fix` left it, before the second resume appended to it
    after: Resumed


def play(case: E2ECase, root: Path) -> Session:
    fixture = real_fixture(case.scenario)
    session = session_id_of(fixture)
    broken = BREAKERS[case.breaker](fixture.read_bytes())
    home = CodexHome.create(root, rust_log="warn")
    with LoopbackServer() as server:
        home.configure(server.base_url, wire=broken.target, model_catalog=is_paginated(case.release))
        rollout = home.install_rollout_bytes(fixture.name, broken.data)
        before = resume(home, server, case.release, session, "first try")
        as_left = rollout.read_bytes()
        code, report = doctor("fix", "--format", "json", *fix_flags(broken), str(rollout))
        assert code == 0, report
        fixed = rollout.read_bytes()
        after = resume(home, server, case.release, session, "second try")
    return Session(case, broken, home, rollout, before, as_left, report["files"][0]["fix"], fixed, after)


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[E2ECase], Session]]:
    """Each case played once for the whole module (two Codex runs), whichever tests look at it."""
    cache: dict[str, Session] = {}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path_factory.mktemp("rollout-doctor")))

        def session(case: E2ECase) -> Session:
            if case.id not in cache:
                cache[case.id] = play(case, tmp_path_factory.mktemp("codex"))
            return cache[case.id]

        yield session


@codex
@pytest.mark.parametrize("case", E2E_CASES, ids=lambda c: c.id)
def test_fixed_session_resumes_and_keeps_the_contract(case: E2ECase, played: Callable[[E2ECase], Session]) -> None:
    s = played(case)
    assert s.fix["written"] and s.fix["remaining"] == [], s.fix
    assert s.after.run.returncode == 0, s.after.run.describe()
    assert s.after.requests, "Codex asked the model nothing"
    assert [r.status for r in s.after.requests] == [200] * len(s.after.requests), [
        r.refusal for r in s.after.requests
    ]
    for request in s.after.requests:
        assert contract(request, s.broken.target) == []
    assert complaints(s.after.run) == [], s.after.run.describe()
    assert broker_contract_violations(response_items(s.rollout)) == []


@codex
@pytest.mark.parametrize("case", [c for c in E2E_CASES if is_paginated(c.release)], ids=lambda c: c.id)
def test_fixed_paginated_session_keeps_ordinals_and_codex_history(
    case: E2ECase, played: Callable[[E2ECase], Session]
) -> None:
    """0.169.0 and 0.171.0: the first resume built Codex's thread history; after the fix the resumed turn is
    in it."""
    s = played(case)
    assert s.after.run.returncode == 0, s.after.run.describe()
    found = ordinals(s.rollout)
    assert found == list(range(len(found))), "ordinals 0, 1, 2, ... in file order"
    session = session_id_of(s.rollout)
    said = [user_texts(item) for _, kind, item in history_items(s.home, session) if kind == "userMessage"]
    assert "second try" in said, said
    assert said.count("first try") <= 1 and said.count("second try") == 1


def pairing(items: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(i["type"], i["call_id"], json.dumps(i.get("output"), sort_keys=True)) for i in items if "call_id" in i]


def symptoms(resumed: Resumed, file: bytes, wire: str) -> set[str]:
    """What a user of this session sees when resuming it: Codex fails before asking the model, the API
    refuses the request, the request breaks the broker contract although the API took it, Codex sends
    calls and outputs other than the file's (patching it in memory, never on disk), or Codex warns."""
    seen = set()
    if resumed.run.returncode != 0 and not resumed.requests:
        seen.add("fails")
    if any(r.refusal for r in resumed.requests):
        seen.add("refused")
    if any(r.status == 200 and contract(r, wire) for r in resumed.requests):
        seen.add("breaks contract")
    if wire == "responses" and resumed.requests and pairing(resumed.requests[0].input) != pairing(readable_items(file)):
        seen.add("patches in memory")
    if complaints(resumed.run) and not seen & {"fails", "refused"}:
        seen.add("warns")
    return seen


# What each broken session did on its first resume, before the fix (0.169.0, 0.171.0 and 0.77.0, run with
# RUST_LOG=warn; 0.171.0 did what 0.169.0 did, in the same words). A misplaced session_meta stops 0.169.0
# and 0.171.0 before they ask the model ("Failed to initialize session: … does not start with session
# metadata"); 0.77.0 takes it silently.
BEFORE = {
    "orphan-call": {"patches in memory"},
    "orphan-output": {"patches in memory", "warns"},
    "misplaced-output": {"refused"},
    "interleaved-message": {"breaks contract"},
    "duplicate-call-id": {"breaks contract"},
    "duplicate-output": {"refused"},
    "invalid-line-torn": {"warns"},
    "invalid-line-garbage": {"warns"},
    "invalid-line-nul": {"warns"},
    "invalid-line-glued": {"warns"},
    "bad-output-shape": {"patches in memory", "warns"},
    "session-meta": {"fails"},
    "session-meta@0.77.0": set(),
    "ordinal-order": {"warns"},
    "chat-adjacency": {"refused"},
}


def expected_before(case: E2ECase) -> set[str]:
    return BEFORE.get(f"{case.breaker}@{case.release}", BEFORE[case.breaker])


@codex
@pytest.mark.parametrize("case", E2E_CASES, ids=lambda c: c.id)
def test_the_defect_shows_before_the_fix_and_nothing_shows_after(
    case: E2ECase, played: Callable[[E2ECase], Session]
) -> None:
    s = played(case)
    assert symptoms(s.before, s.broken.data, s.broken.target) == expected_before(case), s.before.run.describe()
    assert symptoms(s.after, s.fixed, s.broken.target) == set(), s.after.run.describe()


ORPHANS = [c for c in E2E_CASES if c.breaker == "orphan-call"]


@codex
@pytest.mark.parametrize("case", ORPHANS, ids=lambda c: c.id)
def test_orphan_call_fix_writes_the_output_codex_synthesized(case: E2ECase, played: Callable[[E2ECase], Session]) -> None:
    """Before the fix Codex patches the hole in memory on every request; the line rollout-doctor writes is
    that very item (type, call_id, output, and with 0.169.0 and 0.171.0 the id "fco_"/"ctco_" + UUIDv5 of
    the call's id), so after the fix Codex sends the model exactly what it sent before, read from the file."""
    s = played(case)
    call_id = s.broken.notes["call_id"]
    assert s.before.run.returncode == 0, s.before.run.describe()
    synthesized = sent_after_call(s.before.requests[0], call_id)
    assert synthesized["output"] == "aborted"
    assert ("id" in synthesized) == is_paginated(case.release)
    written = [
        item for item in response_items(s.rollout)
        if item.get("call_id") == call_id and item["type"].endswith("_output")
    ]
    assert written == [synthesized]
    assert sent_after_call(s.after.requests[0], call_id) == synthesized
    assert b'"aborted"' not in s.broken_after_first_resume, "Codex itself never wrote it"


def test_e2e_cases_cover_every_rule_the_core_detects() -> None:
    from rollout_doctor.formats.codex.rules import RULES
    from tests.test_e2e_api_checks import BREAKS

    covered = {BREAKERS[c.breaker](real_fixture(c.scenario).read_bytes()).expected[0].rule for c in E2E_CASES}
    # What the API refuses beyond pairing is resumed by tests/test_e2e_api_checks.py (the refusals in the
    # reports' words, and spurious-rollback's hidden turn).
    covered |= {b.rule for b in BREAKS} | {"spurious-rollback"}
    # Opt-in rules are not run before a resume; a rule that follows a parent (history-base) breaks a fork,
    # which needs its parent: tests/test_e2e_threads.py resumes those.
    assert covered == {rule.name for rule in RULES if rule.default and not rule.follows_parent}
    assert {c.release for c in E2E_CASES} == {"0.169.0", "0.171.0", "0.77.0"}
