"""What ``@dataclass`` gives a class (a ``repr``, field-by-field equality, and with ``Frozen`` a hash
and no assignment), for classes defined on every start-up.

``@dataclass`` writes each class's methods as source text and compiles it when the module is
imported: 0.3 to 2 ms a class (``FileReport``'s 23 fields, 2 ms), some 13 ms for the 21 that a
``check`` or a ``guard`` made (Python 3.11, 2026-11-29), a tenth of a re-check that reads only
what Codex appended. A subclass of ``Plain`` names its fields in ``FIELDS`` and writes its
``__init__``; what follows from the fields is done here once, for every class. The semantics are
``dataclass``'s: equal when the other is of the very same class and every field is equal; unhashable
unless frozen; a frozen instance refuses assignment with ``dataclasses.FrozenInstanceError``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, Self


class Plain:
    __slots__ = ()
    FIELDS: ClassVar[tuple[str, ...]] = ()

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def replaced(self, **changes: Any) -> Self:
        """A copy with ``changes``, made as ``dataclasses.replace`` makes it: through ``__init__``."""
        return type(self)(**{**{name: getattr(self, name) for name in self.FIELDS}, **changes})

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self.values() == other.values()  # type: ignore[attr-defined]
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable and compared by value, as a dataclass


class Frozen(Plain):
    """Fields set once, in ``__init__`` (with ``object.__setattr__``); hashed by their values."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(self.values())

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")


class Fielded:
    """For a class that must stay a dataclass, because a cache reads its fields (the codex records,
    which the index cache packs by them; ``Options``, which the report cache keys by them), declared
    ``@dataclass(init=False, repr=False, eq=False)`` with its own ``__init__``: the repr and equality
    ``@dataclass`` would have compiled, read from its fields. Making such a class then costs a third of
    what it did (0.14 ms against 0.38, ``Item``)."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name, f in self.__dataclass_fields__.items()
                          if f.repr)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            names = self.__dataclass_fields__
            return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # as a dataclass compared by value and not frozen
