"""Fix passes laid out and not written (core/planned.py), the last one written once from the original.

The oracle is the way every pass was written before: each pass streamed to a file of its own from the
pass before (``write_pieces``), and indexed afresh (``read_model``). Several passes of random edits over
rollouts of real Codex lines and the shapes a crash leaves (tests/test_derived.py's strategies) must
give, pass by pass, the index a fresh read of that file gives, and at the end its exact bytes. Also:
the block judgement of where ordinals lie equals the line-by-line one, and a long renumbered run
written by the kernel and patched in place is byte for byte the spliced one."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout_doctor.core.fixes import NO_ORDINAL, Edit, NoOrdinals, Plan, plan
from rollout_doctor.core.model import Model, read_model
from rollout_doctor.core.planned import Planned
from rollout_doctor.core.rewrite import write_pieces
from rollout_doctor.core.runs import Runs
from rollout_doctor.formats.codex.format import CODEX
from rollout_doctor.formats.codex.items import sole_ordinal, sole_ordinals
from tests.test_derived import ODD, PAGINATED, edits, reference_bytes, rollouts, same_index


@st.composite
def plannable(draw: st.DrawFn) -> bytes:
    """A paginated rollout as Codex 0.169.0 leaves it (every line ends), a blank or damaged line here and
    there: the files whose passes are laid out rather than written."""
    body = draw(st.lists(st.sampled_from(PAGINATED) | st.sampled_from(ODD[:4]), min_size=1, max_size=60))
    return b"".join(line + b"\n" for line in [PAGINATED[0], *body])


def _plan(model: Model, chosen: list[Edit]) -> Plan:
    """The plan of ``chosen``, renumbered as the fix loop does."""
    the_plan = plan(len(model), chosen)
    starts = [s for s in (the_plan.first_change, the_plan.renumber_from) if s is not None]
    if starts:
        model.renumber(the_plan.pieces, min(starts))
    return the_plan


# The share of a pass's lines its runs may number (runs.RUNS_SHARE): 1 holds every pass's origins and
# ordinals as runs (fixes.Runs), the default only those that fall in few, as a real fix does.
@pytest.mark.parametrize("share", [1, 16])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_planned_passes_give_the_index_and_the_bytes_of_written_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     share: int, data: st.DataObject) -> None:
    from rollout_doctor.core import runs as runs_module

    monkeypatch.setattr(runs_module, "RUNS_SHARE", share)
    original_path = tmp_path / "rollout.jsonl"
    original_path.write_bytes(data.draw(plannable() | rollouts()))
    passes = data.draw(st.integers(1, 3))
    with read_model(CODEX, original_path) as original, read_model(CODEX, original_path) as mirror:
        planned = Planned(original)
        current: Model = original
        written_model: Model = mirror  # the same passes, each written to a file of its own
        opened: list[Model] = []
        try:
            for n in range(passes):
                chosen = data.draw(edits(len(current)))
                the_plan = _plan(current, chosen)
                mirror_plan = _plan(written_model, chosen)
                assert list(the_plan.pieces.ordinals) == list(mirror_plan.pieces.ordinals)
                reference = tmp_path / f"reference{n}.jsonl"
                with open(reference, "wb") as out:
                    write_pieces(written_model, mirror_plan.pieces, out)
                written_model = read_model(CODEX, reference)
                opened.append(written_model)
                following = planned.lay_out(CODEX, current, the_plan.pieces, tmp_path / f"pass{n}.jsonl")
                if following is None:  # what the layout cannot express is written, as the loop does
                    planned.write(current)
                    path = tmp_path / f"pass{n}.jsonl"
                    with open(path, "wb") as out:
                        write_pieces(current, the_plan.pieces, out)
                    following = read_model(CODEX, path)
                opened.append(following)
                same_index(following, written_model, same_file=False)
                current = following
            digest = planned.write(current)
            assert current.path.read_bytes() == written_model.path.read_bytes()
            if digest is not None:  # taken while it was written: the hash of what it holds
                assert digest.result(timeout=10) == hashlib.sha256(current.path.read_bytes()).hexdigest()
        finally:
            for model in opened:
                model.close()


def test_a_renumbered_gigabyte_is_planned_and_written_once(tmp_path: Path) -> None:
    """The case this is for: a line inserted early, every ordinal after it moved by one, twice."""
    body = [PAGINATED[0], *(PAGINATED[1:] * 20)]
    path = tmp_path / "rollout.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in body))
    with read_model(CODEX, path) as original:
        planned = Planned(original)
        first = planned.lay_out(CODEX, original, _plan(original, [Edit.insert_after(2, PAGINATED[5], "a")]).pieces,
                                tmp_path / "pass0.jsonl")
        assert first is not None and not first.path.exists()  # laid out, not written
        second = planned.lay_out(CODEX, first, _plan(first, [Edit.insert_after(9, PAGINATED[6], "b")]).pieces,
                                 tmp_path / "pass1.jsonl")
        assert second is not None and not second.path.exists()
        with pytest.raises(OSError, match="superseded"):  # its layout was let go: a read is an error, not b""
            first.source.read(0, 10)
        planned.write(second)
        with read_model(CODEX, second.path) as fresh:
            same_index(second, fresh, same_file=False)
        expected = [PAGINATED[0], *(PAGINATED[1:] * 20)]
        expected.insert(3, PAGINATED[5])
        expected.insert(10, PAGINATED[6])
        ordinals = [o for o in fresh_ordinals(second.path) if o is not None]
        assert ordinals == list(range(ordinals[0], ordinals[0] + len(ordinals)))
        second.close()
        first.close()


def fresh_ordinals(path: Path) -> list[int | None]:
    import orjson

    return [orjson.loads(line).get("ordinal") for line in path.read_bytes().splitlines()]


@pytest.mark.parametrize(("mode", "span", "reach"), [("wb", None, None), ("w+b", None, None), ("w+b", 4096, None),
                                                     ("w+b", None, 40)],
                         ids=["pwrite", "mapped", "mapped-a-page-at-a-time", "ordinals-out-of-reach"])
def test_a_long_run_patched_in_place_is_the_spliced_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        mode: str, span: int | None, reach: int | None) -> None:
    """Ordinals 1 to 1200 moved by one: most keep their width and are written over the kernel's copy
    (a pwrite each, or through a mapping where the output can be read, a window of ``span`` bytes at
    a time), those that cross 9, 99 and 999 are spliced; the file is byte for byte the line-by-line one."""
    import mmap

    from rollout_doctor.core import rewrite

    mapped: list[int] = []
    real_mmap = mmap.mmap

    def recorded(fd: int, length: int, *args: object, **kwargs: object) -> mmap.mmap:
        mapped.append(length)
        return real_mmap(fd, length, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mmap, "mmap", recorded)
    if span is not None:
        monkeypatch.setattr(rewrite, "MAP_SPAN", span)
    if reach is not None:  # every ordinal ends past it (some 50 bytes in): each line is set the long way
        from rollout_doctor.core.ordinal_spans import Spans

        monkeypatch.setattr(Spans, "REACH", reach)
    head = PAGINATED[0]
    line = b'{"timestamp":"2026-01-01T00:00:00.000Z","ordinal":%d,"type":"event_msg","payload":{"type":"x","t":"%s"}}'
    body = [head, *(line % (n, b"y" * (n % 50)) for n in range(1, 1200))]
    path = tmp_path / "rollout.jsonl"
    path.write_bytes(b"".join(b + b"\n" for b in body))
    with read_model(CODEX, path) as model:
        the_plan = _plan(model, [Edit.insert_after(0, line % (0, b"new"), "inserted")])
        expected = reference_bytes(model, list(the_plan.pieces))
        out_path = tmp_path / "out.jsonl"
        with open(out_path, mode) as out:
            write_pieces(model, the_plan.pieces, out)
        assert out_path.read_bytes() == expected
    if mode == "w+b" and reach is None:
        # each window as long as the span allows (a page of slack: a mapping starts on a page boundary)
        assert mapped and max(mapped) <= (span or rewrite.MAP_SPAN) + mmap.ALLOCATIONGRANULARITY
        assert len(mapped) > 3 if span else True


LINES = [*PAGINATED[:40], *ODD, b'{"type":"ordinal","ordinal":3}', b'{"ordinal":1,"x":"\\u0061"}']


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.sampled_from(LINES), max_size=30), endings=st.lists(st.sampled_from([b"\n", b"\r\n"]), min_size=30))
def test_ordinals_judged_a_block_at_a_time_are_judged_as_line_by_line(lines: list[bytes], endings: list[bytes]) -> None:
    data = b"".join(line + end for line, end in zip(lines, endings))
    bounds, at = [], 0
    for line, end in zip(lines, endings):
        bounds.append((at, at + len(line)))
        at += len(line) + len(end)
    assert sole_ordinals(data, bounds) == [sole_ordinal(data, start, end) for start, end in bounds]


@settings(max_examples=50, deadline=None)
@given(chunks=st.lists(st.binary(max_size=3000), max_size=12), small=st.booleans())
def test_a_hash_taken_behind_the_writer_is_the_hash_of_the_file(tmp_path_factory: pytest.TempPathFactory,
                                                                 chunks: list[bytes], small: bool) -> None:
    from rollout_doctor.store import copies

    if small:
        copies.HASH_CHUNK, old = 1000, copies.HASH_CHUNK
    try:
        path = tmp_path_factory.mktemp("behind") / "file"
        with open(path, "wb") as out:
            behind = copies.HashBehind(path)
            written = 0
            for chunk in chunks:
                out.write(chunk)
                out.flush()
                written += len(chunk)
                behind.reached(written)
            behind.finish(written)
        assert behind.digest.result(timeout=10) == hashlib.sha256(b"".join(chunks)).hexdigest()
    finally:
        if small:
            copies.HASH_CHUNK = old


def test_a_write_that_failed_gives_no_hash(tmp_path: Path) -> None:
    from rollout_doctor.store.copies import HashBehind

    path = tmp_path / "file"
    path.write_bytes(b"x" * 100)
    behind = HashBehind(path)
    behind.reached(50)
    behind.finish(None)
    with pytest.raises(OSError):
        behind.digest.result(timeout=10)
    assert os.path.exists(path)


CASE_ROLLOUTS = sorted(p for p in (Path(__file__).resolve().parents[1] / "fixtures" / "cases").rglob("rollout-*.jsonl"))


def test_every_case_is_fixed_to_the_same_bytes_planned_or_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule cases' rollouts (fixtures/cases), fixed with ``--unsafe-fixes`` twice: with passes laid
    out, and with every pass written as before. Same bytes, and most fixes were laid out."""
    from rollout_doctor.core import planned as planned_module
    from rollout_doctor.core.rules import Options
    from rollout_doctor.formats.codex import fix_file

    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    laid_out = 0
    real_lay_out = Planned.lay_out

    def counting(self: Planned, *args: object) -> Model | None:
        nonlocal laid_out
        model = real_lay_out(self, *args)  # type: ignore[arg-type]
        laid_out += model is not None
        return model

    results = {}
    for way in ("planned", "written"):
        with monkeypatch.context() as m:
            if way == "written":
                m.setattr(planned_module, "plannable", lambda *_args: False)
            else:
                m.setattr(Planned, "lay_out", counting)
            for n, source in enumerate(CASE_ROLLOUTS):
                folder = tmp_path / way / str(n)
                folder.mkdir(parents=True)
                path = folder / source.name
                path.write_bytes(source.read_bytes())
                fix_file(path, Options(unsafe_fixes=True))
                results[way, n] = path.read_bytes()
    assert all(results["planned", n] == results["written", n] for n in range(len(CASE_ROLLOUTS)))
    assert laid_out > len(CASE_ROLLOUTS) // 4


@pytest.mark.parametrize("want_diff", [True, False])
def test_a_pass_that_renumbers_after_one_that_did_not_is_planned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 want_diff: bool) -> None:
    """The benchmark's shape, small: a damaged line deleted first (nothing renumbered, so no ordinal is
    looked for), then an orphan call's output inserted and every later line renumbered. Without a diff
    the original's kinds are let go after the first pass (fix_loop._let_go): where the ordinals lie must
    still be found for all its lines. Both ways give the same bytes, which a fresh check finds clean."""
    from rollout_doctor.formats.codex import check_file, fix_file
    from rollout_doctor.formats.codex.rules import REGISTRY
    from tests.support.case_files import load_all
    from tests.support.case_run import options_of
    from tests.support.rollouts import rollout_name

    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    case = next(c for c in load_all([r.name for r in REGISTRY.rules])
                if c.rule == "orphan-call" and c.name == "every-call-kind")
    lines = case.input("paginated").splitlines(keepends=True)
    lines.insert(2, b"this line is no record\n")
    path = tmp_path / rollout_name(case, "paginated")
    path.write_bytes(b"".join(lines))
    report = fix_file(path, options_of(case), want_diff=want_diff)
    assert report.error is None and report.written and report.passes >= 2
    assert b"this line is no record" not in path.read_bytes()
    assert check_file(path, options_of(case)).diagnostics == []


def test_the_benchmarks_passes_share_what_they_can_and_let_go_of_the_rest(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The shape above, pass by pass (issue 14: a 1 GB fix at 100 MiB): the second pass's composed
    ordinals are its own (the first set none), a derived index's offsets are its layout's starts, and
    the pass before gives up its offsets, kinds and ordinals once the new one is derived from them.
    Each index is still the one a fresh read of the written bytes gives."""
    from rollout_doctor.core import derived
    from rollout_doctor.core import runs as runs_module

    derived_from: list[tuple[Model, Model, bool]] = []
    real_derive = derived.derive

    def recorded(fmt: object, model: Model, pieces: object, written: object, *args: object, **kwargs: object) -> Model:
        new = real_derive(fmt, model, pieces, written, *args, **kwargs)  # type: ignore[arg-type]
        derived_from.append((model, new, new.offsets is written.starts))  # type: ignore[attr-defined]
        return new

    monkeypatch.setattr(derived, "derive", recorded)
    path = tmp_path / "rollout.jsonl"
    monkeypatch.setattr(runs_module, "RUNS_SHARE", 1)  # runs however few the lines
    body = list(PAGINATED[:6])  # ordinals 0 to 5: deleting the damaged line renumbers nothing
    assert [line.count(b'"ordinal":%d,' % n) for n, line in enumerate(body)] == [1] * 6
    body.insert(3, b"this line is no record")
    path.write_bytes(b"".join(line + b"\n" for line in body))
    with read_model(CODEX, path) as original:
        planned = Planned(original)
        first = planned.lay_out(CODEX, original, _plan(original, [Edit.delete(3)]).pieces, tmp_path / "pass0.jsonl")
        assert first is not None and planned.composed is not None
        assert isinstance(planned.composed.ordinals, NoOrdinals)  # the first pass sets none: none held
        second_plan = _plan(first, [Edit.insert_after(1, PAGINATED[5], "a"), Edit.renumber_from(2)])
        second = planned.lay_out(CODEX, first, second_plan.pieces, tmp_path / "pass1.jsonl")
        assert second is not None and planned.composed is not None
        assert planned.composed.ordinals is second_plan.pieces.ordinals
        # Held as runs (an inserted line, then a renumbering), and the pass's own origins let go once
        # its index is derived (the loop has followed its provenance before).
        assert isinstance(planned.composed.origins, Runs) and isinstance(planned.composed.ordinals, Runs)
        assert len(second_plan.pieces.origins) == 0
        (model0, new0, shared0), (model1, new1, shared1) = derived_from
        assert model0 is original and len(original.ordinals) == len(original)  # the original keeps its index
        assert new0 is first and model1 is first and new1 is second
        assert shared0 and shared1
        assert len(first.offsets) == len(first.kinds) == len(first.ordinals) == 0
        planned.write(second)
        with read_model(CODEX, second.path) as fresh:
            same_index(second, fresh)


def test_the_original_is_held_in_4_bytes_a_number_where_its_numbers_fit(tmp_path: Path) -> None:
    path = tmp_path / "rollout.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in PAGINATED[:8]))
    big = tmp_path / "big-ordinal.jsonl"
    huge = b'{"timestamp":"2026-01-01T00:00:00Z","ordinal":4294967296,"type":"event_msg","payload":{"type":"x"}}'
    big.write_bytes(b"".join(line + b"\n" for line in [*PAGINATED[:3], huge]))
    with read_model(CODEX, path) as original, read_model(CODEX, big) as other:
        offsets, ordinals = list(original.offsets), list(original.ordinals)
        Planned(original).compact()
        assert (original.offsets.typecode, original.ordinals.typecode) == ("I", "i")
        assert (list(original.offsets), list(original.ordinals)) == (offsets, ordinals)
        Planned(other).compact()
        assert (other.offsets.typecode, other.ordinals.typecode) == ("I", "q")  # an ordinal past 32 bits


def test_no_ordinals_read_as_an_array_of_them() -> None:
    from array import array

    held, none = array("q", [NO_ORDINAL]) * 7, NoOrdinals(7)
    assert len(none) == 7 and list(none) == list(held) and none.count(NO_ORDINAL) == 7 and none.count(3) == 0
    assert [none[k] for k in range(-7, 7)] == [held[k] for k in range(-7, 7)]
    for cut in (slice(2, 5), slice(None, -2), slice(5, 2), slice(0, 99)):
        assert list(none[cut]) == list(held[cut])
    with pytest.raises(IndexError):
        none[7]


def test_offsets_past_4_gib_are_held_in_8_bytes() -> None:
    from rollout_doctor.core.planned import offsets_array

    made: list[int] = []

    def numbers(last: int) -> object:
        def make() -> list[int]:
            made.append(last)
            return [0, 10, last]
        return make

    small = offsets_array(numbers((1 << 32) - 1))
    assert (small.typecode, list(small), made) == ("I", [0, 10, (1 << 32) - 1], [(1 << 32) - 1])
    big = offsets_array(numbers(1 << 32))
    assert (big.typecode, list(big)) == ("q", [0, 10, 1 << 32])
