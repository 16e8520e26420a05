"""Where the time of one ``fix`` goes: the wall time of each stage, by wrappers around the functions.

    ROLLOUT_DOCTOR_NO_CACHE=1 ROLLOUT_DOCTOR_HOME=/tmp/state python bench/fix_stages.py fix COPY.jsonl

Runs the command in this process with each stage below timed (a stage called several times is summed;
stages nest: ``run_loop`` holds the passes, ``Planned.lay_out`` the layout and the derived index).
No profiler: per-line Python runs at its own speed. Fix a copy: the file is rewritten.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import sys
import time
from collections.abc import Callable
from typing import Any

STAGES = [
    ("rollout_doctor.core.fixer", "read_hashed"),  # indexing the original, its hash on a thread
    ("rollout_doctor.core.fixer", "check_model"),  # the first check
    ("rollout_doctor.core.fixer", "run_loop"),  # every pass, and the write of the last
    ("rollout_doctor.core.fix_loop", "check_model"),  # the check after each pass
    ("rollout_doctor.core.fix_loop", "plan"),
    ("rollout_doctor.formats.codex.rollout", "Rollout.renumber"),
    ("rollout_doctor.core.fix_loop", "follow"),
    ("rollout_doctor.core.planned", "Planned.lay_out"),
    ("rollout_doctor.core.planned", "lay_out"),
    ("rollout_doctor.core.ordinal_spans", "Spans.ensure"),
    ("rollout_doctor.core.derived", "_fill"),
    ("rollout_doctor.core.planned", "Planned.write"),
    ("rollout_doctor.core.fixer", "commit_thread"),
]
spent: dict[str, float] = {}


def timed(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return f(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - began
    return wrapper


def install() -> None:
    for module_name, qualified in STAGES:
        owner: Any = importlib.import_module(module_name)
        *path, name = qualified.split(".")
        for part in path:
            owner = getattr(owner, part)
        label = f"{module_name.rsplit('.', 1)[-1]}.{qualified}"
        setattr(owner, name, timed(label, getattr(owner, name)))


def main() -> None:
    install()
    began = time.perf_counter()

    def report() -> None:
        print(f"in all {time.perf_counter() - began:.2f} s", file=sys.stderr)
        for label, seconds in spent.items():
            print(f"  {label:36s} {seconds:6.2f} s", file=sys.stderr)

    atexit.register(report)
    from rollout_doctor.cli.main import main as cli

    sys.argv = ["rollout-doctor", *sys.argv[1:]]
    cli()


if __name__ == "__main__":
    main()
