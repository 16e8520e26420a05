"""Where the memory of one ``fix`` goes: the resident memory (now and its high-water mark) as each stage
of bench/fix_stages.py begins and ends, from /proc/self/status (Linux).

    ROLLOUT_DOCTOR_NO_CACHE=1 ROLLOUT_DOCTOR_HOME=/tmp/state python bench/fix_memory.py fix COPY.jsonl

Runs the command in this process, as fix_stages.py does, with the same wrappers printing instead of
timing (stages nest; a stage run on a thread, the backup's copy, prints where it runs). Fix a copy:
the file is rewritten. The installed command's own peak is the benchmark's (``--only fix``).
"""

from __future__ import annotations

import atexit
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fix_stages

EXTRA = [
    ("rollout_doctor.store.staging", "copy_ahead"),  # the backup, copied and hashed on a thread
    ("rollout_doctor.core.planned", "compose"),
    ("rollout_doctor.core.derived", "_hand_over"),  # the new records table: a pass's peak
]
_depth = [0]


def resident() -> str:
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) // 1024
    return f"rss {found['VmRSS']} MiB, high-water {found['VmHWM']} MiB"


def traced(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        print(f"{'  ' * _depth[0]}> {name}: {resident()}", file=sys.stderr)
        _depth[0] += 1
        try:
            return f(*args, **kwargs)
        finally:
            _depth[0] -= 1
            print(f"{'  ' * _depth[0]}< {name}: {resident()}", file=sys.stderr)
    return wrapper


def main() -> None:
    # Spans.ensure runs once a window of lines: too many to print.
    fix_stages.STAGES[:] = [stage for stage in fix_stages.STAGES if stage[1] != "Spans.ensure"] + EXTRA
    fix_stages.timed = traced
    fix_stages.install()
    atexit.register(lambda: print(f"at exit: {resident()}", file=sys.stderr))
    from rollout_doctor.cli.main import main as cli

    sys.argv = ["rollout-doctor", *sys.argv[1:]]
    cli()


if __name__ == "__main__":
    main()
