"""Checking many rollouts, or one big one, on every core.

A folder scan hands whole files to a pool of worker processes, biggest first, so the longest job does
not start last. A file of ``SPLIT_BYTES`` or more among others is cut into byte ranges at line starts, so
that it does not leave one core working alone at the end: workers index the ranges
(``model.index_range``) and this process puts them back together (``model.assemble``) and runs the rules
on the whole, so a rule sees one model, exactly as in a sequential run. Reports come back in the order
of the paths, each as soon as those before it are in, so output still streams.

Small jobs, and a single file, stay in this process (``check_files`` says why). Workers are forked, so
they start in milliseconds with the modules already loaded; where fork is not safe (macOS, Windows)
they are spawned, and only for jobs big enough to pay for it.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.core.check import check_file
from rollout_doctor.core.errors import error_message
from rollout_doctor.core.index import Part, index_range
from rollout_doctor.core.index_cache import has_entry, joined, remember
from rollout_doctor.core.lines import Source, is_compressed
from rollout_doctor.core.model import Model, build
from rollout_doctor.core.reports import FileReport
from rollout_doctor.core.rules import Options

if TYPE_CHECKING:
    from rollout_doctor.core.format import Classifier, Format

SPLIT_BYTES = 64 << 20  # a plain file this big is indexed by several workers, one range each
RANGE_BYTES = 32 << 20  # ...in ranges this long: more ranges than workers keeps each worker's share small
MIN_POOL_BYTES = {"fork": 16 << 20, "spawn": 256 << 20}  # less work than this runs in this process

Progress = Callable[[int], None]  # told the byte count of each file (or range) as it is done


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _start_method() -> str:
    return "fork" if sys.platform.startswith("linux") else "spawn"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # check_file reports the error


def check_files(files: Sequence[tuple[Path, Format]], options: Options, jobs: int | None = None,
                progress: Progress | None = None, live: dict[Path, str] | None = None) -> Iterator[FileReport]:
    """``check_file`` for each file (a path and its format), in order, on up to ``jobs`` processes
    (default: every CPU). ``live`` names the running client that holds a path, for the paths some
    process holds."""
    live = live or {}
    cached = _cached_reports(files, options, live)
    if cached:
        rest = check_files([f for n, f in enumerate(files) if n not in cached], options, jobs, progress, live)
        for n, (path, _fmt) in enumerate(files):
            if n in cached:
                if progress:
                    progress(_size(path))
                yield cached[n]
            else:
                yield next(rest)
        return
    paths = [path for path, _fmt in files]
    formats = [fmt for _path, fmt in files]
    sizes = [_size(p) for p in paths]
    jobs = jobs or available_cpus()
    method = _start_method()
    # One file is checked here, however big: its model has to be whole in this process anyway for the
    # rules, so workers indexing its ranges would add their own memory to it (on a 1 GB rollout, from
    # under 100 MiB to 160 MiB in all) to save a third of the time at best.
    if jobs < 2 or len(paths) < 2 or sum(map(_work, files, sizes)) < MIN_POOL_BYTES[method]:
        expect(shares(formats, list(map(_work, files, sizes)), 1))
        for (path, fmt), size in zip(files, sizes):
            told = [0]

            def tell(nbytes: int, told: list[int] = told) -> None:
                told[0] += nbytes
                progress(nbytes)  # type: ignore[misc]

            report = check_file(fmt, path, options, live=live.get(path), progress=tell if progress else None)
            if progress and size > told[0]:
                progress(size - told[0])  # what was not read (an error, a compressed file's size on disk)
            yield report
        return
    yield from _pooled(paths, formats, sizes, options, jobs, method, progress, live)


def _work(file: tuple[Path, Format], size: int) -> int:
    """About how many bytes checking a file costs as much as indexing: a file the index cache knows is
    read from where its entry stops, and the rules on its whole index cost about an eighth of indexing
    it (a re-check of 3 appended files of 42 MB: 80 ms here, 200 ms through a pool of two)."""
    return size // 8 if has_entry(file[1], file[0]) else size


def _cached_reports(files: Sequence[tuple[Path, Format]], options: Options,
                    live: dict[Path, str]) -> dict[int, FileReport]:
    """The reports the report cache holds for files unchanged since, or continued over the lines appended
    since (core/report_cache.py: what ``check_file`` tries first), by position: made here, so that only
    the others go to workers. A continued report costs what was appended: three sessions of 30 to 60 MB
    that had grown by a turn each were sent to a pool of two workers (the work they were counted as, an
    eighth of their bytes, being more than a pool's worth), whose start-up took longer than the three
    continuations here (2026-11-29)."""
    from rollout_doctor.core import cache_files

    if cache_files.folder() is None:
        return {}
    from rollout_doctor.core.report_cache import recall

    found = {}
    for n, (path, fmt) in enumerate(files):
        if path not in live:
            report = recall(fmt, path, options)
            if report is not None:
                found[n] = report
    return found


def shares(formats: Sequence[Format], sizes: Sequence[int], processes: int) -> list[tuple[Classifier, int]]:
    """Each format's classifier with the bytes one of ``processes`` processes will index with it."""
    totals: dict[int, tuple[Classifier, int]] = {}
    for fmt, size in zip(formats, sizes):
        lines, total = totals.get(id(fmt.lines), (fmt.lines, 0))
        totals[id(fmt.lines)] = (lines, total + size)
    return [(lines, total // processes) for lines, total in totals.values()]


def expect(planned: list[tuple[Classifier, int]]) -> None:
    """Tell each classifier what this process will index (a fast path is loaded once for all of it,
    Classifier.expect); a pool's initializer in each spawned worker."""
    for lines, total in planned:
        lines.expect(total)


def _tasks(paths: list[Path], formats: list[Format], sizes: list[int], options: Options, jobs: int,
           live: dict[Path, str]) -> tuple[list[tuple[int, tuple]], dict[int, list[tuple[int, int]]],  # type: ignore[type-arg]
                                           dict[int, tuple[float, os.stat_result]]]:
    """One task per file, or one per range of a big one: (bytes of work, task); the ranges, and the
    attributes of each split file before it was split, with the time they were taken."""
    tasks: list[tuple[int, tuple]] = []  # (bytes of work, task)
    ranges: dict[int, list[tuple[int, int]]] = {}
    stamps: dict[int, tuple[float, os.stat_result]] = {}
    for n, (path, size) in enumerate(zip(paths, sizes)):
        # A fork is read with its parents' history (check.check_file), which ranges of its own file alone
        # cannot give; a live file's turn in flight is judged on the whole file too.
        fmt = formats[n]
        # A file the index cache knows is read from where its entry stops, in one process.
        if (size >= SPLIT_BYTES and not is_compressed(path) and path not in live
                and not fmt.continues_another(path) and not has_entry(fmt, path)):
            try:
                # The index cache keeps the ranges' index if the file is still this (and not racy then).
                stamps[n] = time.time(), os.stat(path)
                ranges[n] = split(path, max(jobs, -(-size // RANGE_BYTES)))
            except OSError:
                pass  # unreadable: check_file reports it as usual
        if n in ranges:
            tasks.extend((end - start, ("range", n, k, fmt, path, start, end, size))
                         for k, (start, end) in enumerate(ranges[n]))
        else:
            tasks.append((size, ("file", n, fmt, path, options, live.get(path))))
    return tasks, ranges, stamps


def _pooled(paths: list[Path], formats: list[Format], sizes: list[int], options: Options, jobs: int,
            method: str, progress: Progress | None, live: dict[Path, str]) -> Iterator[FileReport]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    tasks, ranges, stamps = _tasks(paths, formats, sizes, options, jobs, live)
    tasks.sort(key=lambda t: -t[0])  # the longest first, so that it does not start last
    parts: dict[int, dict[int, Part | str]] = {n: {} for n in ranges}
    done: dict[int, FileReport] = {}
    next_out = 0
    # A broken pool (a worker killed) raises BrokenProcessPool here rather than hanging, and with fork
    # every worker is started on the first submit, before the executor starts its own thread.
    workers = min(jobs, len(tasks))
    # Forked workers share what this process loaded; spawned ones load for their own share.
    planned = shares(formats, sizes, 1 if method == "fork" else workers)
    expect(planned)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                               initializer=None if method == "fork" else expect, initargs=(planned,))
    try:
        pending = {pool.submit(_run, task) for _, task in tasks}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                result = future.result()
                n = result[1]
                if result[0] == "file":
                    done[n] = result[2]
                    work = sizes[n]
                else:
                    k = result[2]
                    parts[n][k] = result[3]
                    work = ranges[n][k][1] - ranges[n][k][0]
                    if len(parts[n]) == len(ranges[n]):
                        done[n] = _check_ranges(formats[n], paths[n],
                                                [parts[n][i] for i in range(len(ranges[n]))], options, stamps[n])
                        del parts[n]
                if progress:
                    progress(work)
            if not pending:
                # All in: the workers can go now. Waiting for them matters: after shutdown(wait=False),
                # Python 3.11's exit handler can write to the pipe the pool has closed and print a
                # traceback (seen once in ten runs).
                pool.shutdown()
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
    except BrokenProcessPool:  # a worker was killed (out of memory?): check the rest here, one by one
        pool.shutdown(wait=False, cancel_futures=True)
        for n in range(next_out, len(paths)):
            if n in done:
                yield done.pop(n)
                continue
            report = check_file(formats[n], paths[n], options, live=live.get(paths[n]))
            if progress:
                progress(sizes[n])
            yield report
    finally:
        pool.shutdown(cancel_futures=True)


def split(path: Path, count: int) -> list[tuple[int, int]]:
    """``count`` byte ranges of about equal length covering the file, each starting at a line start."""
    with Source.open(path) as source:
        size = source.size
        points = [0]
        for k in range(1, count):
            start = _line_start_after(source, size * k // count, size)
            if points[-1] < start < size:
                points.append(start)
    points.append(size)
    return list(itertools.pairwise(points))


def _line_start_after(source: Source, offset: int, size: int) -> int:
    """The offset just after the first newline at or after ``offset`` (``size`` if there is none)."""
    pos = offset
    while pos < size:
        chunk = source.read(pos, min(1 << 16, size - pos))
        if not chunk:
            break
        newline = chunk.find(b"\n")
        if newline >= 0:
            return pos + newline + 1
        pos += len(chunk)
    return size


def _run(task: tuple) -> tuple:
    """One task in a worker: check a whole file, or index one range of a big one."""
    if task[0] == "file":
        _, n, fmt, path, options, live = task
        return "file", n, check_file(fmt, path, options, live=live)
    _, n, k, fmt, path, start, end, size = task
    try:
        with Source.open(path) as source:
            if source.size < end:
                raise OSError(f"{path}: the file shrank while it was read")
            return "range", n, k, index_range(fmt.lines, source, start, end, size)
    except Exception as exc:  # noqa: BLE001 - becomes the file's one-line error, as in check_file
        return "range", n, k, error_message(path, exc)


def _check_ranges(fmt: Format, path: Path, parts: list[Part | str], options: Options,
                  stamp: tuple[float, os.stat_result] | None = None) -> FileReport:
    errors = [p for p in parts if isinstance(p, str)]
    if errors:
        return FileReport(path, error=errors[0])

    def read(_: Path) -> Model:
        source = Source.open(path)
        try:
            whole = parts[0]
            for part in parts[1:]:
                whole = joined(fmt, whole, part)  # type: ignore[arg-type]
            if stamp is not None:  # when the file was looked at, and what it was then (_tasks)
                remember(fmt, source, path, whole, *stamp)  # type: ignore[arg-type]
            return build(fmt, path, [(source, whole, path)])  # type: ignore[list-item]
        except BaseException:
            source.close()
            raise

    return check_file(fmt, path, options, read=read)
