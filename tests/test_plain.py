"""core/plain.py gives its classes what @dataclass gave them: the same repr, equality, hash and
frozenness, and replaced() for dataclasses.replace. Checked against a dataclass of the same fields."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from rollout_doctor.core.fixes import Applicability, Edit, Fix, Op
from rollout_doctor.core.plain import Frozen, Plain
from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex.records import Compacted, Event, Invalid, Item, LineFacts, Meta


class Point(Plain):
    FIELDS = ("x", "y")

    def __init__(self, x: int, y: list[int] | None = None) -> None:
        self.x = x
        self.y = [] if y is None else y


class Other(Plain):
    FIELDS = ("x", "y")

    def __init__(self, x: int, y: list[int] | None = None) -> None:
        self.x = x
        self.y = [] if y is None else y


class Pin(Frozen):
    FIELDS = ("x", "y")

    def __init__(self, x: int, y: str = "") -> None:
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)


@dataclasses.dataclass
class DataPoint:
    x: int
    y: list[int] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class DataPin:
    x: int
    y: str = ""


def test_repr_is_the_dataclass_repr() -> None:
    assert repr(Point(1, [2])) == repr(DataPoint(1, [2])).replace("DataPoint", "Point")
    assert repr(Pin(1, "a")) == repr(DataPin(1, "a")).replace("DataPin", "Pin")


def test_equality_is_by_fields_and_only_with_the_same_class() -> None:
    assert Point(1, [2]) == Point(1, [2])
    assert Point(1, [2]) != Point(1, [3])
    assert Point(1) != Other(1)  # as a dataclass: another class with the same fields is not equal
    assert Point(1).__eq__((1, [])) is NotImplemented
    assert Point(1).y is not Point(1).y  # a fresh default each time, as default_factory


def test_a_plain_instance_is_unhashable_and_a_frozen_one_hashes_by_its_fields() -> None:
    with pytest.raises(TypeError):
        hash(Point(1))
    assert hash(Pin(1, "a")) == hash(Pin(1, "a"))
    assert {Pin(1, "a"), Pin(1, "a"), Pin(2)} == {Pin(1, "a"), Pin(2)}


def test_a_frozen_instance_refuses_assignment_as_a_dataclass_does() -> None:
    pin = Pin(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pin.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del pin.x  # type: ignore[misc]
    assert pin.x == 1


def test_replaced_is_dataclasses_replace() -> None:
    point = Point(1, [2])
    moved = point.replaced(x=5)
    assert moved == Point(5, [2]) and point == Point(1, [2]) and moved.y is point.y
    with pytest.raises(TypeError):
        point.replaced(z=1)


def test_fixes_survive_pickling_and_compare_as_before() -> None:
    """Reports go through the report cache (pickle) and fixes are deduplicated by equality."""
    fix = Fix("drop it", Applicability.SAFE, (Edit.delete(3), Edit.replace(4, b"{}", "note")))
    again = pickle.loads(pickle.dumps(fix))
    assert again == fix and hash(again) == hash(fix) and again is not fix
    assert fix in [Fix("drop it", Applicability.SAFE, (Edit(Op.DELETE, 3), Edit(Op.REPLACE, 4, None, b"{}", "note")))]


@pytest.mark.parametrize("cls", [Item, Meta, Compacted, Event, Invalid, LineFacts, Options])
def test_the_dataclasses_a_cache_reads_compile_nothing_at_import(cls: type) -> None:
    """They stay dataclasses (the caches read their fields) but bring their own __init__, and Fielded's
    repr and equality: none of the three is compiled from source as the module is imported."""
    assert dataclasses.is_dataclass(cls)
    for method in ("__init__", "__repr__", "__eq__"):
        assert getattr(cls, method).__code__.co_filename.endswith(".py"), (cls, method)
    values = {f.name: f"value of {f.name}" for f in dataclasses.fields(cls)}
    made = cls(**values)
    assert made == cls(**values) and made != cls(**{**values, next(iter(values)): "other"})
    assert repr(made) == f"{cls.__qualname__}({', '.join(f'{k}={v!r}' for k, v in values.items())})"
    with pytest.raises(TypeError):
        hash(made)
