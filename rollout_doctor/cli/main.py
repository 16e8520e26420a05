"""The console script (``rollout-doctor``, ``python -m rollout_doctor``): the replay of an unchanged
``check`` run (run_cache.py), else the fast path when it can take the arguments (fastpath.py), the typer
app (app.py) otherwise; then a quick exit when nothing was written.

A replayed re-check of a home costs little more than Python's start-up, so nothing is imported before it
that it does not need, ``typing`` included (2 ms).
"""

from __future__ import annotations

import gc
import os
import sys

from rollout_doctor.cli.process import asks_for_completion, prepare

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

# The commands with a fast path, which also end with a quick exit when they wrote nothing (run).
QUICK_EXIT = ("check", "guard", "pre-resume", "list", "sessions")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["check"] and not asks_for_completion():
        from rollout_doctor.cli import run_cache
        from rollout_doctor.core import sampling

        # A file is sampled once per run: by the replay, its report's look-up, or the run's record.
        with sampling.remembered():
            try:
                replayed = run_cache.replay("check", args[1:])
                return replayed if replayed is not None else _run(args)
            finally:
                run_cache.forget()  # what the replay found is for this run only
    return _run(args)


def _run(args: list[str]) -> int:
    prepare()
    from rollout_doctor.cli import fastpath

    try:
        code = None if asks_for_completion() else fastpath.run(args)
    except KeyboardInterrupt as exc:  # as the typer path answers Ctrl-C: no traceback in the user's shell
        return 128 + getattr(exc, "signum", 2)
    if code is not None:
        return code
    from rollout_doctor.cli.app import main as typer_main

    return typer_main(args)


def run() -> NoReturn:
    """``main``, then the exit.

    When ``check``, ``guard`` or ``pre-resume`` wrote nothing (no transaction module was imported),
    the process ends without Python's teardown of some 300 modules: 25 to 40 ms of a folder scan's
    0.5 s, and a sixth of a pre-resume check of one session (bench/benchmark.py, bench/guard.py).
    Output is flushed first; if a worker process is still alive (an interrupted scan), the normal exit
    is kept, since it waits for the pool to wind down. A guard that fixed the session exits normally.

    These commands run with Python's cyclic garbage collector off. They make next to no reference
    cycles (checking 60 fixture rollouts in one process left 0 to 11 unreachable objects for
    ``gc.collect()``; 20 dry-run fixes, 18), while the collector walks every record they hold again and again:
    once when the index of a 500 MB session is loaded from the cache, and at each of the rules'
    middle-generation collections after it, 30 ms of the guard's 0.25 s (bench/benchmark.py, guard).
    Reference counting still frees everything else as it goes. Only the console script does this:
    ``main`` called in a process that lives on (the tests, a library caller) leaves the collector as
    it is."""
    if sys.argv[1:2] and sys.argv[1] in QUICK_EXIT:
        gc.disable()
    code = main()
    if sys.argv[1:2] and sys.argv[1] in QUICK_EXIT and "rollout_doctor.store.transaction" not in sys.modules:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # a reader that went away (BrokenPipeError): leave it to Python, as before
            raise SystemExit(code) from None
        pool = sys.modules.get("multiprocessing")  # imported only if the scan used a pool
        if pool is None or not pool.active_children():
            os._exit(code)
    raise SystemExit(code)


if __name__ == "__main__":
    run()
