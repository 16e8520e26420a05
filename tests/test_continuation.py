"""A clean report continued over the lines appended since (formats/codex/continuation.py through
core/report_cache.continued) is the report a full check makes of the grown file.

Every Codex fixture rollout (real sessions written by 0.77.0, 0.169.0 and 0.171.0, and every rule's
cases, clean and broken) is cut at line boundaries: the first part is checked with the cache, the rest
appended, and the report continued. Whenever the continuation gives a report, it must be the full
check's, byte for byte in JSON; a defect in the appended lines must send the file to a full check. The
cuts include those just before each defect of the rule cases, so a continuation that let one through
fails here. The tests also count how often it was taken, so that they cannot pass by never taking it.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout_doctor.cli.json_report import report_json
from rollout_doctor.core import cache_files, report_cache, sampling
from rollout_doctor.core.check import check_file
from rollout_doctor.core.reports import FileReport
from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex import CODEX
from rollout_doctor.formats.codex.continuation import after_append
from tests.support.cli import isolate
from tests.support.rollouts import (
    Case,
    Renderer,
    assistant,
    call,
    compacted,
    context,
    developer,
    event,
    inter_agent,
    out,
    raw,
    reasoning,
    rollback,
    rollout_name,
    user,
)
from tests.test_properties import IDS, KIND_OF, KINDS

FIXTURES = Path(__file__).parent.parent / "fixtures"
# Rollouts that continue no other file (a fork's report is never cached, so never continued).
ROLLOUTS = sorted(p for p in FIXTURES.rglob("rollout-*.jsonl")
                  if "threads" not in p.parts and b'"history_base"' not in p.read_bytes().split(b"\n", 1)[0])
REAL = sorted(p for p in ROLLOUTS if "real" in p.parts)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(tmp_path, monkeypatch)
    monkeypatch.setattr(sampling, "RACY", 0.05)
    monkeypatch.setattr(sampling, "BLOCK", 64)  # files of a few KB sampled in spots, as big ones are
    monkeypatch.setattr(sampling, "SPOT", 16)
    return tmp_path / "cache"


def as_json(report: FileReport) -> bytes:
    return orjson.dumps(report_json([report], unsafe=False, fixing=False))


def full(path: Path, options: Options) -> FileReport:
    saved = os.environ.get("ROLLOUT_DOCTOR_NO_CACHE", "")
    os.environ["ROLLOUT_DOCTOR_NO_CACHE"] = "1"
    try:
        return check_file(CODEX, path, options)
    finally:
        os.environ["ROLLOUT_DOCTOR_NO_CACHE"] = saved


def continued(path: Path, head: bytes, rest: bytes, options: Options) -> FileReport | None:
    """Check ``head`` with the cache, append ``rest`` (the same file, grown), and continue its report."""
    forget_entries(path.parent)
    path.write_bytes(head)
    check_file(CODEX, path, options)
    with open(path, "ab") as f:
        f.write(rest)
    return report_cache.continued(CODEX, path, options)


def forget_entries(folder: Path) -> None:
    """No entry of an earlier cut is left to be continued from."""
    root = cache_files.folder()
    if root is not None:
        for kind in ("index", "reports"):
            for entry in (root / kind).glob("*") if (root / kind).is_dir() else ():
                entry.unlink()


def cuts(lines: list[bytes]) -> list[int]:
    """Where to cut a rollout: after every line of a short one, else a dozen places spread through it and
    its last few lines."""
    n = len(lines)
    if n <= 24:
        return list(range(1, n))
    return sorted({*(n * k // 12 for k in range(1, 12)), *range(max(1, n - 6), n)})


@pytest.mark.parametrize("target", [None, "chat"])
def test_a_continued_report_is_the_full_report_of_every_fixture_cut_anywhere(cache: Path, tmp_path: Path,
                                                                             target: str | None) -> None:
    options = Options(target=target)
    taken = refused = 0
    for rollout in ROLLOUTS:
        folder = tmp_path / "s" / rollout.parent.name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / rollout.name
        lines = rollout.read_bytes().splitlines(keepends=True)
        for cut in cuts(lines):
            head, rest = b"".join(lines[:cut]), b"".join(lines[cut:])
            report = continued(path, head, rest, options)
            whole = full(path, options)
            if report is None:
                refused += not whole.diagnostics
                continue
            taken += 1
            assert as_json(report) == as_json(whole), (rollout, cut)
    # Taken for most cuts of clean sessions; refused for some whose appended part was clean too (a call
    # still waiting at the cut, a last line without its newline): the condition is conservative, not blind.
    assert taken > 200, (taken, refused)
    assert refused > 0


def test_an_appended_defect_is_never_let_through(cache: Path, tmp_path: Path) -> None:
    """Each rule case with a defect, cut just before the line the defect is reported at: the first part is
    clean more often than not, and the continuation must then refuse."""
    options = Options(target=None)
    tried = 0
    for rollout in ROLLOUTS:
        if "cases" not in rollout.parts or "clean" in rollout.parts:
            continue
        whole_report = full(rollout, options)
        lines = rollout.read_bytes().splitlines(keepends=True)
        folder = tmp_path / "d" / rollout.parent.parent.name / rollout.parent.name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / rollout.name
        for line in sorted({d.line for d in whole_report.diagnostics if d.path is None and 0 < d.line < len(lines)}):
            head = b"".join(lines[:line])
            path.write_bytes(head)
            if full(path, options).diagnostics:
                continue  # the first part is not clean: nothing is continued from it
            tried += 1
            assert continued(path, head, b"".join(lines[line:]), options) is None, (rollout, line)
    assert tried > 40


def turn_replayed(lines: list[bytes]) -> bytes:
    """The session's last turn written again after it, its ordinals continuing the file's (a replayed
    write: the same call ids twice)."""
    start = max(n for n, line in enumerate(lines) if b'"turn_context"' in line)
    last = orjson.loads(lines[-1]).get("ordinal")
    out = []
    for n, line in enumerate(lines[start:]):
        value = orjson.loads(line)
        if isinstance(last, int):
            value["ordinal"] = last + 1 + n
        out.append(orjson.dumps(value) + b"\n")
    return b"".join(out)


@pytest.mark.parametrize("rollout", [p for p in REAL if b'"call_id"' in turn_replayed(p.read_bytes().splitlines(True))],
                         ids=lambda p: p.parent.name)
def test_a_turn_that_reuses_the_call_ids_before_it_is_not_continued(cache: Path, tmp_path: Path,
                                                                      rollout: Path) -> None:
    """Each real session whose last turn calls a tool, that turn written again after it."""
    options = Options(target=None)
    path = tmp_path / rollout.name
    data = rollout.read_bytes()
    assert continued(path, data, turn_replayed(data.splitlines(keepends=True)), options) is None
    assert {d.rule for d in full(path, options).diagnostics} >= {"duplicate-call-id"}


def test_a_turn_with_fresh_call_ids_is_continued(cache: Path, tmp_path: Path) -> None:
    """The same replayed turn with its call ids made new is an ordinary turn: continued, and clean."""
    rollout = next(p for p in REAL if "0.171.0-responses-parallel-calls" in p.parts)
    options = Options(target=None)
    path = tmp_path / rollout.name
    data = rollout.read_bytes()
    # Every call id made new, in the items and in the events that carry it (an item_completed's item id).
    replayed = re.sub(rb'"call_(?!id")', b'"call_again_', turn_replayed(data.splitlines(keepends=True)))
    report = continued(path, data, replayed, options)
    assert report is not None
    assert as_json(report) == as_json(full(path, options))
    assert not report.diagnostics


def test_a_scan_continues_grown_sessions_in_this_process(cache: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder scan continues the reports of sessions that grew before it counts what is left for
    workers: a pool is started only for files that need a full check (core/parallel.py)."""
    from rollout_doctor.core import parallel

    options = Options(target=None)
    paths = []
    for n, rollout in enumerate(p for p in REAL if "0.171.0-responses-parallel-calls" in p.parts or
                                "0.169.0" in p.parent.name and b'"call_id"' in p.read_bytes()):
        path = tmp_path / "s" / str(n) / rollout.name
        path.parent.mkdir(parents=True)
        path.write_bytes(rollout.read_bytes())
        paths.append(path)
    assert len(paths) >= 2
    monkeypatch.setattr(parallel, "MIN_POOL_BYTES", {"fork": 0, "spawn": 0})  # any work at all would pool
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    files = [(path, CODEX) for path in paths]
    list(parallel.check_files(files, options))
    for n, path in enumerate(paths):
        data = path.read_bytes()
        with open(path, "ab") as f:
            f.write(re.sub(rb'"call_(?!id")', f'"call_grown{n}_'.encode(), turn_replayed(data.splitlines(True))))

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a pool was started for reports that could be continued")

    monkeypatch.setattr(parallel, "_pooled", no_pool)
    reports = list(parallel.check_files(files, options))
    assert [as_json(r) for r in reports] == [as_json(full(path, options)) for path in paths]


def test_a_grown_session_is_judged_without_loading_the_rules(cache: Path, tmp_path: Path) -> None:
    """A check of a folder, and a guard of the session, after a clean turn was appended: neither loads the
    format's rules (the report is continued; that no ``--select``/``--ignore`` left a rule out is known
    without them, formats.left_out), and neither finds a problem."""
    import subprocess
    import sys

    rollout = next(p for p in REAL if "0.171.0-responses-parallel-calls" in p.parts)
    path = tmp_path / "codex-home" / "sessions" / "2026" / "11" / "29" / rollout.name
    path.parent.mkdir(parents=True)
    path.write_bytes(rollout.read_bytes())
    probe = ("import sys; from rollout_doctor.cli.main import main; code = main(sys.argv[1:]); sys.stdout.flush(); "
             "print('RULES', 'rollout_doctor.formats.codex.rules' in sys.modules); sys.exit(code)")

    def run(*args: str) -> tuple[int, str]:
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=False,
                              env={**os.environ, "NO_COLOR": "1"})
        return done.returncode, done.stdout

    runs = (["check", "--format", "json", str(path.parent.parent.parent.parent)], ["guard", rollout.name[-42:-6]])
    # The first check has no report to start from: the rules run (the probe sees them loaded). The guard
    # then keeps one for its own options, if they differ (made by the rules, or taken from the check's
    # report when the file was old enough by then: which one depends on the clock, so it is not asserted).
    assert run(*runs[0])[1].rstrip().endswith("RULES True")
    run(*runs[1])
    for n, args in enumerate(runs):
        # A turn appended before each (a report continued just after a change is kept racy: only continued
        # again, never reused as it stands, sampling.racy).
        with open(path, "ab") as f:
            turn = turn_replayed(path.read_bytes().splitlines(keepends=True))
            f.write(re.sub(rb'"call_(?!id")', f'"call_grown{n}_'.encode(), turn))
        code, out = run(*args)
        assert code == 0 and out.rstrip().endswith("RULES False"), (args, out[-400:])


def test_the_index_entry_grows_with_the_continued_report(cache: Path, tmp_path: Path) -> None:
    """What a continued check indexed is appended to the file's index entry, so that the next full read
    (a fix, a defect later) starts where the continuation stopped."""
    from rollout_doctor.core import index_cache
    from rollout_doctor.core.lines import Source

    rollout = next(p for p in REAL if "0.171.0-responses-resumed" in p.parts)
    lines = rollout.read_bytes().splitlines(keepends=True)
    path = tmp_path / rollout.name
    cut = len(lines) // 2
    path.write_bytes(b"".join(lines[:cut]))
    check_file(CODEX, path, Options(target=None))
    with open(path, "ab") as f:
        f.write(b"".join(lines[cut:]))
    time.sleep(0.06)  # an entry written a moment after the change is trusted for the same size (sampling.racy)
    assert report_cache.continued(CODEX, path, Options(target=None)) is not None
    real = os.path.realpath(path)
    with Source.open(path) as source:
        found = index_cache.trusted(CODEX, source, real, source.stat(), index_cache.entry_name(CODEX, real))
    assert found is not None
    part, unchanged, _entry = found
    assert unchanged and part.end == path.stat().st_size and len(part.kinds) == len(lines)


def test_a_report_of_a_file_that_did_not_grow_by_whole_lines_is_not_continued(cache: Path, tmp_path: Path) -> None:
    rollout = next(p for p in REAL if "0.169.0-responses-sequential-calls" in p.parts)
    data = rollout.read_bytes()
    lines = data.splitlines(keepends=True)
    head = b"".join(lines[:-3])
    path = tmp_path / rollout.name
    options = Options(target=None)
    torn = b"".join(lines[-3:])[:-5]
    assert continued(path, head, torn, options) is None
    # A line of the part already judged rewritten longer, the file grown as well: the bytes after it moved,
    # which the sample sees.
    path.write_bytes(head)
    check_file(CODEX, path, options)
    path.write_bytes(head.replace(b'","', b'", "', 1) + b"".join(lines[-3:]))  # in place: the inode stays
    assert report_cache.continued(CODEX, path, options) is None


def test_rules_not_accounted_for_keep_every_grown_file_whole(cache: Path, tmp_path: Path) -> None:
    """schema (opt-in) validates every line: with it selected, nothing is continued."""
    rollout = next(p for p in REAL if "0.171.0-responses-single-call" in p.parts)
    lines = rollout.read_bytes().splitlines(keepends=True)
    path = tmp_path / rollout.name
    options = Options(target=None, select=frozenset({"schema", "orphan-call"}))
    cut = len(lines) // 2
    assert continued(path, b"".join(lines[:cut]), b"".join(lines[cut:]), options) is None


def test_after_append_refuses_what_no_clean_session_can_take() -> None:
    """The conditions one by one, on a hand-made index of appended lines."""
    from array import array

    from rollout_doctor.core.index import Part
    from rollout_doctor.formats.codex.continuation import Clean
    from rollout_doctor.formats.codex.records import Event, Item, ItemKind, LineKind

    clean = Clean(10, b"\0call_old\0", 9)

    def tail(kinds: list[LineKind], records: dict[int, object], first: int = 10) -> Part:
        return Part(100, 200, array("q", range(100, 100 + len(kinds))), bytearray(kinds),
                    array("q", range(first, first + len(kinds))), records)

    call = Item(0, None, "function_call", ItemKind.CALL, call_id="call_new")
    output = Item(1, None, "function_call_output", ItemKind.OUTPUT, call_id="call_new")
    ok = tail([LineKind.RESPONSE_ITEM, LineKind.RESPONSE_ITEM], {0: call, 1: output})
    got = after_append(clean, True, False, ok, None)  # type: ignore[arg-type]
    assert got is not None and got.clean == Clean(12, b"\0call_old\0call_new\0", 11)
    reused = Item(0, None, "function_call", ItemKind.CALL, call_id="call_old")
    reused_out = Item(1, None, "function_call_output", ItemKind.OUTPUT, call_id="call_old")
    cases = {
        "a reused call id": tail([LineKind.RESPONSE_ITEM] * 2, {0: reused, 1: reused_out}),
        "a call left waiting": tail([LineKind.RESPONSE_ITEM], {0: call}),
        "an ordinal skipped": tail([LineKind.RESPONSE_ITEM] * 2, {0: call, 1: output}, first=11),
        "an unreadable line": tail([LineKind.RESPONSE_ITEM, LineKind.RESPONSE_ITEM, LineKind.INVALID],
                                   {0: call, 1: output}),
        "a rollback": tail([LineKind.EVENT], {0: Event(0, "thread_rolled_back", 1)}),
        "a compaction": tail([LineKind.COMPACTED], {}),
        "a second session_meta": tail([LineKind.SESSION_META], {}),
        "a blank line": tail([LineKind.BLANK], {}),
        "nothing": tail([], {}),
    }
    for why, part in cases.items():
        assert after_append(clean, True, False, part, None) is None, why  # type: ignore[arg-type]


@pytest.mark.parametrize("cwd", ["/elsewhere/project", None])
def test_the_folder_is_the_last_turn_contexts(cache: Path, tmp_path: Path, cwd: str | None) -> None:
    """A turn_context appended names the folder the session now works in (session_info.py); one whose cwd
    is not a string leaves session_meta's, which only a full check reads."""
    rollout = next(p for p in REAL if "0.171.0-responses-single-call" in p.parts)
    data = rollout.read_bytes()
    lines = data.splitlines(keepends=True)
    context = orjson.loads(next(line for line in lines if b'"turn_context"' in line))
    context["payload"]["cwd"] = cwd
    context["ordinal"] = orjson.loads(lines[-1])["ordinal"] + 1
    path = tmp_path / rollout.name
    report = continued(path, data, orjson.dumps(context) + b"\n", Options(target=None))
    whole = full(path, Options(target=None))
    if cwd is None:
        assert report is None
        assert whole.session is not None and whole.session.cwd is not None
    else:
        assert report is not None and report.session is not None and report.session.cwd == cwd
        assert as_json(report) == as_json(whole)


ORPHANED = next(p for p in REAL if "0.77.0-responses-interrupted-stream" in p.parts)  # ends in an orphan call
USER_TURN = (b'{"timestamp":"2026-11-21T15:04:00.000Z","type":"response_item","payload":{"type":"message","role":"user",'
             b'"content":[{"type":"input_text","text":"go on"}]}}\n'
             b'{"timestamp":"2026-11-21T15:04:01.000Z","type":"response_item","payload":{"type":"message",'
             b'"role":"assistant","content":[{"type":"output_text","text":"done"}]}}\n')


def test_a_report_with_problems_is_continued_over_a_turn_that_changes_none_of_them(cache: Path,
                                                                                     tmp_path: Path) -> None:
    """The orphan call stays an orphan, and the message typed after it, while it still waits, is released
    nowhere: the report is the one before, found again by a full check."""
    path = tmp_path / ORPHANED.name
    report = continued(path, ORPHANED.read_bytes(), USER_TURN, Options(target=None))
    assert report is not None and [d.rule for d in report.diagnostics] == ["orphan-call"]
    assert as_json(report) == as_json(full(path, Options(target=None)))


def test_an_event_holding_the_output_of_an_earlier_call_is_not_continued(cache: Path, tmp_path: Path) -> None:
    """orphan-call may recover the output from such an event (recover.py): only a full check says so."""
    data = ORPHANED.read_bytes()
    call_id = orjson.loads(data.splitlines()[-1])["payload"]["call_id"]
    event = orjson.dumps({"timestamp": "2026-11-21T15:04:00.000Z", "type": "event_msg", "payload": {
        "type": "exec_command_end", "call_id": call_id, "stdout": "hi\n", "stderr": "", "aggregated_output": "hi\n",
        "exit_code": 0, "duration": {"secs": 0, "nanos": 1000}, "formatted_output": "hi\n"}}) + b"\n"
    path = tmp_path / ORPHANED.name
    assert continued(path, data, event, Options(target=None)) is None


def test_a_session_ending_in_reasoning_is_checked_whole_when_it_grows(cache: Path, tmp_path: Path) -> None:
    """reasoning-order reports reasoning that nothing follows; what follows it once the file grew decides
    whether it still does."""
    reasoning = (b'{"timestamp":"2026-11-21T15:03:09.000Z","type":"response_item","payload":{"type":"reasoning",'
                 b'"summary":[],"encrypted_content":"gAAAA"}}\n')
    data = ORPHANED.read_bytes()
    head = data[: data.rstrip(b"\n").rfind(b"\n") + 1]  # the orphan call left out: the session is clean
    path = tmp_path / ORPHANED.name
    assert continued(path, head + reasoning, USER_TURN, Options(target=None)) is None
    assert "reasoning-order" in {d.rule for d in full(path, Options(target=None)).diagnostics}
    assert continued(path, head, USER_TURN, Options(target=None)) is not None


def test_after_append_refuses_ids_a_fix_before_could_have_picked() -> None:
    from array import array

    from rollout_doctor.core.index import Part
    from rollout_doctor.formats.codex.continuation import Clean
    from rollout_doctor.formats.codex.records import Item, ItemKind, LineKind

    clean = Clean(10, b"\0call_0\0", None)
    for call_id, accepted in (("call_0-rd2", False), ("call_1", True), ("call_0-rdx", True)):
        records = {0: Item(0, None, "function_call", ItemKind.CALL, call_id=call_id),
                   1: Item(1, None, "function_call_output", ItemKind.OUTPUT, call_id=call_id)}
        part = Part(100, 200, array("q", [100, 150]), bytearray([LineKind.RESPONSE_ITEM] * 2), array("q", [-1, -1]),
                    records)
        assert (after_append(clean, False, False, part, None) is not None) is accepted, call_id  # type: ignore[arg-type]


def test_a_session_with_a_repeated_call_is_checked_whole_when_it_grows(cache: Path, tmp_path: Path) -> None:
    """duplicate-call-id removes an exact repeat unless that would leave reasoning with nothing after it;
    what is appended decides that (here an assistant message: the repeat at the end is then removed,
    where before the message it was renamed)."""
    def line(payload: dict[str, object]) -> bytes:
        return orjson.dumps({"timestamp": "2026-11-21T15:03:09.000Z", "type": "response_item", "payload": payload}) + b"\n"

    reasoning = line({"type": "reasoning", "summary": [], "encrypted_content": "gAAAA"})
    call = line({"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "call_0"})
    output = line({"type": "function_call_output", "call_id": "call_0", "output": "ok"})
    data = ORPHANED.read_bytes()
    head = data[: data.rstrip(b"\n").rfind(b"\n") + 1] + reasoning + call + output + reasoning + call + output
    answer = line({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "done"}]})
    path = tmp_path / ORPHANED.name
    path.write_bytes(head)
    before = full(path, Options(target=None))
    assert continued(path, head, answer, Options(target=None)) is None
    after = full(path, Options(target=None))
    titles = [d.fix.title for d in (*before.diagnostics, *after.diagnostics) if d.rule == "duplicate-call-id" and d.fix]
    assert titles[0].startswith("rename") and titles[1].startswith("remove")


# --- generated histories, cut anywhere ----------------------------------------------------------------------

ORDINARY = st.one_of(
    st.builds(call, st.sampled_from(IDS), st.sampled_from(KINDS)),
    st.builds(out, st.sampled_from(IDS), st.sampled_from(["ok", "other"])),
    st.builds(user, st.sampled_from(["go", "stop"])),
    st.builds(assistant, st.just("done")),
    st.builds(developer, st.just("note")),
    st.just(context()),
    st.just(reasoning()),
    st.just(event("token_count")),
    st.just(event("task_started", turn_id="t1")),
    st.just(event("task_complete", turn_id="t1")),
    st.builds(inter_agent, st.just("from another agent")),
)
RARE = st.one_of(
    st.builds(rollback, st.integers(0, 2)),
    st.builds(compacted, st.none() | st.just([user("kept")])),
    st.just(raw(b'{"timestamp":"2026-01-05T10:00:00.000Z","type":"resp')),
    st.just(raw(b"")),
)


def consistent(items: list[tuple]) -> list[tuple]:
    """Each output of the kind of its call (tests/test_properties.py's rule; the other ids are function
    calls)."""
    kept = []
    for spec in items:
        if spec[0] == "call":
            spec = call(spec[1], KIND_OF.get(spec[1], "function"))
        elif spec[0] == "output":
            spec = out(spec[1], spec[3], KIND_OF.get(spec[1], "function"))
        kept.append(spec)
    return kept


def turn(cid: str, thinks: bool, answered: bool) -> list[tuple]:
    """An ordinary turn: a message, maybe reasoning, a call, maybe its output, an answer."""
    return [user("go"), *([reasoning()] if thinks else []), call(cid), *([out(cid)] if answered else []),
            assistant("done")]


# The first part: ordinary turns, each with a call id of its own, then anything; what is appended: turns
# with new ids or the first part's, and anything else, rollbacks and damage more rarely.
FIRST = st.builds(lambda turns, rest: [s for n, (a, b) in enumerate(turns) for s in turn(f"call_P{n}", a, b)] + rest,
                  st.lists(st.tuples(st.booleans(), st.booleans()), max_size=3),
                  st.lists(st.one_of(ORDINARY, ORDINARY, RARE), max_size=3))
CALL_IDS = st.sampled_from(["call_P0", "call_P1", "call_N0", "call_N1", "call_A"])
BLOCK = st.one_of(
    st.builds(turn, CALL_IDS, st.booleans(), st.booleans()),
    # A message typed while a call waits; two calls answered together (apart on the Chat wire); a tool's
    # result recorded as an event.
    st.builds(lambda cid: [call(cid), user("more"), out(cid)], CALL_IDS),
    st.builds(lambda a, b: [call(a), call(b), out(a), out(b)], CALL_IDS, CALL_IDS),
    st.builds(lambda cid: [event("exec_command_end", call_id=cid, stdout="hi\n", exit_code=0)], CALL_IDS),
    ORDINARY.map(lambda spec: [spec]),
    ORDINARY.map(lambda spec: [spec]),
    RARE.map(lambda spec: [spec]),
)
APPENDED = st.lists(BLOCK, min_size=1, max_size=4).map(lambda blocks: [s for block in blocks for s in block])


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=FIRST, after=APPENDED, generation=st.sampled_from(["envelope", "paginated"]),
       target=st.sampled_from([None, "chat"]))
def test_a_continued_report_is_the_full_report_of_any_generated_history(
        cache: Path, tmp_path: Path, head: list[tuple], after: list[tuple], generation: str,
        target: str | None) -> None:
    """Ordinary turns (some with an orphan call) and anything after them (calls, outputs, messages,
    reasoning, turns, rollbacks, compactions, other agents' messages, damaged lines), then more of the
    same appended: a continued report is always the full check's."""
    def render(items: list[tuple]) -> bytes:
        return Renderer(Case("generated", "case", consistent(items), generations=(generation,)), generation).render()

    first, whole = render(head), render(head + after)
    assert whole.startswith(first)
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / rollout_name(Case("generated", "case", [], generations=(generation,)),
                                                               generation)
    options = Options(target=target)
    report = continued(path, first, whole[len(first):], options)
    if report is not None:
        assert as_json(report) == as_json(full(path, options))


def test_a_file_without_a_header_is_checked_whole_when_it_grows(cache: Path, tmp_path: Path) -> None:
    """A file of blank lines is reported as holding no records; a turn appended to it makes a file whose
    first record is no session_meta, reported otherwise (found by tests/test_index_cache.py's property:
    a session truncated, replaced by a blank line, then appended to)."""
    rollout = next(p for p in REAL if "0.171.0-responses-single-call" in p.parts)
    turn = b"".join(rollout.read_bytes().splitlines(keepends=True)[1:])  # every line but the session_meta
    path = tmp_path / rollout.name
    assert continued(path, b"\n", turn, Options(target=None)) is None
    assert [d.message for d in full(path, Options(target=None)).diagnostics if d.rule == "session-meta"] == [
        "no session_meta line; Codex cannot tell which session this is"]


def test_an_output_appended_after_an_orphan_is_checked_whole(cache: Path, tmp_path: Path) -> None:
    """orphan-call rebuilds a lost output from the event that kept it, in the format of the first output
    of the same tool in the file (recover.py): an output of that tool appended changes the fix it offers,
    though not a word of the report."""
    data = ORPHANED.read_bytes()
    call_id = orjson.loads(data.splitlines()[-1])["payload"]["call_id"]
    event = orjson.dumps({"timestamp": "2026-11-21T15:03:09.000Z", "type": "event_msg", "payload": {
        "type": "exec_command_end", "call_id": call_id, "stdout": "hi\n", "stderr": "", "aggregated_output": "hi\n",
        "exit_code": 0, "duration": {"secs": 0, "nanos": 1000}, "formatted_output": "hi\n"}}) + b"\n"

    def line(payload: dict[str, object]) -> bytes:
        return orjson.dumps({"timestamp": "2026-11-21T15:04:00.000Z", "type": "response_item", "payload": payload}) + b"\n"

    turn = (line({"type": "function_call", "name": "shell", "arguments": '{"command":["ls"]}', "call_id": "call_new"})
            + line({"type": "function_call_output", "call_id": "call_new",
                    "output": "Exit code: 0\nWall time: 0.1 seconds\nOutput:\na\n"}))  # freeform, not structured
    path = tmp_path / ORPHANED.name
    path.write_bytes(data + event)
    before = full(path, Options(target=None, unsafe_fixes=True))
    assert continued(path, data + event, turn, Options(target=None, unsafe_fixes=True)) is None
    after = full(path, Options(target=None, unsafe_fixes=True))
    fixes = [next(d.fix for d in r.diagnostics if d.rule == "orphan-call") for r in (before, after)]
    assert fixes[0] is not None and fixes[1] is not None and fixes[0].edits != fixes[1].edits


def test_an_output_appended_after_an_orphan_no_event_kept_is_continued(cache: Path, tmp_path: Path) -> None:
    """An interrupted call whose tool left no event (the usual one) has nothing to recover: a turn with
    calls and outputs appended after it is judged alone."""
    def line(payload: dict[str, object]) -> bytes:
        return orjson.dumps({"timestamp": "2026-11-21T15:04:00.000Z", "type": "response_item", "payload": payload}) + b"\n"

    turn = (line({"type": "function_call", "name": "shell", "arguments": '{"command":["ls"]}', "call_id": "call_new"})
            + line({"type": "function_call_output", "call_id": "call_new", "output": "Exit code: 0\nOutput:\na\n"}))
    path = tmp_path / ORPHANED.name
    report = continued(path, ORPHANED.read_bytes(), turn, Options(target=None))
    assert report is not None and [d.rule for d in report.diagnostics] == ["orphan-call"]
    assert as_json(report) == as_json(full(path, Options(target=None)))
