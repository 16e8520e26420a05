"""The fast indexing path is weighed against everything a process will index, not one file's size
(issue 14): a folder of many small rollouts that add up takes it, a lone small file does not (the
pre-resume `check FILE` stays as quick to start as before). Run in fresh processes: the test process
itself has the fast path loaded (conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rollout_doctor.formats.codex.indexing import FAST_PATH_BYTES

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
PROBE = """
import sys
from pathlib import Path
from rollout_doctor.core.parallel import check_files
from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex import indexing
from rollout_doctor.formats.codex.format import CODEX
files = [(Path(p), CODEX) for p in sys.argv[2:]]
reports = list(check_files(files, Options(), jobs=int(sys.argv[1])))
assert all(r.error is None for r in reports), [r.error for r in reports]
print("fast" if indexing._fast is not None else "reference")
"""


def rollouts(folder: Path, count: int, each: int) -> list[str]:
    """``count`` copies of a real 0.169.0 rollout, each grown to about ``each`` bytes with more turns."""
    source = next((REAL / "0.169.0-responses-sequential-calls").glob("rollout-*.jsonl")).read_bytes()
    head, turns = source.split(b"\n", 1)
    body = turns * max(1, each // len(turns))
    paths = []
    for n in range(count):
        path = folder / f"rollout-2026-11-21T15-00-{n:02d}-01a1fe9f-a77d-73a0-8783-df8d370338{n:02d}.jsonl"
        path.write_bytes(head + b"\n" + body)
        paths.append(str(path))
    return paths


def probe(jobs: int, paths: list[str]) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, str(jobs), *paths], capture_output=True, text=True,
                          check=True, timeout=300)
    return done.stdout.strip()


@pytest.mark.parametrize("jobs", [1, 2], ids=["one process", "a pool"])
def test_small_files_that_add_up_take_the_fast_path(tmp_path: Path, jobs: int) -> None:
    each = FAST_PATH_BYTES // 3
    assert probe(jobs, rollouts(tmp_path, 4, each)) == "fast"


def test_a_small_file_alone_is_read_with_the_reference(tmp_path: Path) -> None:
    assert probe(1, rollouts(tmp_path, 1, 1 << 20)) == "reference"


FIX_PROBE = """
import sys
from pathlib import Path
from rollout_doctor.core.fixer import fix_files
from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex import indexing
from rollout_doctor.formats.codex.format import CODEX
reports = list(fix_files(CODEX, [Path(p) for p in sys.argv[1:]], Options(), dry_run=True))
assert all(r.error is None for r in reports), [r.error for r in reports]
print("fast" if indexing._fast is not None else "reference")
"""


@pytest.mark.parametrize(("count", "each", "expected"), [(4, FAST_PATH_BYTES // 3, "fast"), (1, 1 << 20, "reference")],
                         ids=["a folder that adds up", "one small session"])
def test_fix_weighs_the_fast_path_the_same_way(tmp_path: Path, count: int, each: int, expected: str) -> None:
    paths = rollouts(tmp_path, count, each)
    done = subprocess.run([sys.executable, "-c", FIX_PROBE, *paths], capture_output=True, text=True, check=True,
                          timeout=300)
    assert done.stdout.strip() == expected


def test_a_grown_file_weighs_only_what_it_added(tmp_path: Path) -> None:
    """A rollout over the threshold takes the fast path when first read; once its index is cached, the
    few KB a new turn appends are read with the reference alone (loading msgspec and simdjson would
    cost more than the whole re-check of them), and the report is the one a cold read gives."""
    (path,) = rollouts(tmp_path, 1, FAST_PATH_BYTES + (1 << 20))
    env = {**os.environ, "ROLLOUT_DOCTOR_CACHE_DIR": str(tmp_path / "cache")}
    report = PROBE.replace('print("fast"',
                           'print(repr(reports[0].diagnostics), file=sys.stderr)\nprint("fast"')

    def run(*extra: str) -> tuple[str, str]:
        done = subprocess.run([sys.executable, "-c", report, "1", path], capture_output=True, text=True,
                              check=True, timeout=300, env={**env, **dict(e.split("=", 1) for e in extra)})
        return done.stdout.strip(), done.stderr

    assert run()[0] == "fast"  # cold: every byte is read
    source = Path(path).read_bytes()
    turn = source.split(b"\n", 1)[1][:64 << 10]
    Path(path).write_bytes(source + turn[: turn.rindex(b"\n") + 1])
    grown, findings = run()
    assert grown == "reference"
    assert findings == run("ROLLOUT_DOCTOR_NO_CACHE=1")[1]
