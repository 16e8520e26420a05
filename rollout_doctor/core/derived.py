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
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.core.fixes import NO_ORDINAL, Pieces
from rollout_doctor.core.index import index_range
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
    # The new offsets are the pass's starts as long as each fresh piece is read as one line (a piece
    # holding several records makes more): the array is then taken as it is, not copied (3 MB of a
    # 1 GB fix's peak). None until a piece splits; the starts' own array is theirs no longer.
    offsets: array | None = None
    old_kinds, old_ordinals, old_records = model.kinds, model.ordinals, model.records
    kinds, ordinals = bytearray(), _Numbers(old_ordinals.typecode)
    shift = fmt.lines.shift
    starts, fresh = written.starts, written.fresh
    boms: set[int] = set()
    origins, set_ordinals = pieces.origins, pieces.ordinals
    origin_view, ordinal_view = _view(origins), _view(set_ordinals)
    count, n, f = len(pieces), 0, 0
    # The records, 8 bytes each here, go to a table once the old one is gone; each is keyed by its own
    # line number where it keeps one (every format here does), else by ``keys`` (record index -> line).
    records_of: list[object] = []
    keys: dict[int, int] = {}
    while n < count:
        if f < len(fresh) and fresh[f] == n:
            m = n
            while f < len(fresh) and fresh[f] == m:
                f, m = f + 1, m + 1
            begin, end = starts[n], starts[m] if m < count else size
            part = index_range(fmt.lines, source, begin, end, size)  # may be several lines: a split record
            at = len(kinds)
            if offsets is None and len(part.offsets) != m - n:
                offsets = starts[:n]
            if offsets is not None:
                offsets.extend(part.offsets if part.offsets.typecode == offsets.typecode else iter(part.offsets))
            kinds.extend(part.kinds)
            ordinals.extend(lambda: iter(part.ordinals))  # noqa: B023 - called at once
            for line, record in part.records.items():
                if at:
                    shift(record, at)
                if getattr(record, "line", None) != line + at:
                    keys[len(records_of)] = line + at
                records_of.append(record)
            if part.has_bom:
                boms.add(at)
            n = m
            continue
        # A run of carried-over pieces up to the next fresh one: the index's numbers, a line each.
        stop = fresh[f] if f < len(fresh) else count
        # Views, not copies: a run is most of the file, and copies of its origins and ordinals (and an
        # array of its new ordinals before they are added) were 10 MB of a 1 GB fix's peak.
        run = origin_view[n:stop]
        at = len(kinds) - n  # the new model's line of piece k is k + at
        if offsets is not None:
            offsets.extend(starts[n:stop])
        kinds.extend(bytes(map(old_kinds.__getitem__, run)))
        ordinals.extend(lambda: (old_ordinals[o] if x == NO_ORDINAL else x
                                 for o, x in zip(run, ordinal_view[n:stop])))  # noqa: B023
        pop = old_records.pop
        for k, origin in enumerate(run, n + at):
            record = pop(origin, None)
            if record is not None:
                if k != origin:
                    shift(record, k - origin)
                if getattr(record, "line", None) != k:
                    keys[len(records_of)] = k
                records_of.append(record)
        if model.bom_lines:
            boms.update(k for k, origin in enumerate(run, n + at) if origin in model.bom_lines)
        n = stop
    if offsets is None:
        offsets = starts
    offsets.append(size)
    new.offsets, new.kinds, new.ordinals = offsets, kinds, ordinals.array
    if consume:
        del old_kinds, old_ordinals
        model.kinds, model.ordinals = bytearray(), array("q")
    _hand_over(model, new, records_of, keys)
    new.bom_lines = frozenset(boms)


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
    if keys:
        new.records = {keys.get(n, getattr(record, "line", None)): record for n, record in enumerate(records)}
    else:
        new.records = dict(zip(map(attrgetter("line"), records), records))
    records.clear()
