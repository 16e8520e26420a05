"""A file's whole report, kept for the re-check of a session that has not changed since.

Checking a home again when nothing changed should cost little more than a ``stat`` of each file: even
with every index cached (index_cache.py), loading them and running every rule again costs a third of
a cold scan. An entry here holds the report of one file for one set of options, and is used only when
everything the report was made from is as it was:

* the file: same device, inode, size, mtime and ctime, read more than a tick of its clock after its last
  change (else a rewrite within that tick could keep every time: ``sampling.racy``), and the same digest
  of a sample of its bytes (sampling.py);
* every other file the format reads to judge it (Codex: config.toml, which decides the wire, and
  session_index.jsonl, which names the session: ``Format.report_inputs``), by the same attributes, or
  still absent;
* the options (wire, rule selection, unsafe fixes), the format, the tool and the code (cache_files).

A session that continues another (a fork: its parents are inputs found by a search of the home), one a
running client holds, or one that could not be read is never cached: it is checked every time.

A report is kept with its format's summary of the file (``Format.continuation``). When the file has
grown since, by whole lines, and is otherwise as it was (same device and inode, the same sample of the
bytes the report was made from, the same inputs and options), ``continued`` indexes only the lines
appended and asks the format whether they leave the report as it was: a guard right after a turn then
costs what the turn costs, not what the session does. A format that cannot tell sends the file to a full
check. Such an entry is kept even when it was made within a tick of the file's last change (racy): it is
then used only for a file that grew, whose prefix the sample checks, as the index cache does.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollout_doctor.core import cache_files, index_cache
from rollout_doctor.core.index import index_range
from rollout_doctor.core.lines import Source
from rollout_doctor.core.sampling import identity, racy, racy_times, sample_of

if TYPE_CHECKING:
    from rollout_doctor.core.format import Format
    from rollout_doctor.core.reports import FileReport
    from rollout_doctor.core.rules import Options

KIND = "reports"


def options_key(options: Options) -> str:
    """The options as a stable string (a frozenset's order is not)."""
    values = []
    for item in dataclasses.fields(options):
        value = getattr(options, item.name)
        values.append(f"{item.name}={sorted(value) if isinstance(value, frozenset) else value!r}")
    return ";".join(values)


def _name(fmt: Format, path: Path, options: Options) -> str:
    return cache_files.key_name(fmt.name, os.path.abspath(path), options_key(options)) + ".rep"


def _inputs(fmt: Format, path: Path) -> list[tuple[str, tuple[int, ...] | None]]:
    out: list[tuple[str, tuple[int, ...] | None]] = []
    for other in fmt.report_inputs(path):
        try:
            out.append((str(other), identity(os.stat(other))))
        except OSError:
            out.append((str(other), None))
    return out


Entry = tuple[dict[str, Any], list[Any], int]  # cache_files.read's answer: header, values, length


def _kept(path: Path) -> bool:
    """Whether a report of ``path`` may be in the cache (it is on, and the file is not compressed)."""
    return cache_files.folder() is not None and not path.name.endswith(".zst")


def lookup(fmt: Format, path: Path, options: Options) -> FileReport | None:
    """The cached report of ``path``, if nothing it was made from has changed (module docstring)."""
    if not _kept(path):
        return None
    return _unchanged(fmt, path, options, cache_files.read(KIND, _name(fmt, path, options)))


def _unchanged(fmt: Format, path: Path, options: Options, found: Entry | None) -> FileReport | None:
    """``lookup``, of the entry read (``found``)."""
    if found is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    header, values, _length = found
    report = _report_of(values)
    try:
        if (header["path"] != os.path.abspath(path) or tuple(header["identity"]) != identity(st)
                or header["racy"] or header["options"] != options_key(options)
                or header["inputs"] != _inputs(fmt, path)):
            return None
        with Source.open(path) as source:
            now = source.stat()
            if identity(now) != identity(st) or header["sample"] != sample_of(source.fileno(), now, st.st_size):
                return None
    except (KeyError, TypeError, ValueError, OSError):
        return None
    if report is None:
        return None
    report.path = path  # as given this time (the entry is keyed by its absolute form)
    return report


def _report_of(values: list[Any]) -> FileReport | None:
    from rollout_doctor.core.reports import FileReport

    value = values[0] if len(values) == 1 else None
    if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], FileReport)):
        return None
    return value[0]


def recall(fmt: Format, path: Path, options: Options) -> FileReport | None:
    """The report of ``path`` without a full check: the cached one if the file is unchanged (``lookup``),
    else one continued over the lines appended since (``continued``); None when it needs a full check.
    The entry is read once for both (a 500 MB session's holds 0.6 MB of call ids)."""
    if not _kept(path):
        return None
    started = time.time()  # before the file is looked at: what makes a new entry racy (sampling.racy)
    found = cache_files.read(KIND, _name(fmt, path, options))
    report = _unchanged(fmt, path, options, found)
    return report if report is not None else _continued(fmt, path, options, found, started)


def continued(fmt: Format, path: Path, options: Options) -> FileReport | None:
    """The report of a file that has grown by whole lines since it was checked, when its format says they
    leave the report as it was (module docstring); the entry is then written again for the file as it is
    now."""
    if not _kept(path):
        return None
    started = time.time()  # before the file is looked at: what makes the new entry racy (sampling.racy)
    return _continued(fmt, path, options, cache_files.read(KIND, _name(fmt, path, options)), started)


def _continued(fmt: Format, path: Path, options: Options, found: Entry | None, started: float) -> FileReport | None:
    """``continued``, of the entry read (``found``) from ``started`` on."""
    if found is None:
        return None
    header, values, _length = found
    report = _report_of(values)
    if report is None or report.error is not None:
        return None
    state = values[0][1]
    if state is None:
        return None
    try:
        dev, ino, size = tuple(header["identity"])[:3]
        inputs = _inputs(fmt, path)
        if (header["path"] != os.path.abspath(path) or header["options"] != options_key(options)
                or header["inputs"] != inputs):
            return None
        with Source.open(path) as source:
            st = source.stat()
            if (st.st_dev, st.st_ino) != (dev, ino) or st.st_size <= size:
                return None
            if header["sample"] != sample_of(source.fileno(), st, size):
                return None
            if source.read(st.st_size - 1, 1) != b"\n":
                return None  # a last line still being written: a full check says what it is
            tail = index_range(fmt.lines, source, size, st.st_size, st.st_size)
            found_clean = fmt.continued(state, report, tail, source, path)
            if found_clean is None or identity(source.stat()) != identity(st):
                return None
            new_state, report.session = found_clean
            report.path = path
            sample = sample_of(source.fileno(), st, st.st_size)
            index_cache.extend(fmt, source, path, st, started, tail)
    except Exception:  # noqa: BLE001 - whatever goes wrong in continuing a report, a full check makes it
        return None
    if not _racy_inputs(inputs, started):
        _write(fmt, path, options, report, st, racy(st, started), inputs, sample, new_state)
    return report


def store(fmt: Format, path: Path, options: Options, report: FileReport, started: float, before: os.stat_result,
          inputs: list[tuple[str, tuple[int, ...] | None]], state: object = None) -> None:
    """Keep ``report`` (and the format's summary ``state`` of the file, for ``continued``), made from the file as
    ``before`` describes it and the inputs as ``inputs`` were before it was read (from ``started`` on),
    unless either changed meanwhile or an input is too recent to be told apart from a change
    (sampling.racy). A file that recent is kept as racy: only ``continued`` uses its entry."""
    if not _kept(path) or report.error is not None:
        return
    try:
        with Source.open(path) as source:
            st = source.stat()
            if identity(st) != identity(before):
                return
            sample = sample_of(source.fileno(), st, st.st_size)
    except OSError:
        return
    if inputs != _inputs(fmt, path) or _racy_inputs(inputs, started):
        return
    _write(fmt, path, options, report, st, racy(st, started), inputs, sample, state)


def _racy_inputs(inputs: list[tuple[str, tuple[int, ...] | None]], started: float) -> bool:
    """Whether an input (its identity: device, inode, size, mtime, ctime) changed too recently to be told
    apart from a change after ``started`` (sampling.racy)."""
    return any(i is not None and racy_times(i[0], i[3], i[4], started) for _p, i in inputs)


def _write(fmt: Format, path: Path, options: Options, report: FileReport, st: os.stat_result, is_racy: bool,
           inputs: list[tuple[str, tuple[int, ...] | None]], sample: bytes, state: object) -> None:
    header: dict[str, Any] = {"path": os.path.abspath(path), "identity": identity(st), "racy": is_racy,
                              "options": options_key(options), "inputs": inputs, "sample": sample}
    cache_files.write(KIND, _name(fmt, path, options), header, (report, state))


def inputs_of(fmt: Format, path: Path) -> list[tuple[str, tuple[int, ...] | None]]:
    """What the report of ``path`` depends on besides the file, as it is now (taken before reading it)."""
    return _inputs(fmt, path)
