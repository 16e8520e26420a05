"""What indexing learned about each session file, kept between runs (as ruff and git keep theirs).

A client only appends to a session, yet every check, list and guard would parse every byte again. An
entry holds a file's index (``index.Part``: offsets, kinds, ordinals and the records the rules read)
up to its last complete line, keyed by the file's real path. It is trusted only for the file indexed:

* the same device and inode: a fix or an undo replaces the file (a new inode), so its entry is never
  used again, whatever else matches;
* the indexed prefix still there: the file is at least as long, and a digest of a sample of the prefix
  (its first and last 4 KiB and 8 spots spread through it) is unchanged. A line rewritten in the
  middle with another length moves every byte after it, which the spots after it and the last block see;
* no doubt: a file of the same size whose mtime or ctime changed (a touch, a rewrite of the same length,
  which only a full hash could clear) or that is shorter is indexed from scratch. So is a file whose entry
  was made from a read begun within a tick of its clock after its last change (a rewrite in the same
  tick keeps the times: git's "racily clean" index entries; ``sampling.racy``). Hashing every byte
  instead would cost more than indexing saves: blake2b reads 0.7 GB/s and crc32 1.7 GB/s here, against a
  scan at about 0.5 GB/s.

What no sample sees is a rewrite of the same length, in place, of bytes between the spots, in a file that
also grew since the last run (a client only appends; an editor, a tool or a fix writes a new file, with
a new inode). The entry is written again whenever the file changed at all, so that such a rewrite after
a run, the file's size unchanged, is a doubt.

A file that grew is indexed from where its entry stops; the rest is a plain index of the whole file.
Lines are indexed one by one (a line's facts do not depend on its neighbours), so the joined index is
exactly the one a full read makes, and the rules always run on the whole of it. A torn last line is
never part of an entry: it is indexed again at every run, until its newline comes.
"""

from __future__ import annotations

import dataclasses
import os
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollout_doctor.core import cache_files
from rollout_doctor.core.index import CollectorPaused, Part, index_range
from rollout_doctor.core.sampling import identity, racy, sample_of

if TYPE_CHECKING:
    from rollout_doctor.core.format import Format
    from rollout_doctor.core.lines import Source

KIND = "index"


def entry_name(fmt: Format, real: str) -> str:
    return cache_files.key_name(fmt.name, real) + ".idx"


MAX_CHUNKS = 8  # an entry appended to this many times is written whole again, in one chunk


def indexed(fmt: Format, source: Source, path: Path, progress: Callable[[int], None] | None = None) -> Part:
    """The index of all of ``source`` (``index_range`` from 0 to its size), from the cache as far as it
    can be trusted. The entry is written again when the file changed at all (a torn last line that grew
    too: it then describes the file as it is now, so that a rewrite of the same size next is a doubt);
    what a grown file added is appended to it as a chunk of its own."""
    started = time.time()  # before the file is looked at: what makes an entry racy (sampling.racy)
    before = source.stat()
    size = before.st_size
    if source.compressed or cache_files.folder() is None:
        return index_range(fmt.lines, source, 0, size, size, progress)
    real = os.path.realpath(path)
    name = entry_name(fmt, real)
    found = trusted(fmt, source, real, before, name)
    if found is None:
        part = index_range(fmt.lines, source, 0, size, size, progress)
        if identity(source.stat()) == identity(before):  # else it changed while it was read: keep nothing
            store(fmt, source, real, before, name, part, started)
        return part
    prefix, unchanged, entry = found
    tail = index_range(fmt.lines, source, prefix.end, size, size, progress)
    added = None
    if not unchanged and len(entry[1]) < MAX_CHUNKS:
        added = _chunk(source, tail)  # packed now: joining renumbers the tail's records in place
    part = joined(fmt, prefix, tail)
    if not unchanged and identity(source.stat()) == identity(before):
        if added is None:
            store(fmt, source, real, before, name, part, started)
        else:
            end, count, blob = added
            cache_files.append(KIND, name, entry[2], entry[1], _header(fmt, source, real, before, started, end,
                                                                     len(prefix.kinds) - len(tail.kinds) + count), blob)
    return part


def trusted(fmt: Format, source: Source, real: str, st: os.stat_result,
            name: str) -> tuple[Part, bool, tuple[dict[str, Any], list[Any], int]] | None:
    """The entry's index if the file still holds what it describes (the module docstring says when),
    whether the file is exactly as the entry saw it, and the entry (header, chunks, length)."""
    with CollectorPaused():
        return _trusted(fmt, source, real, st, name)


def _trusted(fmt: Format, source: Source, real: str, st: os.stat_result,
             name: str) -> tuple[Part, bool, tuple[dict[str, Any], list[Any], int]] | None:
    found = cache_files.read(KIND, name)
    if found is None:
        return None
    header, values, length = found
    try:
        part = unpacked(values[0])
        for value in values[1:]:  # what later runs appended, each from where the one before stopped
            tail = unpacked(value)
            if tail.start != part.end:
                return None
            part = joined(fmt, part, tail)
        end, size = header["indexed_end"], header["size"]
        if not _same_file(header, fmt, real, st) or part.end != end or st.st_size < end:
            return None
        if st.st_size == size and (header["racy"] or (header["mtime_ns"], header["ctime_ns"]) !=
                                   (st.st_mtime_ns, st.st_ctime_ns)):
            return None
        if st.st_size < size:
            return None
        if header["sample"] != sample_of(source.fileno(), st, end):
            return None
        if not (len(part.offsets) == len(part.kinds) == len(part.ordinals) == header["lines"]):
            return None
    except Exception:  # noqa: BLE001 - an entry that does not hold what it should is no entry
        return None
    unchanged = (size, header["mtime_ns"], header["ctime_ns"]) == (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    chunks = [tuple(chunk) for chunk in header["chunks"]]
    return part, unchanged, (header, chunks, length)


def joined(fmt: Format, prefix: Part, tail: Part) -> Part:
    """The cached prefix followed by the lines indexed after it (their records renumbered)."""
    shift = len(prefix.kinds)
    prefix.offsets.extend(tail.offsets)
    prefix.kinds.extend(tail.kinds)
    prefix.ordinals.extend(tail.ordinals)
    for line, record in tail.records.items():
        fmt.lines.shift(record, shift)
        prefix.records[line + shift] = record
    prefix.end = tail.end
    if tail.start == 0:
        prefix.has_bom = tail.has_bom
    return prefix


def store(fmt: Format, source: Source, real: str, st: os.stat_result, name: str, part: Part,
          started: float) -> None:
    """Write the entry of ``part`` (the whole file, as ``st`` describes it, read from ``started`` on) up to
    its last complete line."""
    count = _complete(source, part)
    end = part.offsets[count] if count < len(part.kinds) else part.end
    saved = _head(part, count, end)
    with CollectorPaused():
        cache_files.write(KIND, name, _header(fmt, source, real, st, started, end, count), packed(saved))


def _complete(source: Source, part: Part) -> int:
    """How many of a part's lines are complete: all but a torn last line (read again next time)."""
    count = len(part.kinds)
    if count and part.end > part.start and source.read(part.end - 1, 1) != b"\n":
        count -= 1
    return count


def _head(part: Part, count: int, end: int) -> Part:
    """A part's first ``count`` lines, ending at ``end`` (the part itself when that is all of it)."""
    if count == len(part.kinds) and part.end == end:
        return part
    return Part(part.start, end, part.offsets[:count], part.kinds[:count], part.ordinals[:count],
                {line: record for line, record in part.records.items() if line < count}, part.has_bom)


def _header(fmt: Format, source: Source, real: str, st: os.stat_result, started: float, end: int,
            lines: int) -> dict[str, Any]:
    return {"path": real, "format": fmt.name, "dev": st.st_dev, "ino": st.st_ino, "size": st.st_size,
            "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns, "racy": racy(st, started),
            "indexed_end": end, "lines": lines, "sample": sample_of(source.fileno(), st, end)}


# A format's records are small dataclasses; pickled one by one, each goes through Python-level
# __getstate__ and __setstate__ calls. Kept by class instead, as rows of field values, a 500 MB session's
# 67 000 records are written in 0.10 s instead of 0.28 s and read in 0.19 s instead of 0.26 s.

def packed(part: Part) -> tuple[Any, ...]:
    by_class: dict[type, list[int]] = {}
    for line, record in part.records.items():
        by_class.setdefault(type(record), []).append(line)
    columns = []
    for cls, lines in by_class.items():
        names = _init_fields(cls)
        if names is None:  # not a plain dataclass: the records themselves
            columns.append((cls, None, lines, [part.records[line] for line in lines]))
            continue
        get = attrgetter(*names)
        rows = [get(part.records[line]) for line in lines]
        columns.append((cls, names, lines, rows if len(names) > 1 else [(row,) for row in rows]))
    return part.start, part.end, part.offsets, part.kinds, part.ordinals, columns, part.has_bom


def unpacked(value: tuple[Any, ...]) -> Part:
    start, end, offsets, kinds, ordinals, columns, has_bom = value
    records: dict[int, Any] = {}
    for cls, names, lines, rows in columns:
        if names is not None and _init_fields(cls) != names:
            raise ValueError(f"{cls.__name__} has other fields now")
        records.update(zip(lines, rows if names is None else [cls(*row) for row in rows]))
    if not (isinstance(offsets, array) and isinstance(kinds, bytearray) and isinstance(ordinals, array)):
        raise TypeError("not an index")
    return Part(start, end, offsets, kinds, ordinals, records, bool(has_bom))


def _init_fields(cls: type) -> tuple[str, ...] | None:
    """The fields of a dataclass whose __init__ takes them all, in order; None for any other class."""
    if not dataclasses.is_dataclass(cls):
        return None
    fields = dataclasses.fields(cls)
    return tuple(f.name for f in fields) if fields and all(f.init for f in fields) else None


def extend(fmt: Format, source: Source, path: Path, st: os.stat_result, started: float, tail: Part) -> None:
    """Append ``tail`` (the index of the lines a file gained, numbered from 0, read from ``started`` on, the
    file as ``st`` describes it) to its entry, when the entry stops where the tail starts: what ``indexed``
    would have added, for a file whose report was continued without its index (report_cache.continued)."""
    if source.compressed or cache_files.folder() is None:
        return
    real = os.path.realpath(path)
    name = entry_name(fmt, real)
    found = cache_files.read_header(KIND, name)
    if found is None:
        return
    header, length = found
    chunks = [tuple(chunk) for chunk in header["chunks"]]
    if not _same_file(header, fmt, real, st) or header.get("indexed_end") != tail.start or len(chunks) >= MAX_CHUNKS:
        return  # the next full read indexes from where the entry stops, and writes it again
    end, count, blob = _chunk(source, tail)
    cache_files.append(KIND, name, length, chunks, _header(fmt, source, real, st, started, end, header["lines"] + count),
                       blob)


def _same_file(header: dict[str, Any], fmt: Format, real: str, st: os.stat_result) -> bool:
    """Whether an entry's header describes this file: its real path, format, device and inode."""
    return (header.get("path"), header.get("format"), header.get("dev"), header.get("ino")) == (
        real, fmt.name, st.st_dev, st.st_ino)


def _chunk(source: Source, tail: Part) -> tuple[int, int, bytes]:
    """What an entry appends for the lines a file gained: where their complete lines end, how many they
    are, and their index packed and pickled."""
    count = _complete(source, tail)
    end = tail.offsets[count] if count < len(tail.kinds) else tail.end
    with CollectorPaused():
        return end, count, cache_files.pickled(packed(_head(tail, count, end)))


def upto(part: Part, end: int, fmt: Format, source: Source) -> Part:
    """The lines of a whole file's index that end at or before ``end``: a parent's part before a
    child's cut, as ``index_range(…, 0, end, end)`` gives it (``end`` is a line start or the size)."""
    count = bisect_left(part.offsets, end)
    if count == len(part.kinds) and part.end == end:
        return part
    if count == len(part.kinds) or part.offsets[count] != end:
        # Not a line boundary of this index (the file changed since the cut was found): the plain way.
        return index_range(fmt.lines, source, 0, end, end)
    return _head(part, count, end)


def remember(fmt: Format, source: Source, path: Path, part: Part, started: float, before: os.stat_result) -> None:
    """Keep the index of a whole file that was indexed elsewhere (in ranges, by workers), if the file
    is still the one ``before`` (taken at ``started``) describes."""
    if source.compressed or cache_files.folder() is None or identity(source.stat()) != identity(before):
        return
    real = os.path.realpath(path)
    store(fmt, source, real, before, entry_name(fmt, real), part, started)


def forget(fmt: Format, path: Path) -> None:
    """Drop a file's entry (after a write): its inode has changed anyway, so this only saves the space."""
    cache_files.remove(KIND, entry_name(fmt, os.path.realpath(path)))


def has_entry(fmt: Format, path: Path) -> bool:
    """Whether an entry for the file exists (not whether it can be trusted): a folder scan then reads the
    file whole in one process rather than splitting it across workers."""
    root = cache_files.folder()
    return root is not None and (root / KIND / entry_name(fmt, os.path.realpath(path))).exists()

