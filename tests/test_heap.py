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
    from rollout_doctor.formats.codex import check_file, fix_file
    from rollout_doctor.formats.codex.rules import REGISTRY
    from tests.support.case_files import load_all
    from tests.support.case_run import options_of
    from tests.support.rollouts import rollout_name

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
    case = next(c for c in load_all([r.name for r in REGISTRY.rules])
                if c.rule == "orphan-call" and c.name == "every-call-kind")
    path = tmp_path / rollout_name(case, "paginated")
    path.write_bytes(case.input("paginated"))
    assert fix_file(path, options_of(case)).written
    assert events.count("mallopt") == 1 and events.index("mallopt") > 0 and events[-1] == "mallopt", events
    assert libc.calls == [(-3, 128 << 10)]
    assert check_file(path, options_of(case)).diagnostics == []
