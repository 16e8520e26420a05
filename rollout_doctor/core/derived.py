"""The index of a fix pass's file, derived from the index of the version it was written from.

A pass copies most lines unchanged (rewrite.py) and says where each landed. Such a line's kind,
ordinal and record are what they were, its record renumbered to its new line; a line whose ordinal
alone was set keeps its kind and record with the new ordinal. Only the lines the pass wrote anew
(``Rewritten.fresh``) are read and classified, from the new file (or, for a pass not written yet,
from its planned bytes: planned.py), exactly as indexing a file would.
So the pass that verifies a fix reads what changed, not the whole file again, and its model is the
one a fresh index of the file gives (tests/test_derived.py holds it to that).

Only a file read without inherited lines is derived: a fork's pass may move its pointer into its
parent, which changes which of the parent's lines come first (fix_loop.py reads those again).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollout_doctor.core import heap
from rollout_doctor.core.fixes import NO_ORDINAL, Pieces
from rollout_doctor.core.index import Part, index_range
from rollout_doctor.core.lines import Source
from rollout_doctor.core.model import FileSpan, Model
from rollout_doctor.core.rewrite import Rewritten

if TYPE_CHECKING:
    from rollout_doctor.core.format import Format
    from rollout_doctor.core.planned import PlannedSource


def derivable(model: Model) -> bool:
    """Whether a pass over ``model`` can take its index from it: the file alone, with no parent read."""
    return model.own_start == 0 and not model.links


def derive(fmt: Format, model: Model, pieces: Pieces, written: Rewritten, path: Path,
           planned: PlannedSource | None = None, consume: bool = False) -> Model:
    """The model of ``path``, which ``write_pieces(model, pieces, ...)`` wrote and described in
    ``written`` (or, with ``planned``, will write: its bytes are read from there until then). The
    records of lines carried over move to the new model (renumbered in place): ``model`` keeps its
    bytes, lines and kinds for a diff, and must not be judged again. ``consume``: nothing reads
    ``model``'s kinds and ordinals again (a pass laid out over a pass laid out before it), and they go
    before the new records' table is made, the moment of a 1 GB fix's peak."""
    source = Source.open(path) if planned is None else planned
    try:
        size = source.size
        if size != written.size:
            raise OSError(f"{path}: holds {size} bytes where {written.size} were written")
        new = fmt.model_type(path, source)
        _fill(fmt, model, pieces, written, source, size, new, consume)
    except BaseException:
        source.close()
        raise
    new.chain_problem = model.chain_problem
    new.links = model.links
    new.spans = (FileSpan(path, 0, len(new.kinds)),)
    return new


def _fill(fmt: Format, model: Model, pieces: Pieces, written: Rewritten, source: Source, size: int,
          new: Model, consume: bool = False) -> None:
    built = _Built(model.ordinals.typecode)
    starts, fresh = written.starts, written.fresh
    count, n, f = len(pieces), 0, 0
    while n < count:
        if f < len(fresh) and fresh[f] == n:
            m = n
            while f < len(fresh) and fresh[f] == m:
                f, m = f + 1, m + 1
            begin, end = starts[n], starts[m] if m < count else size
            # may be several lines: a split record
            built.add_part(index_range(fmt.lines, source, begin, end, size), starts, n, m, fmt.lines.shift)
            n = m
            continue
        # A run of carried-over pieces up to the next fresh one: the index's numbers, a line each.
        stop = fresh[f] if f < len(fresh) else count
        built.carry(fmt, model, pieces, starts, n, stop)
        n = stop
    offsets = starts if built.offsets is None else built.offsets
    offsets.append(size)
    new.offsets, new.kinds, new.ordinals = offsets, built.kinds, built.ordinals.array
    if consume:
        model.kinds, model.ordinals = bytearray(), array("q")
        pieces.origins = array("q")
    _hand_over(model, new, built.records, built.keys)
    new.bom_lines = frozenset(built.boms)


class _Built:
    """A new index as ``_fill`` makes it, from the pieces of a pass in order."""

    def __init__(self, typecode: str) -> None:
        # The new offsets are the pass's starts as long as each fresh piece is read as one line (a piece
        # holding several records makes more): the array is then taken as it is, not copied (3 MB of a
        # 1 GB fix's peak). None until a piece splits; the starts' own array is theirs no longer.
        self.offsets: array | None = None
        self.kinds = bytearray()
        self.ordinals = _Numbers(typecode)
        # The records, 8 bytes each here, go to a table once the old one is gone; each is keyed by its
        # own line number where it keeps one (every format here does), else by ``keys`` (index -> line).
        self.records: list[object] = []
        self.keys: dict[int, int] = {}
        self.boms: set[int] = set()

    def add_part(self, part: Part, starts: array, n: int, m: int, shift: Callable[[Any, int], None]) -> None:
        """The lines pieces ``n`` to ``m`` were read as, afresh."""
        at = len(self.kinds)
        if self.offsets is None and len(part.offsets) != m - n:
            self.offsets = starts[:n]
        if self.offsets is not None:
            self.offsets.extend(part.offsets if part.offsets.typecode == self.offsets.typecode
                                else iter(part.offsets))
        self.kinds.extend(part.kinds)
        self.ordinals.extend(lambda: iter(part.ordinals))
        for line, record in part.records.items():
            if at:
                shift(record, at)
            if getattr(record, "line", None) != line + at:
                self.keys[len(self.records)] = line + at
            self.records.append(record)
        if part.has_bom:
            self.boms.add(at)

    def carry(self, fmt: Format, model: Model, pieces: Pieces, starts: array, n: int, stop: int) -> None:
        """Pieces ``n`` to ``stop``, lines of ``model`` carried over: their facts, and their records
        moved from ``model``'s table and renumbered."""
        # Views, not copies: a run is most of the file, and copies of its origins and ordinals (and an
        # array of its new ordinals before they are added) were 10 MB of a 1 GB fix's peak.
        run = _view(pieces.origins)[n:stop]
        set_ordinals = _view(pieces.ordinals)[n:stop]
        old_ordinals, shift, keys, records = model.ordinals, fmt.lines.shift, self.keys, self.records
        at = len(self.kinds) - n  # the new model's line of piece k is k + at
        if self.offsets is not None:
            self.offsets.extend(starts[n:stop])
        self.kinds.extend(bytes(map(model.kinds.__getitem__, run)))
        self.ordinals.extend(lambda: (old_ordinals[o] if x == NO_ORDINAL else x for o, x in zip(run, set_ordinals)))
        pop = model.records.pop
        for k, origin in enumerate(run, n + at):  # a line each: 400 000 on a gigabyte
            record = pop(origin, None)
            if record is not None:
                if k != origin:
                    shift(record, k - origin)
                if getattr(record, "line", None) != k:
                    keys[len(records)] = k
                records.append(record)
        if model.bom_lines:
            self.boms.update(k for k, origin in enumerate(run, n + at) if origin in model.bom_lines)


_END = object()  # the end of the records being handed over (_hand_over)


class _Numbers:
    """A new index's ordinals, in 4 bytes each like the ones they come from (the original's, once the
    fix holds them so: planned.Planned.compact), until one does not fit: then in 8, from there on.
    Building them in 8 and narrowing after was 5 MB at once of a 1 GB fix's peak."""

    def __init__(self, typecode: str) -> None:
        self.array = array(typecode if typecode in ("i", "q") else "q")

    def extend(self, numbers: Callable[[], Iterable[int]]) -> None:
        """Add what ``numbers()`` gives (called again, whole, if one of them does not fit)."""
        mark = len(self.array)
        try:
            self.array.extend(numbers())
        except OverflowError:
            del self.array[mark:]
            self.array = array("q", self.array)
            self.array.extend(numbers())


def _view(numbers: Sequence[int]) -> Sequence[int]:
    """``numbers`` to be sliced without copying them: a view of an array (a test may give a list)."""
    return memoryview(numbers) if isinstance(numbers, array) else numbers


def _hand_over(model: Model, new: Model, records: list[object], keys: dict[int, int]) -> None:
    """Give ``new`` its records, in line order, as before (a rule may take the first it meets), each keyed
    by its own line number (one int object for both, as indexing makes it: 200 000 records, 6 MB of
    ints), or by ``keys`` for one that keeps none. The old model's table goes first, the new one is
    built after, not beside it: two tables of 200 000 records were 20 MB of a 1 GB fix's peak, and a
    list of their keys beside them 2 MB more. The old model keeps the records no line carried over, in
    a table of their size."""
    old = model.records
    model.records = dict(old)
    old.clear()
    heap.give_back()
    if keys:
        new.records = {keys.get(n, getattr(record, "line", None)): record for n, record in enumerate(records)}
        records.clear()
        return
    # Taken from the list's end, which gives its memory back as it empties, while the table grows: at
    # the table's last doubling, the moment of a 1 GB fix's peak, the list is an eighth of its size.
    records.append(_END)
    records.reverse()
    new.records = {record.line: record for record in iter(records.pop, _END)}  # type: ignore[attr-defined]
