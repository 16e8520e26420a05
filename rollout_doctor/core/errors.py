"""Turning a failure into the one-line error a report carries: the file's or the system's, or a bug."""

from __future__ import annotations

import os
from pathlib import Path


class FixLoopError(RuntimeError):
    pass


def is_expected(exc: BaseException) -> bool:
    """Failures that are the file's or the system's, not a bug: I/O, a corrupt .zst, an unsafe backup
    location. Anything else escaping the rules is a bug in rollout-doctor: hostile input must come out
    as diagnostics, so tests (tests/test_fuzz.py) treat any ``error`` on readable input as a failure."""
    from rollout_doctor.store import RefusedToWrite, WriteError

    if isinstance(exc, (OSError, WriteError, RefusedToWrite, FixLoopError)):
        return True
    return type(exc).__module__.startswith("zstandard") or type(exc).__name__ == "ZstdError"


def error_message(path: Path, exc: BaseException) -> str:
    """A one-line error; a bug says so, and ROLLOUT_DOCTOR_DEBUG=1 re-raises it for the traceback."""
    if is_expected(exc):
        return describe_error(path, exc)
    if os.environ.get("ROLLOUT_DOCTOR_DEBUG"):
        raise exc
    return (f"{path}: internal error, please report it (rerun with ROLLOUT_DOCTOR_DEBUG=1 for the traceback): "
            f"{type(exc).__name__}: {exc}")


def describe_error(path: Path, exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text if text.startswith(str(path)) else f"{path}: {text}"
