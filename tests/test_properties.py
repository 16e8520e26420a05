"""Properties of check and fix over generated histories.

Random sequences of calls, outputs, messages, reasoning, events and unreadable lines, in each
generation. Whatever the mix, after ``fix``:
* the history keeps the broker contract (judged independently, tests/support/judge.py), and with
  ``--target chat`` every call is followed at once by its output;
* nothing a safe fix could fix is left; a second fix writes nothing;
* every original line no fix touched is still there, byte for byte;
* ``undo`` gives back the original bytes.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout_doctor.core.fixes import applicable
from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex import check_file, fix_file
from rollout_doctor.store import restore
from tests.support.judge import broker_contract_violations
from tests.support.rollouts import (
    Case,
    Renderer,
    assistant,
    call,
    context,
    event,
    out,
    raw,
    reasoning,
    rollout_name,
    user,
)
from tests.test_cases import chat_adjacency_violations, sent_history

IDS = ["call_A", "call_B", "call_C", "call_D"]
KINDS = ["function", "custom", "local_shell", "tool_search"]

item = st.one_of(
    st.builds(call, st.sampled_from(IDS), st.sampled_from(KINDS)),
    st.builds(out, st.sampled_from(IDS), st.sampled_from(["ok", "other"])),
    st.builds(user, st.sampled_from(["go", "stop", "why?"])),
    st.builds(assistant, st.just("done")),
    st.just(context()),
    st.just(reasoning()),
    st.just(event("token_count")),
    st.just(raw(b'{"timestamp":"2026-01-05T10:00:00.000Z","type":"resp')),
    st.just(raw(b"\x00\x00\x00")),
)
histories = st.lists(item, max_size=24)
generations = st.sampled_from(["legacy", "envelope", "paginated"])
targets = st.sampled_from(["responses", "chat"])

# Outputs must match their call's kind for the judge; keep the generated pairs consistent.
KIND_OF = dict(zip(IDS, KINDS))


def consistent(items: list[tuple]) -> list[tuple]:
    fixed = []
    for spec in items:
        if spec[0] == "call":
            spec = call(spec[1], KIND_OF[spec[1]])
        elif spec[0] == "output":
            spec = out(spec[1], spec[3], KIND_OF[spec[1]])
        fixed.append(spec)
    return fixed


def write_case(tmp: Path, items: list[tuple], generation: str, final_newline: bool = True) -> tuple[Path, bytes]:
    case = Case("generated", "case", consistent(items), generations=(generation,))
    data = Renderer(case, generation).render()
    if not final_newline:
        data = data.rstrip(b"\n")
    folder = tmp / f"g{len(list(tmp.iterdir()))}"
    folder.mkdir()
    path = folder / rollout_name(case, generation)
    path.write_bytes(data)
    return path, data


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    work = tmp_path / "work"
    work.mkdir()
    return work


@SETTINGS
@given(items=histories, generation=generations, target=targets,
       final_newline=st.booleans())
def test_fix_restores_the_contract(state: Path, items: list[tuple], generation: str, target: str,
                                   final_newline: bool) -> None:
    path, original = write_case(state, items, generation, final_newline)
    options = Options(target=target, unsafe_fixes=True)
    report = fix_file(path, options)
    assert report.error is None and report.refused is None
    history = sent_history(path)
    assert broker_contract_violations(history) == []
    if target == "chat":
        assert chat_adjacency_violations(history) == []
    assert check_file(path, options).diagnostics == []
    if report.written:
        restore(path)
        assert path.read_bytes() == original
    else:
        assert path.read_bytes() == original


@SETTINGS
@given(items=histories, generation=generations, unsafe=st.booleans(), final_newline=st.booleans())
def test_fix_is_idempotent_and_keeps_untouched_lines(state: Path, items: list[tuple], generation: str,
                                                     unsafe: bool, final_newline: bool) -> None:
    path, original = write_case(state, items, generation, final_newline)
    options = Options(unsafe_fixes=unsafe)
    report = fix_file(path, options)
    assert report.error is None
    if report.held:  # the safe fixes would remove the meta or most of the file as unreadable lines
        assert not unsafe and not report.written and path.read_bytes() == original
        return
    after = check_file(path, options).diagnostics
    assert not [d for d in after if applicable(d.fix, unsafe)], "fixed => clean of what the fixes cover"
    assert not fix_file(path, options).written, "fixing twice is fixing once"

    touched = {c.old_line for c in report.changes if c.kind in ("remove", "modify")}
    touched |= {c.old_line for c in report.changes if c.kind == "move" and c.note}
    if generation == "paginated":  # renumbering rewrites the ordinal of every later line
        touched |= {c.old_line for c in report.changes if c.note == "ordinal renumbered"}
    kept = Counter(line for n, line in enumerate(original.splitlines(keepends=True), 1) if n not in touched)
    result = Counter(path.read_bytes().splitlines(keepends=True))
    missing = kept - result
    # A line that lost its final newline because it is no longer last is the one allowed difference.
    assert all(not line.endswith(b"\n") for line in missing), missing


def readable_records(data: bytes) -> list[dict]:
    out = []
    for line in data.splitlines():
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict):
            out.append(value.get("payload", value))
    return out


@SETTINGS
@given(items=histories, generation=generations, target=targets,
       final_newline=st.booleans())
def test_fix_never_loses_a_call_or_a_message(state: Path, items: list[tuple], generation: str, target: str,
                                             final_newline: bool) -> None:
    """Fixes may drop outputs (orphans, repeats) and unreadable bytes, never what was asked or said."""
    path, original = write_case(state, items, generation, final_newline)
    fix_file(path, Options(target=target, unsafe_fixes=True))

    def said(data: bytes) -> Counter:
        kept: Counter = Counter()
        for record in readable_records(data):
            if record.get("type") == "message":
                kept[(record["role"], record["content"][0]["text"])] += 1
            elif record.get("type", "").endswith("_call"):
                kept[("call", record["call_id"].split("-rd")[0])] += 1
        return kept

    before, after = said(original), said(path.read_bytes())
    assert set(before) <= set(after), set(before) - set(after)


@SETTINGS
@given(items=histories, generation=generations)
def test_check_reports_each_unreadable_line_once(state: Path, items: list[tuple], generation: str) -> None:
    path, original = write_case(state, items, generation)
    report = check_file(path, Options())
    unreadable = [n for n, line in enumerate(original.splitlines(), 1)
                  if line.startswith(b'{"timestamp":"2026-01-05T10:00:00.000Z","type":"resp') or line == b"\x00\x00\x00"]
    assert [d.line + 1 for d in report.diagnostics if d.rule == "invalid-line"] == unreadable


def test_untouched_real_sessions_are_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    root = Path(__file__).resolve().parents[1] / "fixtures" / "real"
    clean = [p for p in root.glob("*/rollout-*.jsonl") if "interrupted" not in p.parent.name]
    assert len(clean) >= 6
    for source in clean:
        work = tmp_path / source.name
        shutil.copyfile(source, work)
        before = work.stat().st_mtime_ns
        report = fix_file(work, Options())
        assert report.diagnostics == [] and not report.written and report.backup is None, source
        assert work.read_bytes() == source.read_bytes() and work.stat().st_mtime_ns == before
    assert not (tmp_path / "state").exists(), "no backup for a file that was not written"
