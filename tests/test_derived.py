"""A fix pass at copy speed: the range writer is byte-exact, and the index derived from the previous
pass is the index a fresh read of the written file gives.

The oracle for the bytes is the writer as it was before ranges (every line read and written through
Python, kept below as ``reference_bytes``); the oracle for the index is ``read_model`` of the file.
Rollouts are made of lines written by the real Codex 0.169.0 and 0.77.0 (fixtures/real), with the
shapes a crash or an editor leaves: CRLF endings, a byte order mark, blank and non-JSON lines, NUL
bytes, a torn last line with no newline, nested and escaped ``ordinal`` keys."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout_doctor.core.derived import derivable, derive
from rollout_doctor.core.fixes import Edit, Piece, plan
from rollout_doctor.core.model import Model, read_model
from rollout_doctor.core.rewrite import write_pieces
from rollout_doctor.formats.codex.format import CODEX
from rollout_doctor.store import ranges
from rollout_doctor.store.ranges import RangeWriter

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"


def _real_lines(release: str) -> list[bytes]:
    lines: list[bytes] = []
    for path in sorted(REAL.glob(f"{release}-*/rollout-*.jsonl")):
        lines.extend(path.read_bytes().splitlines())
    return lines


PAGINATED = _real_lines("0.169.0")
ENVELOPE = _real_lines("0.77.0")
ODD = [
    b"",
    b"   ",
    b"not json at all",
    b"\x00" * 40,
    (b'{"timestamp":"2026-01-01T00:00:00.000Z","ordinal":7,"type":"event_msg","payload":{"type":"token_count",'
     b'"info":{"ordinal":3}}}'),  # a nested key named like the ordinal: set the long way
    b'{"timestamp":"2026-01-01T00:00:00.000Z","\\u006frdinal":4,"type":"event_msg","payload":{"type":"x"}}',
    b'{"timestamp":"2026-01-01T00:00:00.000Z","ordinal":"9","type":"event_msg","payload":{"type":"x"}}',
    b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg","payload":{"type":"agent_message","message":"hi"}}',
    b"[1,2,3]",
]


@st.composite
def rollouts(draw: st.DrawFn) -> bytes:
    pool = draw(st.sampled_from([PAGINATED, ENVELOPE]))
    body = draw(st.lists(st.sampled_from(pool) | st.sampled_from(ODD), min_size=0, max_size=40))
    if pool is PAGINATED and draw(st.booleans()):
        body = [PAGINATED[0], *body]  # a session_meta first: the file is paginated and gets renumbered
    endings = draw(st.lists(st.sampled_from([b"\n", b"\n", b"\n", b"\r\n"]), min_size=len(body), max_size=len(body)))
    data = b"".join(line + end for line, end in zip(body, endings))
    if draw(st.booleans()) and body:
        data = data[: -len(endings[-1])]  # no newline at the end
    if draw(st.booleans()) and body:
        data = data[: max(0, len(data) - draw(st.integers(1, 60)))]  # a torn last line
    if draw(st.integers(0, 9)) == 0:
        data = b"\xef\xbb\xbf" + data
    return data


@st.composite
def edits(draw: st.DrawFn, lines: int) -> list[Edit]:
    if lines == 0:
        return [Edit.insert_after(-1, PAGINATED[3], "new")] if draw(st.booleans()) else []
    line = st.integers(0, lines - 1)
    anchor = st.integers(-1, lines - 1)
    # What fixes write: whole records (a salvaged line may hold two); renumbering gives each an ordinal.
    content = st.sampled_from(PAGINATED + ENVELOPE + ODD[4:8] + [PAGINATED[5] + b"\n" + PAGINATED[6]])
    one = st.one_of(
        st.builds(Edit.delete, line),
        st.builds(Edit.insert_after, anchor, content, st.just("inserted")),
        st.builds(Edit.move_after, line, anchor),
        st.builds(Edit.replace, line, content),
        st.builds(Edit.renumber_from, line),
    )
    chosen = draw(st.lists(one, max_size=6))
    seen: set[int] = set()
    kept = []
    for edit in chosen:  # as select_compatible keeps them: no line touched twice
        if edit.op.value in ("delete", "move", "replace"):
            if edit.line in seen or (edit.anchor is not None and edit.anchor in seen):
                continue
            seen.add(edit.line)
        kept.append(edit)
    return kept


def reference_bytes(model: Model, pieces: list[Piece]) -> bytes:
    """The writer before ranges: each piece's bytes, line by line."""
    first = model.own_start
    default = model.terminator(first) if len(model) > first and model.terminator(first) else b"\n"
    out = io.BytesIO()
    last = len(pieces) - 1
    for n, piece in enumerate(pieces):
        if piece.origin is not None and piece.content is None and piece.ordinal is None:
            raw = model.raw(piece.origin)
            out.write(raw)
            if n < last and raw and not raw.endswith(b"\n"):
                out.write(default)
            continue
        content = piece.content if piece.content is not None else model.content(piece.origin)  # type: ignore[arg-type]
        if piece.ordinal is not None:
            content = model.with_ordinal(content, piece.ordinal)
            if piece.origin == first and piece.content is None and model.has_bom:
                content = model.head(first, 3) + content
        terminator = model.terminator(piece.origin) if piece.origin is not None else default
        if n < last and not terminator:
            terminator = default
        out.write(content + terminator)
    return out.getvalue()


def same_index(derived: Model, fresh: Model, same_file: bool = True) -> None:
    """The two indexes are equal; for a model of another file (``same_file`` False: tests/test_planned.py's
    passes are other files), its spans are compared but for the file they name."""
    assert list(derived.offsets) == list(fresh.offsets)
    assert bytes(derived.kinds) == bytes(fresh.kinds)
    assert list(derived.ordinals) == list(fresh.ordinals)
    assert derived.records == fresh.records
    assert derived.bom_lines == fresh.bom_lines
    assert (derived.own_start, derived.links) == (fresh.own_start, fresh.links)
    if same_file:
        assert derived.spans == fresh.spans
    else:
        assert [(s.first, s.count) for s in derived.spans] == [(s.first, s.count) for s in fresh.spans]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_pass_writes_the_reference_bytes_and_derives_the_fresh_index(tmp_path: Path, data: st.DataObject) -> None:
    original = tmp_path / "rollout.jsonl"
    original.write_bytes(data.draw(rollouts()))
    with read_model(CODEX, original) as model:
        the_plan = plan(len(model), data.draw(edits(len(model))))
        starts = [s for s in (the_plan.first_change, the_plan.renumber_from) if s is not None]
        if starts:
            model.renumber(the_plan.pieces, min(starts))
        expected = reference_bytes(model, the_plan.pieces)
        out_path = tmp_path / "pass.jsonl"
        with open(out_path, "wb") as out:
            written = write_pieces(model, the_plan.pieces, out)
        assert out_path.read_bytes() == expected
        assert derivable(model)
        with derive(CODEX, model, the_plan.pieces, written, out_path) as derived, \
                read_model(CODEX, out_path) as fresh:
            same_index(derived, fresh)


def test_renumbering_a_big_run_carries_every_line_over_unread(tmp_path: Path) -> None:
    """The case fix is fast for: one line inserted early in a paginated rollout, every ordinal after it
    moved by one. Only the inserted line is read again; the rest is derived, and matches."""
    body = [PAGINATED[0], *(PAGINATED[1:] * 20)]
    original = tmp_path / "rollout.jsonl"
    original.write_bytes(b"".join(line + b"\n" for line in body))
    with read_model(CODEX, original) as model:
        the_plan = plan(len(model), [Edit.insert_after(2, PAGINATED[5], "inserted")])
        model.renumber(the_plan.pieces, the_plan.first_change)  # type: ignore[arg-type]
        renumbered = sum(1 for p in the_plan.pieces if p.ordinal is not None)
        assert renumbered > 100
        out_path = tmp_path / "pass.jsonl"
        with open(out_path, "wb") as out:
            written = write_pieces(model, the_plan.pieces, out)
        assert written.fresh == [3]
        with derive(CODEX, model, the_plan.pieces, written, out_path) as derived, \
                read_model(CODEX, out_path) as fresh:
            same_index(derived, fresh)


# --- the range writer ----------------------------------------------------------------------------------


@pytest.fixture(params=["kernel", "sendfile", "buffered"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each way a range is copied, the others made to fail as on a system without them."""
    if request.param != "kernel":
        monkeypatch.setattr(ranges.os, "copy_file_range", _refuse, raising=False)
    if request.param == "buffered":
        monkeypatch.setattr(ranges.os, "sendfile", _refuse, raising=False)
    return str(request.param)


def _refuse(*_args: object) -> int:
    raise OSError(95, "Operation not supported")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=st.binary(min_size=0, max_size=20_000), cuts=st.lists(st.tuples(st.integers(0, 20_000),
       st.integers(0, 20_000), st.binary(max_size=50)), max_size=8))
def test_ranges_and_new_bytes_come_out_exactly(tmp_path: Path, way: str, source: bytes,
                                                cuts: list[tuple[int, int, bytes]]) -> None:
    src = tmp_path / "src"
    src.write_bytes(source)
    expected = b""
    fd_in = os.open(src, os.O_RDONLY)
    fd_out = os.open(tmp_path / "dst", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        writer = RangeWriter(fd_out)
        for a, b, new in cuts:
            start, end = sorted((min(a, len(source)), min(b, len(source))))
            writer.copy(fd_in, start, end - start)
            writer.write(new)
            expected += source[start:end] + new
        writer.close()
        assert writer.position == len(expected)
    finally:
        os.close(fd_in)
        os.close(fd_out)
    assert (tmp_path / "dst").read_bytes() == expected


def test_a_range_past_the_end_of_a_shrunk_file_is_an_error(tmp_path: Path, way: str) -> None:
    src = tmp_path / "src"
    src.write_bytes(b"x" * 10_000)
    fd_in = os.open(src, os.O_RDONLY)
    fd_out = os.open(tmp_path / "dst", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        with pytest.raises(OSError, match="early"):
            RangeWriter(fd_out).copy(fd_in, 5_000, 8_000)
    finally:
        os.close(fd_in)
        os.close(fd_out)


# --- handing the last pass over to the commit ----------------------------------------------------------


def _session(tmp_path: Path) -> tuple[Path, Path, bytes]:
    folder = tmp_path / "codex-home" / "sessions" / "2026" / "11" / "21"
    folder.mkdir(parents=True)
    source = next((REAL / "0.169.0-responses-parallel-calls").glob("rollout-*.jsonl"))
    path = folder / source.name
    before = source.read_bytes()
    path.write_bytes(before)
    os.chmod(path, 0o640)
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_123_456_789))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = scratch / "pass0.jsonl"
    result.write_bytes(before.replace(b'"ordinal":3,', b'"ordinal":30,', 1))
    return path, result, before


@pytest.mark.parametrize("links", [True, False], ids=["same file system", "no hard link"])
def test_a_handed_over_pass_becomes_the_file_and_undo_puts_the_original_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, links: bool) -> None:
    from rollout_doctor.store import Change, FileState, commit, restore
    from rollout_doctor.store import files as store_files
    from tests.support.cli import isolate

    isolate(tmp_path, monkeypatch)
    path, result, before = _session(tmp_path)
    if not links:
        monkeypatch.setattr(store_files.os, "link", _refuse)
    expected = result.read_bytes()
    commit([Change(path, result, FileState.of(path), handed_over=True)])
    assert path.read_bytes() == expected
    assert (os.stat(path).st_ino == os.stat(result).st_ino) is links  # a second name, not a copy
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o640)
    assert os.stat(path).st_mtime_ns == 1_700_000_000_123_456_789
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left beside it
    restore(path)
    assert path.read_bytes() == before


def test_a_result_not_handed_over_is_copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller that keeps its result file may write it again: the session must not share its inode."""
    from rollout_doctor.store import Change, FileState, commit
    from tests.support.cli import isolate

    isolate(tmp_path, monkeypatch)
    path, result, _before = _session(tmp_path)
    expected = result.read_bytes()
    commit([Change(path, result, FileState.of(path))])
    result.write_bytes(b"overwritten")
    assert path.read_bytes() == expected


@pytest.mark.parametrize(("line", "alone"), [
    pytest.param(b'{"timestamp":"t","ordinal":5,"type":"x","payload":{"text":"\\u001b[31m"}}', True, id="0.169.0 head"),
    pytest.param(b' { "ordinal" : 12 }', True, id="spaces"),
    pytest.param(b'{"timestamp":"t","ordinal":5,"payload":{"ordinal":3}}', False, id="a nested ordinal key"),
    pytest.param(b'{"ordinal":5,"ordinal":6}', False, id="a duplicate key: the last one counts"),
    pytest.param(b'{"ordinal":5,"\\u006frdinal":6}', False, id="a duplicate key spelled with an escape"),
    pytest.param(b'{"ordinal":5,"text":"\\u0070"}', False, id="an escaped letter anywhere after it"),
    pytest.param(b'{"\\u006frdinal":1,"t":2}', False, id="an escaped key before it"),
    pytest.param(b'{"ordinal":"x","ordinal":7}', False, id="a string ordinal first"),
    pytest.param(b'{"ordinal":7.5}', False, id="not an integer"),
    pytest.param(b'{"timestamp":"t"}', False, id="no ordinal"),
    pytest.param(b'[1]', False, id="not an object"),
])
def test_an_ordinal_is_set_in_place_only_when_nothing_else_can_be_it(line: bytes, alone: bool) -> None:
    from rollout_doctor.core import jsonspan
    from rollout_doctor.formats.codex.items import sole_ordinal

    span = sole_ordinal(line)
    assert (span is not None) is alone
    if span is not None:  # the splice is what the long way (a walk over every member) writes
        assert line[: span[0]] + b"42" + line[span[1]:] == jsonspan.replace(line, ("ordinal",), b"42")


def test_new_ordinals_stay_4_bytes_until_one_does_not_fit() -> None:
    from rollout_doctor.core.derived import _Numbers

    numbers = _Numbers("i")
    numbers.extend(lambda: iter([0, 1, 2]))
    assert (numbers.array.typecode, list(numbers.array)) == ("i", [0, 1, 2])
    numbers.extend(lambda: (n for n in [3, 1 << 31, 5]))  # the second does not fit: all of them again, in 8
    assert (numbers.array.typecode, list(numbers.array)) == ("q", [0, 1, 2, 3, 1 << 31, 5])
    assert _Numbers("q").array.typecode == "q"


def test_records_are_handed_over_in_the_order_they_were_found(tmp_path: Path) -> None:
    """A rule may take the first record it meets: the new table keeps the order of the list it is
    made from, taken from the list's end (derived._hand_over), and the list is left empty."""
    from rollout_doctor.core.derived import _hand_over
    from rollout_doctor.formats.codex.records import Event

    path = tmp_path / "rollout.jsonl"
    path.write_bytes(PAGINATED[0] + b"\n")
    with read_model(CODEX, path) as old, read_model(CODEX, path) as new:
        records: list[object] = [Event(line, "x") for line in (5, 2, 9, 7)]
        _hand_over(old, new, records, {})
        assert list(new.records) == [5, 2, 9, 7] and records == []
        assert all(new.records[line].line == line for line in new.records)  # type: ignore[attr-defined]
        keyed: list[object] = [Event(3, "x"), Event(4, "x")]
        _hand_over(old, new, keyed, {1: 8})  # a record keyed otherwise than by its own line
        assert list(new.records) == [3, 8]
