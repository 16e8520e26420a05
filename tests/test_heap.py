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
