"""The pure core of fixing, as tables: ``plan`` (edits -> the pieces of the new file) and
``select_compatible`` (which fixes of one pass may be applied together).

Each table pairs an edit that changes nothing with one that changes something, in the manner of
ruff's fix tests: a no-op must be recognised as one (``changed`` is False, so the loop stops and
nothing is written), and a real change must come out exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout_doctor.core.fixes import TOP, Applicability, Edit, Fix, Op, line_numbers, plan, select_compatible
from rollout_doctor.core.model import read_model
from rollout_doctor.core.provenance import Notes, follow, follow_lines
from rollout_doctor.formats.codex.format import CODEX
from tests.test_derived import edits, rollouts


def layout(line_count: int, edits: list[Edit]) -> tuple[list[str], bool, int | None]:
    """The new file as short labels: ``3`` for original line 3 kept as it is, ``3=x`` for line 3 with new
    content ``x``, ``+x`` for a new line ``x``; whether it changed; where renumbering starts."""
    result = plan(line_count, edits)
    labels = []
    for piece in result.pieces:
        if piece.origin is None:
            labels.append("+" + (piece.content or b"").decode())
        elif piece.content is not None:
            labels.append(f"{piece.origin}={piece.content.decode()}")
        else:
            labels.append(str(piece.origin))
    return labels, result.changed, result.renumber_from


KEPT = ["0", "1", "2", "3"]

# (what, edits, the new file, changed, renumber_from)
PLAN_CASES = [
    ("nothing", [], KEPT, False, None),
    ("delete: a line", [Edit.delete(1)], ["0", "2", "3"], True, None),
    ("move: after the line before it (no-op)", [Edit.move_after(2, 1)], KEPT, False, None),
    ("move: to a later place", [Edit.move_after(0, 2)], ["1", "2", "0", "3"], True, None),
    ("move to the top: the first line (no-op)", [Edit.move_after(0, TOP)], KEPT, False, None),
    ("move to the top: a later line", [Edit.move_after(2, TOP)], ["2", "0", "1", "3"], True, None),
    ("move: several to one anchor keep their order", [Edit.move_after(3, 0), Edit.move_after(1, 0)],
     ["0", "1", "3", "2"], True, None),
    ("insert: after a line", [Edit.insert_after(0, b"x", "n")], ["0", "+x", "1", "2", "3"], True, None),
    ("insert: at the top", [Edit.insert_after(TOP, b"x", "n")], ["+x", "0", "1", "2", "3"], True, None),
    ("insert: two at one anchor keep their order",
     [Edit.insert_after(1, b"x", "n"), Edit.insert_after(1, b"y", "n")], ["0", "1", "+x", "+y", "2", "3"], True, None),
    ("insert and move at one anchor: the new line first",
     [Edit.move_after(3, 0), Edit.insert_after(0, b"x", "n")], ["0", "+x", "3", "1", "2"], True, None),
    ("replace: a line's content", [Edit.replace(2, b"x")], ["0", "1", "2=x", "3"], True, None),
    ("replace and move: the moved line carries its new content",
     [Edit.replace(1, b"x"), Edit.move_after(1, 3)], ["0", "2", "3", "1=x"], True, None),
    ("renumber: from a line", [Edit.renumber_from(2)], KEPT, True, 2),
    ("renumber: after a deletion, counted in the new file", [Edit.delete(0), Edit.renumber_from(2)],
     ["1", "2", "3"], True, 1),
]


@pytest.mark.parametrize(("edits", "expected", "changed", "renumber_from"),
                         [case[1:] for case in PLAN_CASES], ids=[case[0] for case in PLAN_CASES])
def test_plan(edits: list[Edit], expected: list[str], changed: bool, renumber_from: int | None) -> None:
    assert layout(4, edits) == (expected, changed, renumber_from)


def test_plan_of_an_empty_file_with_an_insertion() -> None:
    assert layout(0, [Edit.insert_after(TOP, b"x", "n")]) == (["+x"], True, None)


def fix(name: str, *edits: Edit) -> Fix:
    return Fix(name, Applicability.SAFE, tuple(edits))


A = fix("a", Edit.delete(1))
B = fix("b", Edit.insert_after(3, b"x", "n"))

# (what, fixes in the order found, the names kept)
SELECT_CASES = [
    ("disjoint fixes are all kept", [A, B], ["a", "b"]),
    ("the same fix found twice is kept once", [A, A], ["a"]),
    ("a fix touching a line another touches waits", [A, fix("c", Edit.replace(1, b"y"))], ["a"]),
    ("a fix anchored on a line another touches waits", [A, fix("c", Edit.insert_after(1, b"y", "n"))], ["a"]),
    ("a fix touching a line another is anchored on waits", [B, fix("c", Edit.move_after(3, 0))], ["b"]),
    ("two fixes anchored on one line are both kept",
     [fix("c", Edit.insert_after(2, b"y", "n")), fix("d", Edit.insert_after(2, b"z", "n"))], ["c", "d"]),
    ("one renumbering a pass", [fix("r", Edit.renumber_from(0)), fix("s", Edit.renumber_from(2))], ["r"]),
    ("the first of two conflicting fixes wins, whichever it is", [fix("c", Edit.replace(1, b"y")), A], ["c"]),
]


@pytest.mark.parametrize(("fixes", "kept"), [case[1:] for case in SELECT_CASES], ids=[c[0] for c in SELECT_CASES])
def test_select_compatible(fixes: list[Fix], kept: list[str]) -> None:
    assert [f.title for f in select_compatible(fixes)] == kept


def test_the_fixes_kept_together_plan_as_each_would_alone() -> None:
    """What makes fixes compatible: applying them in one plan gives what applying them one at a time
    would (for disjoint lines)."""
    kept = select_compatible([A, B])
    together = layout(4, [e for f in kept for e in f.edits])
    assert together == (["0", "2", "3", "+x"], True, None)
    assert all(e.op in (Op.DELETE, Op.INSERT) for f in kept for e in f.edits)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_lines_followed_alone_land_where_the_whole_provenance_says(tmp_path: Path, data: st.DataObject) -> None:
    """provenance.follow_lines (the unreadable lines only, without a diff or a child's cut) gives each
    followed line the place provenance.follow gives it, pass after pass, split records included."""
    path = tmp_path / "rollout.jsonl"
    path.write_bytes(data.draw(rollouts()))
    with read_model(CODEX, path) as model:
        lines = len(model)
        provenance, notes = line_numbers(lines, range(lines)), Notes()
        followed = {line for line in data.draw(st.sets(st.integers(0, max(lines - 1, 0)))) if line < lines}
        tracked = {line: line for line in followed}
        count = lines
        for _pass in range(data.draw(st.integers(1, 3))):
            pieces = plan(count, data.draw(edits(count))).pieces
            provenance, notes = follow(pieces, 0, provenance, notes)
            tracked = follow_lines(pieces, 0, tracked)
            assert tracked == {k: o for k, o in enumerate(provenance) if o in followed}
            count = len(provenance)


# Numbers as a pass holds them: runs of one constant, runs counting up by one, and loose numbers
# (the constant's neighbours and the ends of 64 bits among them).
def _runs_numbers(constant: int) -> st.SearchStrategy[list[int]]:
    run = st.one_of(
        st.integers(1, 6).map(lambda n: [constant] * n),
        st.tuples(st.integers(-3, 60), st.integers(1, 6)).map(lambda r: list(range(r[0], r[0] + r[1]))),
        st.sampled_from([constant, constant + 1, constant - 1 if constant > -(1 << 63) else 0, 0, -1,
                         (1 << 63) - 1, -(1 << 63), 1 << 40]).map(lambda x: [x]),
    )
    return st.lists(run, min_size=1, max_size=12).map(lambda runs: [x for r in runs for x in r])


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_runs_read_as_the_array_they_were_made_from(data: st.DataObject) -> None:
    from array import array

    from rollout_doctor.core.fixes import NEW, NO_ORDINAL
    from rollout_doctor.core.runs import Runs

    constant = data.draw(st.sampled_from([NO_ORDINAL, NEW]))
    values = data.draw(_runs_numbers(constant))
    held = array("q", values)
    runs = Runs.of(held, constant, len(values) + 1)
    assert runs is not None
    assert len(runs) == len(values) and list(runs) == values
    assert [runs[k] for k in range(-len(values), len(values))] == values + values
    for value in {*values, 12345, constant}:
        assert runs.count(value) == values.count(value)
    begin = data.draw(st.integers(-len(values) - 2, len(values) + 2))
    end = data.draw(st.integers(-len(values) - 2, len(values) + 2))
    cut = runs[begin:end]
    assert list(cut) == values[begin:end] and len(cut) == len(values[begin:end])
    assert [cut[k] for k in range(len(cut))] == values[begin:end]
    if cut:
        inner = data.draw(st.integers(0, len(cut)))
        assert list(cut[inner:]) == values[begin:end][inner:]  # a slice of a slice
    with pytest.raises(IndexError):
        runs[len(values)]
    # A run more than there are breaks (a number other than its run's next: ``constant`` again in a
    # run that began with it, else one more, never ``constant``), and None when that is more than ``most``.
    breaks, first, at = 0, values[0], 0
    for k in range(1, len(values)):
        if values[k] != (constant if first == constant else first + k - at) or (first != constant == values[k]):
            breaks, first, at = breaks + 1, values[k], k
    assert len(runs.starts) == breaks + 1
    assert Runs.of(held, constant, breaks) is None and Runs.of(held, constant, breaks + 1) is not None


def test_runs_end_where_a_count_leaves_the_arrays_numbers() -> None:
    from array import array

    from rollout_doctor.core.fixes import NO_ORDINAL
    from rollout_doctor.core.runs import Runs

    top = (1 << 63) - 1
    values = [top - 2, top - 1, top, 5, 6]
    runs = Runs.of(array("q", values), NO_ORDINAL, 10)
    assert runs is not None and list(runs) == values and list(runs.starts) == [0, 3]
    long = list(range(70_000)) + [3] + list(range(10, 200_000))  # past the chunks' growth, both sides
    runs = Runs.of(array("i", long), -1, 10)
    assert runs is not None and list(runs.starts) == [0, 70_000, 70_001] and list(runs) == long


def test_a_renumbered_gigabytes_ordinals_are_two_runs() -> None:
    """The benchmark's second pass, in small: nothing set up to the repeated ordinal, then every line
    one more than the line before. Two runs, where the array took 8 bytes a line."""
    from array import array

    from rollout_doctor.core.fixes import NO_ORDINAL
    from rollout_doctor.core.runs import Runs

    ordinals = array("q", [NO_ORDINAL] * 1000 + list(range(7, 2007)))
    runs = Runs.of(ordinals, NO_ORDINAL, 10)
    assert runs is not None and list(runs.starts) == [0, 1000] and list(runs.firsts) == [NO_ORDINAL, 7]
    assert runs[999] == NO_ORDINAL and runs[1000] == 7 and runs[2999] == 2006


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_runs_taken_at_runs_of_positions_are_the_numbers_looked_up(data: st.DataObject) -> None:
    """How a pass's origins are composed with the pass before's (planned.compose), run by run."""
    from array import array

    from rollout_doctor.core.fixes import NEW
    from rollout_doctor.core.runs import Runs

    before = data.draw(_runs_numbers(NEW).filter(lambda values: all(v >= NEW for v in values)))
    position = st.integers(0, len(before) - 1)
    runs_of_positions = st.one_of(
        st.integers(1, 4).map(lambda n: [NEW] * n),
        st.tuples(position, st.integers(1, 5)).map(lambda r: list(range(r[0], min(r[0] + r[1], len(before))))),
    )
    positions = [p for run in data.draw(st.lists(runs_of_positions, min_size=1, max_size=8)) for p in run]
    held_before = Runs.of(array("q", before), NEW, len(before) + 1)
    held_positions = Runs.of(array("q", positions), NEW, len(positions) + 1)
    assert held_before is not None and held_positions is not None
    taken = held_before.taken_at(held_positions)
    assert list(taken) == [NEW if p == NEW else before[p] for p in positions]
    assert [taken[k] for k in range(len(taken))] == list(taken) and len(taken) == len(positions)
