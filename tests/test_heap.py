"""core/heap.py: glibc's mmap threshold is fixed for a huge file only, once, and never raises."""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

import pytest

from rollout_doctor.core import heap


class FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def every_call_kind() -> tuple[object, object]:
    """orphan-call's every-call-kind case (paginated) and its options: a fix of several passes."""
    from rollout_doctor.formats.codex.rules import REGISTRY
    from tests.support.case_files import load_all
    from tests.support.case_run import options_of

    case = next(c for c in load_all([r.name for r in REGISTRY.rules])
                if c.rule == "orphan-call" and c.name == "every-call-kind")
    return case, options_of(case)


def case_options() -> object:
    return every_call_kind()[1]


def fixed_case(tmp_path: Path) -> Path:
    """The case written under ``tmp_path`` and fixed (asserted written); its path."""
    from rollout_doctor.formats.codex import fix_file
    from tests.support.rollouts import rollout_name

    case, options = every_call_kind()
    path = tmp_path / rollout_name(case, "paginated")  # type: ignore[arg-type]
    path.write_bytes(case.input("paginated"))  # type: ignore[attr-defined]
    assert fix_file(path, options).written  # type: ignore[arg-type]
    return path


def test_the_threshold_is_fixed_once_and_only_for_a_huge_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    libc = FakeLibc()
    monkeypatch.setattr(ctypes, "CDLL", lambda _name: libc)
    monkeypatch.setattr(heap, "_fixed", False)
    small, huge = tmp_path / "small.jsonl", tmp_path / "huge.jsonl"
    small.write_bytes(b"{}\n")
    with open(huge, "wb") as f:
        os.truncate(f.fileno(), heap.HUGE)  # sparse: no disk is used
    heap.lean_for(small)
    heap.lean_for(tmp_path / "gone.jsonl")
    assert libc.calls == []
    heap.lean_for(huge)
    heap.lean_for(huge)
    assert libc.calls == [(-3, 128 << 10)]


def test_a_libc_without_mallopt_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ctypes, "CDLL", lambda _name: object())
    monkeypatch.setattr(heap, "_fixed", False)
    huge = tmp_path / "huge.jsonl"
    with open(huge, "wb") as f:
        os.truncate(f.fileno(), heap.HUGE)
    heap.lean_for(huge)  # no AttributeError escapes


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_huge_fix_fixes_the_threshold_once_its_original_is_indexed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not before: the index's block buffers would each pay page faults (half a second of a 1 GB fix)."""
    from rollout_doctor.core import fixer
    from rollout_doctor.formats.codex import check_file

    events: list[str] = []

    class Recorded(FakeLibc):
        def mallopt(self, param: int, value: int) -> int:
            events.append("mallopt")
            return super().mallopt(param, value)

    libc = Recorded()
    monkeypatch.setattr(ctypes, "CDLL", lambda _name: libc)
    monkeypatch.setattr(heap, "_fixed", False)
    monkeypatch.setattr(heap, "HUGE", 1)  # the case file is "huge"
    indexed = fixer.read_model

    def read_model(*args: object, **kwargs: object) -> object:
        events.append("indexed")
        return indexed(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fixer, "read_model", read_model)
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    path = fixed_case(tmp_path)
    assert events.count("mallopt") == 1 and events.index("mallopt") > 0 and events[-1] == "mallopt", events
    assert libc.calls == [(-3, 128 << 10)]
    assert check_file(path, case_options()).diagnostics == []


class TrimmingLibc(FakeLibc):
    def __init__(self) -> None:
        super().__init__()
        self.trims = 0

    def malloc_trim(self, pad: int) -> int:
        assert pad == 0
        self.trims += 1
        return 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_indexing_a_huge_file_trims_the_heap_every_so_many_bytes(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    libc = TrimmingLibc()
    monkeypatch.setattr(ctypes, "CDLL", lambda _name: libc)
    small, huge = tmp_path / "small.jsonl", tmp_path / "huge.jsonl"
    small.write_bytes(b"{}\n")
    with open(huge, "wb") as f:
        os.truncate(f.fileno(), heap.HUGE)
    assert heap.trimming_for(small) is None
    assert heap.trimming_for(tmp_path / "gone.jsonl") is None
    trimming = heap.trimming_for(huge)
    assert trimming is not None
    for _block in range(5):
        trimming(heap.TRIM_EVERY // 2)  # a trim after every second block
    assert libc.trims == 2
    trimming.done()
    assert libc.trims == 3


def test_no_trimming_without_malloc_trim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ctypes, "CDLL", lambda _name: FakeLibc())  # musl, say: no malloc_trim
    huge = tmp_path / "huge.jsonl"
    with open(huge, "wb") as f:
        os.truncate(f.fileno(), heap.HUGE)
    assert heap.trimming_for(huge) is None
    monkeypatch.setattr(heap, "_fixed", True)
    heap.give_back()  # no AttributeError escapes


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_a_huge_fix_gives_the_heap_back_while_it_indexes_and_between_passes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rollout_doctor.formats.codex import check_file

    libc = TrimmingLibc()
    monkeypatch.setattr(ctypes, "CDLL", lambda _name: libc)
    monkeypatch.setattr(heap, "_fixed", False)
    monkeypatch.setattr(heap, "HUGE", 1)
    monkeypatch.setattr(heap, "TRIM_EVERY", 1)  # a trim after every block
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    path = fixed_case(tmp_path)
    # one while indexing (the case is one block), one at its end, and before and after each pass
    assert libc.trims >= 4, libc.trims
    assert check_file(path, case_options()).diagnostics == []
    monkeypatch.setattr(heap, "HUGE", 1 << 40)
    before = libc.trims
    monkeypatch.setattr(heap, "_fixed", False)
    fixed_case(tmp_path)
    assert libc.trims == before  # an ordinary file is never trimmed
