"""The console entry point. ``guard``, ``pre-resume`` and the common forms of ``check`` are parsed here,
without typer; the rest goes to the typer app in ``cli.py``.

The guard runs before every ``codex resume`` the shell wrapper sees, so its start-up is the user's wait.
Importing typer (and pydantic, which typer 0.2x requires) and letting it parse costs ~150 ms on this
machine; the guard's own work on a 5 MB session is ~30 ms (``bench/guard.py``). So these two commands
take an argparse path that imports only the engine. ``guard --help`` still goes to typer, whose
``guard`` command documents the same options and runs the same ``run_guard`` (tests/test_guard.py
holds the two parsers to one option set).
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

FAST_COMMANDS = ("guard", "pre-resume")
HELP = frozenset({"-h", "--help"})
TARGETS = ("responses", "chat")
ORDERS = ("updated", "created")


def split_rules(values: list[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    return frozenset(v for value in values for v in value.split(",") if v.strip())


def run_guard(session: str | None, last: bool, all_folders: bool = False, order: str = "updated",
              quiet: bool = False, target: str | None = None, select: list[str] | None = None,
              ignore: list[str] | None = None, cwd: str | None = None) -> int:
    """Guard one session and print its receipt on stderr (stdout belongs to codex); the exit code."""
    from rollout_doctor.core.exitcodes import ERROR
    from rollout_doctor.formats.codex.guard import guard
    from rollout_doctor.core.rules import Options, UnknownRule
    from rollout_doctor.formats.codex.rules import REGISTRY

    # No --target: each session's wire from config.toml (codex_config.session_wire).
    options = Options(target=target, select=split_rules(select),
                      ignore=split_rules(ignore) or frozenset())
    try:
        REGISTRY.resolve(options.select)
        REGISTRY.resolve(options.ignore)
    except UnknownRule as exc:
        print(f"rollout-doctor guard: {exc}", file=sys.stderr)
        return ERROR
    from pathlib import Path

    result = guard(session, last, options, all_folders=all_folders, order=order,
                   cwd=Path(os.path.abspath(os.path.expanduser(cwd))) if cwd else None)
    if not quiet:
        print(result.receipt, file=sys.stderr)
    from rollout_doctor.store import signals

    stopped = signals.pending()  # Ctrl-C while the fix was being written: finished, then stop here
    return signals.exit_code(stopped) if stopped else result.code


def guard_parser():  # type: ignore[no-untyped-def]
    import argparse

    parser = argparse.ArgumentParser(prog="rollout-doctor guard", add_help=False)
    parser.add_argument("session", nargs="?")
    parser.add_argument("--last", action="store_true")
    parser.add_argument("--all", dest="all_folders", action="store_true")
    parser.add_argument("--order", choices=ORDERS, default="updated")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--target", choices=TARGETS)
    parser.add_argument("--select", action="append")
    parser.add_argument("--ignore", action="append")
    return parser


def fast_guard(args: list[str]) -> int:
    from rollout_doctor.core.exitcodes import ERROR

    parser = guard_parser()
    try:
        ns = parser.parse_args(args)
    except SystemExit as exc:  # argparse has printed the usage error
        return ERROR if exc.code else 0
    if ns.last == bool(ns.session):
        print("rollout-doctor guard: give a SESSION or --last (one of them)", file=sys.stderr)
        return ERROR
    return run_guard(ns.session, ns.last, ns.all_folders, ns.order, ns.quiet, ns.target, ns.select, ns.ignore)


def pre_resume(codex_args: list[str]) -> int:
    """What the shell-init wrapper runs with codex's own arguments: guard the session they resume."""
    from rollout_doctor.formats.codex.shell import resume_request

    request = resume_request(codex_args[1:] if codex_args[:1] == ["--"] else codex_args)
    if request is None:
        return 0
    # `codex -C DIR resume --last` resumes DIR's newest session: the guard looks where Codex looks.
    return run_guard(request.session, request.last, request.all_folders, cwd=request.cd)


class _Deferred(Exception):
    """The fast parser cannot take these arguments: typer parses them (and reports any error)."""


def check_parser():  # type: ignore[no-untyped-def]
    import argparse
    from pathlib import Path

    class Parser(argparse.ArgumentParser):
        def error(self, message: str):  # type: ignore[no-untyped-def]
            raise _Deferred(message)

    parser = Parser(prog="rollout-doctor check", add_help=False, allow_abbrev=False)
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--target", choices=TARGETS, default=None)
    parser.add_argument("--select", action="append")
    parser.add_argument("--ignore", action="append")
    return parser


def fast_check(args: list[str]) -> int | None:
    """``check`` without typer (rollout_doctor.cli.scan says why); None to let typer take the arguments."""
    from rollout_doctor.core.rules import Options, UnknownRule
    from rollout_doctor.formats.codex.rules import REGISTRY

    try:
        ns = check_parser().parse_args(args)
    except _Deferred:
        return None
    options = Options(target=ns.target, select=split_rules(ns.select),
                      ignore=split_rules(ns.ignore) or frozenset())
    try:
        REGISTRY.resolve(options.select)
        REGISTRY.resolve(options.ignore)
    except UnknownRule:
        return None  # typer's usage error says so
    from rollout_doctor.cli.scan import run_check

    return run_check(ns.paths or None, options, json=ns.format == "json")


def lenient_stdio() -> None:
    """A file name's bytes that are not UTF-8 reach Python as lone surrogates; printed to a strict UTF-8
    stream (any UTF-8 locale but C) they would end the run with a traceback. Show them as \\xNN instead."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def main(argv: list[str] | None = None) -> int:
    from rollout_doctor.store.signals import terminate_like_interrupt

    lenient_stdio()
    terminate_like_interrupt()  # SIGTERM unwinds like Ctrl-C: no temporary file is left beside a session
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        if args[:1] == ["pre-resume"]:
            return pre_resume(args[1:])
        if args[:1] == ["guard"] and not HELP & set(args[1:]):
            return fast_guard(args[1:])
        if args[:1] == ["check"] and not HELP & set(args[1:]):
            code = fast_check(args[1:])
            if code is not None:
                return code
    except KeyboardInterrupt as exc:  # as the typer path answers Ctrl-C: no traceback in the user's shell
        return 128 + getattr(exc, "signum", 2)
    from rollout_doctor.cli.app import main as full_main

    return full_main(args)


# The commands with a fast path here, which also end with a quick exit when they wrote nothing (run).
QUICK_EXIT = ("check", *FAST_COMMANDS)


def run() -> NoReturn:
    """The console script (and ``python -m rollout_doctor``): ``main``, then the exit.

    When ``check``, ``guard`` or ``pre-resume`` wrote nothing (no transaction module was imported),
    the process ends without Python's teardown of some 300 modules: 25 to 40 ms of a folder scan's
    0.5 s, and a sixth of a pre-resume check of one session (bench/benchmark.py, bench/guard.py).
    Output is flushed first; if a worker process is still alive (an interrupted scan), the normal exit
    is kept, since it waits for the pool to wind down. A guard that fixed the session exits normally."""
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
