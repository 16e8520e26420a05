"""The index and report caches (core/index_cache.py, core/report_cache.py): a report is the same with the
cache and without it, whatever happened to the file or to the cache since the last run.

The sessions are real 0.171.0 lines (fixtures/real), whole turns appended one after another. The caches
trust nothing read within a tick of a file's clock after its change (a rewrite in the same tick keeps
every time: ``sampling.racy``); the tests shorten that to 50 ms and wait it out before each check, so that entries are
written as they would be for a session last touched minutes ago, and shrink the sample so that files of
a few KB are sampled in spots, as big ones are.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rollout_doctor.cli.json_report import report_json
from rollout_doctor.core import cache_files, index_cache, report_cache, sampling
from rollout_doctor.core.check import check_file
from rollout_doctor.core.index import Part
from rollout_doctor.core.lines import Source
from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex import CODEX
from tests.support.cli import isolate, run
from tests.support.threads import copy_thread

REAL = next((Path(__file__).parent.parent / "fixtures" / "real" / "0.171.0-responses-resumed").glob("*.jsonl"))
OPTIONS = Options(target=None)
RACY = 0.05


def turns() -> tuple[bytes, list[bytes]]:
    """The fixture's session_meta line, and its other lines cut into turns (each starts at a turn_context)."""
    lines = REAL.read_bytes().splitlines(keepends=True)
    out: list[bytes] = []
    for line in lines[1:]:
        if b'"turn_context"' in line or not out:
            out.append(line)
        else:
            out[-1] += line
    return lines[0], out


HEADER, TURNS = turns()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(tmp_path, monkeypatch)
    monkeypatch.setattr(sampling, "RACY", RACY)
    monkeypatch.setattr(sampling, "BLOCK", 64)
    monkeypatch.setattr(sampling, "SPOT", 16)
    monkeypatch.setattr(sampling, "SPOTS", 8)
    return tmp_path / "cache"


@contextmanager
def no_cache() -> Iterator[None]:
    saved = os.environ.get("ROLLOUT_DOCTOR_NO_CACHE")
    os.environ["ROLLOUT_DOCTOR_NO_CACHE"] = "1"
    try:
        yield
    finally:
        if saved is None:
            del os.environ["ROLLOUT_DOCTOR_NO_CACHE"]
        else:
            os.environ["ROLLOUT_DOCTOR_NO_CACHE"] = saved


def report(path: Path) -> bytes:
    return orjson.dumps(report_json([check_file(CODEX, path, OPTIONS)], unsafe=False, fixing=False))


def rules_of(report: bytes) -> set[str]:
    return {d["rule"] for f in orjson.loads(report)["files"] for d in f["diagnostics"]}


def settle() -> None:
    time.sleep(RACY + 0.01)


def both(path: Path) -> tuple[bytes, bytes]:
    """The report with the cache (used and updated) and without it."""
    settle()
    cached = report(path)
    with no_cache():
        plain = report(path)
    return cached, plain


def entries(cache: Path, kind: str = "index") -> list[Path]:
    folder = cache / kind
    return sorted(folder.iterdir()) if folder.is_dir() else []


def session(folder: Path, turns: int = 3) -> Path:
    path = folder / REAL.name
    path.write_bytes(HEADER + b"".join(TURNS[n % len(TURNS)] for n in range(turns)))
    return path


def cached_part(path: Path) -> Part | None:
    """What the index cache trusts for ``path`` now."""
    real = os.path.realpath(path)
    with Source.open(path) as source:
        found = index_cache.trusted(CODEX, source, real, source.stat(), index_cache.entry_name(CODEX, real))
    return found[0] if found is not None else None


# --- validation and invalidation ---------------------------------------------------------------------------

def test_an_unchanged_file_is_read_from_its_entry(cache: Path, tmp_path: Path) -> None:
    path = session(tmp_path)
    cached, plain = both(path)
    assert cached == plain
    assert len(entries(cache)) == 1 and len(entries(cache, "reports")) == 1
    part = cached_part(path)
    assert part is not None and part.end == path.stat().st_size and len(part.kinds) == path.read_bytes().count(b"\n")


def test_a_grown_file_is_indexed_from_where_its_entry_stops(cache: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = session(tmp_path)
    both(path)
    size = path.stat().st_size
    with open(path, "ab") as f:
        f.write(TURNS[0])
    ranges: list[tuple[int, int]] = []
    real_index = index_cache.index_range

    def spy(lines, source, start, end, size_, progress=None):  # type: ignore[no-untyped-def]
        ranges.append((start, end))
        return real_index(lines, source, start, end, size_, progress)

    monkeypatch.setattr(index_cache, "index_range", spy)
    cached, plain = both(path)
    assert cached == plain
    assert ranges[0] == (size, path.stat().st_size)  # only the new turn was read


@pytest.mark.parametrize("change", ["same size, another byte", "shorter", "touched", "replaced", "rewritten keeping mtime"])
def test_a_changed_file_is_indexed_from_scratch(cache: Path, tmp_path: Path, change: str) -> None:
    path = session(tmp_path)
    both(path)
    data = path.read_bytes()
    st = path.stat()
    if change == "same size, another byte":
        at = data.index(b'"call_id":"') + len(b'"call_id":"')
        with open(path, "r+b") as f:
            f.seek(at)
            f.write(b"X")
    elif change == "shorter":
        with open(path, "r+b") as f:
            f.truncate(len(data) - len(TURNS[-1]) // 2)
    elif change == "touched":
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    elif change == "replaced":
        tmp = path.with_name("tmp")
        tmp.write_bytes(data.replace(b'"call_id":"', b'"call_id":"Y', 1)[:-1] + b"\n")
        os.replace(tmp, path)
    else:  # in place, the same size, and the mtime put back: only the ctime tells
        with open(path, "r+b") as f:
            f.seek(data.index(b'"call_id":"') + len(b'"call_id":"'))
            f.write(b"Z")
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert cached_part(path) is None
    cached, plain = both(path)
    assert cached == plain


def test_a_rewrite_in_the_middle_that_moves_the_bytes_after_it_is_seen_even_when_the_file_grew(
        cache: Path, tmp_path: Path) -> None:
    path = session(tmp_path, turns=12)
    both(path)
    data = path.read_bytes()
    middle = data.index(b"\n", len(data) // 2) + 1
    path.write_bytes(data[:middle] + b"\n" + data[middle:] + TURNS[0])  # a blank line inserted, a turn appended
    assert cached_part(path) is None
    assert both(path)[0] == both(path)[1]


def test_a_torn_last_line_is_never_cached(cache: Path, tmp_path: Path) -> None:
    path = session(tmp_path, turns=2)
    half = TURNS[2][: len(TURNS[2]) // 2]
    whole = path.stat().st_size + half.rfind(b"\n") + 1  # the appended half's complete lines, if any
    with open(path, "ab") as f:
        f.write(half)
    cached, plain = both(path)
    assert cached == plain and "invalid-line" in rules_of(plain)
    part = cached_part(path)
    assert part is not None and part.end == whole  # the entry stops before the torn line
    with open(path, "ab") as f:
        f.write(TURNS[2][len(half) :])
    cached, plain = both(path)
    assert cached == plain and rules_of(plain) == set()


def last_change(path: Path) -> float:
    st = path.stat()
    return max(st.st_mtime_ns, st.st_ctime_ns) / 1e9


def test_an_entry_written_just_after_a_change_is_not_trusted_for_the_same_size(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(tmp_path, monkeypatch)  # the real windows
    path = session(tmp_path)
    # The run begins within a tick of the write: a rewrite after its read could keep every time.
    monkeypatch.setattr(time, "time", lambda: last_change(path) + sampling.FINE / 2)
    report(path)
    assert cached_part(path) is None
    # The report is kept, marked racy: never reused for the file as it is, only continued once it grew
    # (report_cache.continued), whose prefix the sample then checks.
    assert len(entries(tmp_path / "cache", "reports")) == 1
    assert report_cache.lookup(CODEX, path, OPTIONS) is None


def test_an_entry_made_a_moment_after_a_change_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose times have a fraction of a second (this folder's file system: ext4, tmpfs) is judged
    by its clock's tick: a check begun 0.2 s after Codex wrote (a guard right after a turn) keeps the
    session's entries, where a 2 s window had the next run index it again from the first byte."""
    isolate(tmp_path, monkeypatch)
    path = session(tmp_path)
    if path.stat().st_mtime_ns % 1_000_000_000 == 0 or not sampling.fine_clock(path.stat().st_dev):
        pytest.skip("this file system keeps whole seconds, or is not known to stamp from this machine's clock")
    monkeypatch.setattr(time, "time", lambda: last_change(path) + 0.2)
    report(path)
    assert cached_part(path) is not None
    assert len(entries(tmp_path / "cache", "reports")) == 1


def test_times_in_whole_seconds_keep_the_two_second_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(tmp_path, monkeypatch)
    path = session(tmp_path)
    second = int(time.time()) * 1_000_000_000
    os.utime(path, ns=(second, second))  # as ext3, HFS+ or FAT keep it (the ctime is the kernel's own)
    monkeypatch.setattr(time, "time", lambda: second / 1e9 + 0.2)
    report(path)
    assert cached_part(path) is None
    # The report is kept, marked racy: never reused for the file as it is, only continued once it grew
    # (report_cache.continued), whose prefix the sample then checks.
    assert len(entries(tmp_path / "cache", "reports")) == 1
    assert report_cache.lookup(CODEX, path, OPTIONS) is None


FINE_DEV, OTHER_DEV = 7, 8


@pytest.mark.parametrize(("dev", "times", "after", "racy"), [
    (FINE_DEV, (1_700_000_000_000_000_000, 1_700_000_000_000_000_000), 1.5, True),   # whole seconds: 2 s
    (FINE_DEV, (1_700_000_000_000_000_000, 1_700_000_000_000_000_000), 2.5, False),
    (FINE_DEV, (1_700_000_000_123_456_789, 1_700_000_000_000_000_000), 1.5, True),   # either time in whole seconds
    (FINE_DEV, (1_700_000_000_123_456_789, 1_700_000_000_123_456_789), 0.05, True),  # a fraction: one tick, 0.1 s
    (FINE_DEV, (1_700_000_000_123_456_789, 1_700_000_000_123_456_789), 0.5, False),
    (FINE_DEV, (1_700_000_000_123_456_789, 1_700_000_000_123_456_789), -3.0, True),  # changed after the run began
    (OTHER_DEV, (1_700_000_000_123_456_789, 1_700_000_000_123_456_789), 0.5, True),  # NFS, FUSE, unknown: 2 s
    (OTHER_DEV, (1_700_000_000_123_456_789, 1_700_000_000_123_456_789), 2.5, False),
])
def test_the_racy_window_is_a_tick_of_the_files_clock(dev: int, times: tuple[int, int], after: float, racy: bool,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sampling, "_fine_devices", {-1: False, FINE_DEV: True, OTHER_DEV: False})
    mtime, ctime = times
    assert sampling.racy_times(dev, mtime, ctime, max(mtime, ctime) / 1e9 + after) is racy


def test_a_fine_clock_is_a_local_file_system_mountinfo_names() -> None:
    mountinfo = "\n".join([
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard",
        "30 25 0:27 / /dev/shm rw,relatime shared:5 - tmpfs tmpfs rw,size=24684084k",  # an optional field
        "61 27 0:52 / /home rw,relatime - nfs4 server:/home rw,vers=4.2",
        "62 27 0:53 / /mnt/box rw - fuse.sshfs me@box: rw",
        "70 27 8:1 / /data rw - xfs /dev/sda1 rw",
        "71 27 8:1 /sub /srv rw - xfs /dev/sda1 rw",  # the same device again: still fine
        "72 27 8:2 / /old rw - ext3 /dev/sda2 rw",
        "garbage",
    ])
    found = sampling.fine_devices(mountinfo)
    assert found == {os.makedev(254, 0): True, os.makedev(0, 27): True, os.makedev(0, 52): False,
                     os.makedev(0, 53): False, os.makedev(8, 1): True, os.makedev(8, 2): False}
    proc = os.stat("/proc").st_dev if os.path.exists("/proc/self/mountinfo") else -2
    assert not sampling.fine_clock(proc)  # proc is no file system of sessions


@pytest.mark.parametrize("scenario", ["0.171.0-fork", "0.171.0-fork-of-fork", "0.171.0-revert"])
def test_a_fork_is_judged_the_same_with_its_parents_parts_from_their_entries(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario: str) -> None:
    home = copy_thread(tmp_path / "t", scenario)
    monkeypatch.setenv("CODEX_HOME", str(home.path))
    files = home.files
    for _ in range(2):
        for path in files:
            cached, plain = both(path)
            assert cached == plain
    assert len(entries(cache)) == len(files)
    # The root grows after the cut, then is rewritten before it: its forks follow, with the cache too.
    root = files[0]
    with open(root, "ab") as f:
        f.write(TURNS[0])
    assert all(a == b for a, b in (both(p) for p in files))
    data = root.read_bytes()
    at = data.index(b'"call_id":"') + len(b'"call_id":"')
    root.write_bytes(data[:at] + b"Q" + data[at + 1 :])
    assert all(a == b for a, b in (both(p) for p in files))


def test_fix_and_undo_leave_no_entry_that_could_be_used(cache: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = session(tmp_path, turns=1)
    with open(path, "ab") as f:  # a call whose output never came: orphan-call, which fix repairs
        f.write(b"".join(line for line in TURNS[1].splitlines(keepends=True) if b"function_call_output" not in line))
    cached, plain = both(path)
    assert cached == plain and "orphan-call" in rules_of(plain)
    assert entries(cache)
    code, _out, _err = run(capsys, "fix", str(path))
    assert code == 0
    assert entries(cache) == []  # dropped with the write
    cached, plain = both(path)
    assert cached == plain and "orphan-call" not in rules_of(plain)
    code, _out, _err = run(capsys, "undo", str(path))
    assert code == 0
    cached, plain = both(path)
    assert cached == plain and "orphan-call" in rules_of(plain)


# --- the cache file itself ---------------------------------------------------------------------------------

def corrupt(entry: Path, how: str) -> None:
    if entry.is_dir():  # made unreadable already
        return
    data = entry.read_bytes()
    if how == "truncated":
        entry.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        entry.write_bytes(os.urandom(len(data)))
    elif how == "payload byte":
        at = len(cache_files.MAGIC) + 10
        if at < len(data):  # an entry emptied or cut short by an earlier step, not read since: no byte there
            entry.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :])
    elif how == "foreign version":
        code = cache_files.fingerprint().encode()
        entry.write_bytes(data.replace(code, b"f" * len(code)))  # (an entry cut short before has none)
    elif how == "empty":
        entry.write_bytes(b"")
    elif how == "unreadable":
        entry.unlink()
        entry.mkdir()  # a folder where the entry was: open() fails, whoever runs the tests
    else:
        raise AssertionError(how)


CORRUPTIONS = ["truncated", "garbage", "payload byte", "foreign version", "empty", "unreadable"]


@pytest.mark.parametrize("how", CORRUPTIONS)
@pytest.mark.parametrize("kind", ["index", "reports"])
def test_a_corrupt_entry_is_ignored_and_rebuilt(cache: Path, tmp_path: Path, how: str, kind: str) -> None:
    path = session(tmp_path)
    expected = both(path)[1]
    assert entries(cache, kind)
    for entry in entries(cache, kind):
        if how == "foreign version":
            assert cache_files.fingerprint().encode() in entry.read_bytes()
        corrupt(entry, how)
    with open(path, "ab") as f:
        f.write(TURNS[0])
    cached, plain = both(path)
    assert cached == plain
    assert both(path)[0] == plain and expected != plain


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_a_corrupt_cache_never_gives_a_traceback_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str], how: str) -> None:
    isolate(tmp_path, monkeypatch)
    path = session(tmp_path)
    code, before, _ = run(capsys, "check", "--format", "json", str(path))
    # Entries written now: the real RACY makes the report entry wait, so write one as if later.
    monkeypatch.setattr(sampling, "RACY", 0.0)
    report(path)
    for entry in entries(tmp_path / "cache") + entries(tmp_path / "cache", "reports"):
        corrupt(entry, how)
    again, after, err = run(capsys, "check", "--format", "json", str(path))
    assert (again, after) == (code, before)
    assert "Traceback" not in err and err == ""


def test_a_cache_folder_others_can_write_to_is_not_read(cache: Path, tmp_path: Path) -> None:
    path = session(tmp_path)
    both(path)
    os.chmod(cache / "index", 0o777)
    cache_files._checked.clear()
    assert cached_part(path) is None
    os.chmod(cache / "index", 0o700)
    cache_files._checked.clear()


def test_concurrent_runs_leave_whole_entries(cache: Path, tmp_path: Path) -> None:
    import multiprocessing

    path = session(tmp_path, turns=8)
    settle()
    context = multiprocessing.get_context("fork")
    with context.Pool(4) as pool:
        results = pool.map(_report_in_worker, [str(path)] * 16)
    with no_cache():
        plain = report(path)
    assert set(results) == {plain}
    assert [p.name for p in (cache / "index").iterdir() if p.name.endswith(".tmp")] == []
    assert both(path)[0] == plain


def _report_in_worker(path: str) -> bytes:
    return report(Path(path))


# --- size and pruning --------------------------------------------------------------------------------------

def test_entries_are_a_small_fraction_of_the_session(cache: Path, tmp_path: Path) -> None:
    path = session(tmp_path, turns=200)
    both(path)
    used = sum(p.stat().st_size for p in entries(cache))
    assert used < path.stat().st_size * 0.10, (used, path.stat().st_size)


def test_pruning_removes_entries_of_files_gone_old_ones_and_the_least_recently_used(cache: Path, tmp_path: Path) -> None:
    for name in ("kept", "gone", "old"):
        (tmp_path / name).mkdir()
    kept, gone, old = (session(tmp_path / name) for name in ("kept", "gone", "old"))
    for path in (kept, gone, old):
        both(path)
    gone.unlink()
    old_entry = next(e for e in entries(cache) if _source(e) == os.path.realpath(old))
    long_ago = time.time() - cache_files.MAX_AGE - 10
    os.utime(old_entry, (long_ago, long_ago))
    removed = cache_files.prune(cache)
    left = {_source(e) for e in entries(cache)}
    assert left == {os.path.realpath(kept)}
    assert old_entry in removed
    cache_files.prune(cache, max_bytes=0)
    assert entries(cache) == [] and entries(cache, "reports") == []


def _source(entry: Path) -> str:
    import marshal

    data = entry.read_bytes()
    return marshal.loads(data[len(data) - 4 - int.from_bytes(data[-4:], "little") : -4])["path"]


# --- the command line --------------------------------------------------------------------------------------

def test_cache_dir_and_no_cache_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    isolate(tmp_path, monkeypatch)
    path = session(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("ROLLOUT_DOCTOR_CACHE_DIR", str(elsewhere))
    code, out, _ = run(capsys, "check", "--format", "json", "--no-cache", str(path))
    assert not elsewhere.exists()
    monkeypatch.setenv("ROLLOUT_DOCTOR_NO_CACHE", "")  # what --no-cache set for the process, undone
    for command in (["check", "--format", "json"], ["list", "--format", "json"]):
        again, out2, _ = run(capsys, *command, str(path))
        assert again == code
    assert (out2 and out) and len(list((elsewhere / "index").iterdir())) == 1
    code, _, _ = run(capsys, "fix", "--no-cache", "--dry-run", str(path))
    assert code in (0, 1)


@pytest.mark.parametrize("command", [["check"], ["fix", "--dry-run"], ["list"], ["guard", REAL.name[-42:-6]]])
def test_no_cache_is_taken_by_every_reading_command_and_both_parsers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     command: list[str]) -> None:
    import subprocess
    import sys

    home = isolate(tmp_path, monkeypatch)
    folder = home / "sessions" / "2026" / "11" / "29"
    folder.mkdir(parents=True)
    path = session(folder)
    for argv in ([*command, "--no-cache"], [*command, "--no-cache", "--format", "json"] if command[0] != "guard"
                 else [*command, "--no-cache", "--quiet"]):
        if command[0] == "guard":
            args = argv
        else:
            args = [*argv, str(path)]
        proc = subprocess.run([sys.executable, "-m", "rollout_doctor", *args], capture_output=True, text=True,
                              env={**os.environ, "NO_COLOR": "1"}, check=False)
        assert proc.returncode in (0, 1, 4), proc.stderr
        assert "Traceback" not in proc.stderr and "no such option" not in proc.stderr.lower()
    assert not (tmp_path / "cache").exists()


# --- the property ------------------------------------------------------------------------------------------

step = st.one_of(
    st.tuples(st.just("append"), st.integers(0, len(TURNS) - 1), st.integers(1, 3)),
    st.tuples(st.just("torn append"), st.integers(0, len(TURNS) - 1), st.floats(0.05, 0.95)),
    st.tuples(st.just("rewrite same size"), st.floats(0, 1), st.integers(0, 255)),
    st.tuples(st.just("rewrite other size"), st.floats(0, 1), st.integers(-40, 40)),
    st.tuples(st.just("truncate"), st.floats(0, 1), st.booleans()),
    st.tuples(st.just("touch"), st.just(0), st.just(0)),
    st.tuples(st.just("replace"), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("corrupt"), st.sampled_from(CORRUPTIONS), st.sampled_from(["index", "reports"])),
)


def apply(path: Path, cache: Path, action: str, a: object, b: object) -> None:
    data = path.read_bytes()
    if action == "append":
        with open(path, "ab") as f:
            f.write(b"".join(TURNS[(a + n) % len(TURNS)] for n in range(b)))  # type: ignore[operator]
    elif action == "torn append":
        turn = TURNS[a]  # type: ignore[index]
        with open(path, "ab") as f:
            f.write(turn[: max(1, int(len(turn) * b))])  # type: ignore[operator]
    elif action == "rewrite same size" and data:
        at = int(a * (len(data) - 1))  # type: ignore[operator]
        with open(path, "r+b") as f:
            f.seek(at)
            f.write(bytes([b]))  # type: ignore[list-item]
    elif action == "rewrite other size":
        at = int(a * len(data))  # type: ignore[operator]
        piece = b'{"type":"event_msg","payload":{"type":"token_count"}}\n' if b >= 0 else b""  # type: ignore[operator]
        cut = at + (-b if b < 0 else 0)  # type: ignore[operator]
        with open(path, "r+b") as f:  # in place: the inode stays
            f.write(data[:at] + piece + data[cut:])
            f.truncate()
    elif action == "truncate":
        keep = int(a * len(data))  # type: ignore[operator]
        if b:  # to a line boundary, as a tool cutting a session short would
            keep = data.rfind(b"\n", 0, keep) + 1
        with open(path, "r+b") as f:
            f.truncate(keep)
    elif action == "touch":
        st_ = path.stat()
        os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns + 1_000_000_000))
    elif action == "replace":
        tmp = path.with_name("new")
        cut = int(a * len(data))  # type: ignore[operator]
        tmp.write_bytes(data[:cut] + b"\n" + data[cut:])
        os.replace(tmp, path)
    elif action == "corrupt":
        for entry in entries(cache, b):  # type: ignore[arg-type]
            corrupt(entry, a)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=8), start=st.integers(1, 6))
# A report reused whole never reads the index entry, so an entry emptied stays empty for the next step.
@example(steps=[("corrupt", "empty", "index"), ("corrupt", "payload byte", "index")], start=1)
# A file emptied and replaced by a blank line, then a turn appended: the report of a file with no header
# must not be continued (formats/codex/continuation.py; its first record is what was appended).
@example(steps=[("truncate", 0.0, False), ("replace", 0.0, 0), ("append", 0, 1)], start=1)
def test_the_report_with_the_cache_is_the_report_without_it(cache: Path, tmp_path: Path,
                                                            steps: list[tuple[str, object, object]], start: int) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    shutil.rmtree(cache, ignore_errors=True)
    cache_files._checked.clear()
    path = session(folder, turns=start)
    cached, plain = both(path)
    assert cached == plain
    for action, a, b in steps:
        apply(path, cache, action, a, b)
        cached, plain = both(path)
        assert cached == plain, (action, a, b)


# --- replaying a whole run (cli/run_cache.py) --------------------------------------------------------------

@pytest.fixture
def home_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Codex home with three sessions, old enough for the run cache (its real RACY, waited out once)."""
    home = isolate(tmp_path, monkeypatch)
    folder = home / "sessions" / "2026" / "11" / "29"
    folder.mkdir(parents=True)
    for n in range(3):
        (folder / REAL.name.replace("01a22604", f"01a2260{n}")).write_bytes(HEADER + b"".join(TURNS[: n + 1]))
    (home / "config.toml").write_text('model_provider = "openai"\n')
    time.sleep(sampling.RACY + 0.1)
    return home


def check_process(*args: str) -> tuple[int, bytes, bytes]:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "rollout_doctor", "check", *args], capture_output=True,
                          env={**os.environ, "NO_COLOR": "1"}, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def runs(home_run: Path) -> list[Path]:
    """The run entries (without the reports kept beside them)."""
    return [p for p in entries(home_run.parent / "cache", "runs") if not p.name.endswith(".reports")]


@pytest.mark.parametrize("change", ["nothing", "appended", "touched", "new file", "removed", "config", "environment",
                                    "corrupt entry", "held open"])
def test_a_run_is_replayed_only_when_nothing_it_read_changed(home_run: Path, change: str) -> None:
    sessions = str(home_run / "sessions")
    first = check_process("--format", "json", sessions)
    assert first[0] in (0, 1) and len(runs(home_run)) == 1
    files = sorted((home_run / "sessions").rglob("*.jsonl"))
    holder = None
    env_extra: dict[str, str] = {}
    if change == "appended":
        with open(files[0], "ab") as f:
            f.write(TURNS[1])
    elif change == "touched":
        os.utime(files[1], (time.time(), time.time()))
    elif change == "new file":
        (files[0].parent / files[0].name.replace("01a22600", "01a22609")).write_bytes(HEADER)
    elif change == "removed":
        files[2].unlink()
    elif change == "config":
        (home_run / "config.toml").write_text('model_provider = "local"\n[model_providers.local]\nwire_api = "chat"\n')
    elif change == "environment":
        env_extra = {"COLUMNS": "61"}
    elif change == "corrupt entry":
        for entry in runs(home_run):
            entry.write_bytes(entry.read_bytes()[:-7])
    elif change == "held open":
        holder = open(files[0], "ab")  # noqa: SIM115 - a writer that stays, as a running Codex's does
    try:
        saved = {k: os.environ.get(k) for k in env_extra}
        os.environ.update(env_extra)
        try:
            again = check_process("--format", "json", sessions)
        finally:
            for k, v in saved.items():
                os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
        with no_cache():
            plain = check_process("--format", "json", sessions)
    finally:
        if holder is not None:
            holder.close()
    assert again == plain, change
    assert "Traceback" not in again[2].decode()
    if change == "nothing":
        assert again == first
    elif change == "held open":
        assert orjson.loads(again[1])["summary"]["in_progress"] == 1


def test_a_replayed_run_is_the_run_without_the_engine(home_run: Path) -> None:
    """The output is the bytes the run printed, exit code and all, text or JSON, and the format's rules
    are not even imported."""
    sessions = str(home_run / "sessions")
    for args in (["--format", "json", sessions], [sessions], ["--statistics", sessions]):
        first = check_process(*args)
        assert first[1]
        again = check_process(*args)
        assert again == first
        traced = check_process_importtime(*args)
        assert (traced[0], traced[1]) == first[:2]
        assert b"rollout_doctor.core.run_cache" not in traced[2]
        assert b"rollout_doctor.cli.run_cache" in traced[2] and b"rollout_doctor.formats.codex" not in traced[2]
        # Nor what costs milliseconds of a replay that should cost little more than Python's start-up
        # (cli/main.py, core/cache_place.py, core/blake.py): what is imported once rollout_doctor is.
        ours = imported_after(traced[2], "rollout_doctor")
        assert "rollout_doctor.cli.main" in ours
        assert not ours & {"typing", "pathlib", "hashlib", "_hashlib", "platformdirs", "re", "argparse"}, ours
    assert len(runs(home_run)) == 3


def test_a_re_check_samples_each_file_once(home_run: Path, capfd: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """After a session grew, the replay fails at it, each other file's report is looked up and the run is
    recorded again: each file's sample is read once (sampling.remembered), where each unchanged file was
    read at its look-up and again for the record. Outside a command, a sample is always read again."""
    from rollout_doctor.cli.main import main  # the console script's, with the replay and the fast path

    def check(*args: str) -> tuple[int, str]:
        code = main(["check", *args])
        return code, capfd.readouterr().out

    sessions = str(home_run / "sessions")
    assert check("--format", "json", sessions)[0] in (0, 1)
    assert len(runs(home_run)) == 1
    files = sorted((home_run / "sessions").rglob("*.jsonl"))
    with open(files[1], "ab") as f:
        f.write(TURNS[1])
    time.sleep(sampling.RACY + 0.1)  # past the window: the run is recorded, every file walked
    taken: Counter[tuple[int, ...]] = Counter()
    read = sampling.sample_digest

    def counted(fd: int, end: int) -> bytes:
        taken[(*sampling.identity(os.fstat(fd)), end)] += 1
        return read(fd, end)

    monkeypatch.setattr(sampling, "sample_digest", counted)
    cached = check("--format", "json", sessions)
    assert runs(home_run)[0].stat().st_mtime > files[1].stat().st_mtime  # recorded: every file walked again
    with no_cache():
        assert cached == check("--format", "json", sessions)
    sampled = {key[:2] for key in taken}
    assert sampled == {(os.stat(p).st_dev, os.stat(p).st_ino) for p in files}
    assert max(taken.values()) == 1, taken
    assert sampling._taken is None  # the memory ends with the command
    with open(files[0], "rb") as f:
        sampling.sample_of(f.fileno(), os.fstat(f.fileno()), 10)
        sampling.sample_of(f.fileno(), os.fstat(f.fileno()), 10)
    assert taken[(*sampling.identity(files[0].stat()), 10)] == 2


@pytest.mark.parametrize("form", [["--format", "json"], [], ["--statistics"], ["--format", "full"]])
def test_a_run_whose_sessions_grew_is_continued_from_the_reports_it_kept(
        home_run: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, form: list[str]) -> None:
    """Everything as the last run saw it but for sessions that grew: the reports of the others are the
    run's, the grown ones are checked (one continued over a clean turn, one whose new turn repeats call
    ids and is checked whole), and what is printed is what a run without any cache prints."""
    from rollout_doctor.cli.commands import check as check_command
    from rollout_doctor.cli.main import main

    sessions = str(home_run / "sessions")

    def check() -> tuple[int, str]:
        code = main(["check", *form, sessions])
        return code, capfd.readouterr().out

    looked_for: list[object] = []
    real_find = check_command.find_rollouts
    monkeypatch.setattr(check_command, "find_rollouts", lambda *a, **k: looked_for.append(a) or real_find(*a, **k))
    first = check()
    assert len(runs(home_run)) == 1 and looked_for
    files = sorted((home_run / "sessions").rglob("*.jsonl"))
    for n, path in enumerate(files[:2]):
        turn = TURNS[2] if n == 0 else TURNS[0]  # file 0 holds turns 0 (and 1): turn 2 is new, turn 0 a repeat
        with open(path, "ab") as f:
            f.write(turn.replace(b"call_", b"call_grown_") if n == 0 else turn)
    for round in range(2):  # the racy run after an append is not recorded: the next continues the same entry
        looked_for.clear()
        again = check()
        assert looked_for == [], "the files were looked for again: the run was not continued"
        with no_cache():
            plain = check()
        assert again == plain, (form, round)
        with open(files[0], "ab") as f:
            f.write(TURNS[1].replace(b"call_", b"call_more_"))
    if form == ["--format", "json"]:
        def problems(out: str) -> dict[str, list[tuple[str, int]]]:
            return {Path(f["path"]).name: [(d["rule"], d["line"]) for d in f["diagnostics"]]
                    for f in orjson.loads(out)["files"]}

        before, after = problems(first[1]), problems(again[1])
        assert after[files[1].name] != before[files[1].name]  # the repeated turn was judged
        assert after[files[2].name] == before[files[2].name]


@pytest.mark.parametrize("change", ["new file", "kept reports torn", "kept reports gone", "config"])
def test_a_grown_run_is_done_in_full_when_anything_else_changed(home_run: Path, capfd: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    from rollout_doctor.cli.commands import check as check_command
    from rollout_doctor.cli.main import main

    sessions = str(home_run / "sessions")

    def check() -> tuple[int, str]:
        code = main(["check", "--format", "json", sessions])
        return code, capfd.readouterr().out

    check()
    files = sorted((home_run / "sessions").rglob("*.jsonl"))
    with open(files[0], "ab") as f:
        f.write(TURNS[2].replace(b"call_", b"call_grown_"))
    kept = [p for p in entries(home_run.parent / "cache", "runs") if p.name.endswith(".reports")]
    assert len(kept) == 1
    if change == "new file":
        (files[0].parent / files[0].name.replace("01a22600", "01a22609")).write_bytes(HEADER)
    elif change == "kept reports torn":
        kept[0].write_bytes(kept[0].read_bytes()[:-9])
    elif change == "kept reports gone":
        kept[0].unlink()
    elif change == "config":
        (home_run / "config.toml").write_text('model_provider = "local"\n[model_providers.local]\nwire_api = "chat"\n')
    looked_for: list[object] = []
    real_find = check_command.find_rollouts
    monkeypatch.setattr(check_command, "find_rollouts", lambda *a, **k: looked_for.append(a) or real_find(*a, **k))
    again = check()
    assert looked_for, "continued from a run whose files, inputs or reports are not all there"
    with no_cache():
        assert again == check()


def test_a_grown_session_a_client_took_since_the_run_is_in_progress(home_run: Path) -> None:
    """A Codex that took the thread's writer lock after the run (0.169.0 flock-s
    <home>/thread-writer-locks/<thread>.lock) and appended: the continued run says the session is in
    progress, as a full run does, though the lock was not among those the run saw."""
    from tests.support.safety import holding

    sessions = str(home_run / "sessions")
    first = check_process("--format", "json", sessions)
    assert first[0] in (0, 1) and len(runs(home_run)) == 1
    files = sorted((home_run / "sessions").rglob("*.jsonl"))
    lock = home_run / "thread-writer-locks" / f"{files[0].name.removesuffix('.jsonl')[-36:]}.lock"
    lock.parent.mkdir()
    lock.touch()
    with holding(lock, "read", lock=True) as holder:
        with open(files[0], "ab") as f:
            f.write(TURNS[2].replace(b"call_", b"call_grown_"))
        again = check_process("--format", "json", sessions)
        with no_cache():
            plain = check_process("--format", "json", sessions)
        holder.finish()
    assert again == plain
    assert orjson.loads(again[1])["summary"]["in_progress"] == 1


grow = st.tuples(st.just("append"), st.integers(0, len(TURNS) - 1), st.integers(1, 2))
run_step = st.one_of(
    st.tuples(step, st.integers(0, 2)),  # to one of the three sessions
    st.tuples(grow, st.integers(0, 2)),  # sessions growing, the case a run is continued in, more often
    st.tuples(grow, st.integers(0, 2)),
    st.tuples(st.tuples(st.just("corrupt"), st.sampled_from(CORRUPTIONS), st.just("runs")), st.just(0)),
    st.tuples(st.tuples(st.just("new session"), st.just(0), st.just(0)), st.just(0)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(run_step, min_size=1, max_size=6))
def test_a_run_with_the_cache_prints_what_a_run_without_it_prints(cache: Path, tmp_path: Path,
                                                                  capfd: pytest.CaptureFixture[str],
                                                                  steps: list[tuple[tuple[str, object, object], int]]) -> None:
    """The property at the level of a whole run (cli/run_cache.py: replayed, continued from the reports it
    kept, or done again), after random changes to a home's sessions and to the cache, each change older
    than the racy window when the next run starts so that runs are recorded."""
    from rollout_doctor.cli.main import main

    folder = Path(tempfile.mkdtemp(dir=tmp_path)) / "sessions"
    folder.mkdir()
    shutil.rmtree(cache, ignore_errors=True)
    cache_files._checked.clear()
    paths = []
    for n in range(3):
        paths.append(folder / REAL.name.replace("01a22604", f"01a2260{n}"))
        paths[-1].write_bytes(HEADER + b"".join(TURNS[: n + 1]))

    def check() -> tuple[int, str]:
        time.sleep(RACY + 0.02)
        code = main(["check", "--format", "json", str(folder)])
        return code, capfd.readouterr().out

    def plain() -> tuple[int, str]:
        with no_cache():
            return check()

    assert check() == plain()
    for (action, a, b), n in steps:
        if action == "new session":
            (folder / REAL.name.replace("01a22604", f"01a226{len(paths)}9")).write_bytes(HEADER + TURNS[0])
            continue
        apply(paths[n], cache, action, a, b)
        first = check()
        assert first == plain(), (action, a, b, n)
        assert check() == first  # and once more: replayed, or continued from what the last run kept


def imported_after(importtime: bytes, first: str) -> set[str]:
    """The modules ``python -X importtime`` shows imported from ``first`` on (site's own imports, the
    editable install's finder among them, come before)."""
    names = [line.rsplit(b"|", 1)[1].strip().decode() for line in importtime.splitlines()
             if line.startswith(b"import time:") and line.count(b"|") == 2]
    return set(names[names.index(first):]) if first in names else set()


def check_process_importtime(*args: str) -> tuple[int, bytes, bytes]:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "rollout_doctor", "check", *args],
                          capture_output=True, env={**os.environ, "NO_COLOR": "1"}, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def test_a_session_id_or_no_cache_is_never_replayed(home_run: Path) -> None:
    check_process("--no-cache", str(home_run / "sessions"))
    check_process("01a22600")
    assert runs(home_run) == []


def test_a_run_of_the_default_folders_is_done_again_when_one_appears(home_run: Path) -> None:
    first = check_process("--format", "json")
    assert first[0] in (0, 1) and len(runs(home_run)) == 1
    archived = home_run / "archived_sessions"
    archived.mkdir()
    (archived / REAL.name.replace("01a22604", "01a22608")).write_bytes(HEADER + TURNS[0])
    again = check_process("--format", "json")
    with no_cache():
        plain = check_process("--format", "json")
    assert again == plain and again != first
    assert len(orjson.loads(again[1])["files"]) == 4


def test_what_a_grown_file_added_is_appended_to_its_entry_until_it_is_written_whole(cache: Path, tmp_path: Path) -> None:
    path = session(tmp_path, turns=1)
    both(path)
    counts = []
    for n in range(index_cache.MAX_CHUNKS + 2):
        with open(path, "ab") as f:
            f.write(TURNS[n % len(TURNS)])
        cached, plain = both(path)
        assert cached == plain
        found = cache_files.read("index", entries(cache)[0].name)
        assert found is not None
        counts.append(len(found[1]))
    assert counts == [*range(2, index_cache.MAX_CHUNKS + 1), 1, 2, 3]


def test_two_runs_appending_at_once_leave_no_entry_that_is_used(cache: Path, tmp_path: Path) -> None:
    path = session(tmp_path, turns=1)
    both(path)
    with open(path, "ab") as f:
        f.write(TURNS[1])
    name = entries(cache)[0].name
    header, _values, length = cache_files.read("index", name)  # type: ignore[misc]
    chunks = [tuple(c) for c in header["chunks"]]
    both(path)  # one run appends...
    # ...and another, which read the entry before, appends its own chunk as if it were alone.
    cache_files.append("index", name, length, chunks, header, cache_files.pickled("x"))
    entry = cache / "index" / name
    with open(entry, "ab") as f:
        f.write(cache_files.pickled("x"))  # (the size check stopped it: force the interleaving)
    assert cached_part(path) is None
    with open(path, "ab") as f:
        f.write(TURNS[2])
    cached, plain = both(path)
    assert cached == plain
