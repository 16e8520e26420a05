"""Codex CLI rollouts (``~/.codex/sessions/**/rollout-*.jsonl``): the format, and the engine bound to it.

The functions below are the library's entry points for a caller who knows the files are Codex's:
core's functions with ``CODEX`` as the format.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex.format import CODEX
from rollout_doctor.formats.codex.rollout import Rollout, read_rollout

if TYPE_CHECKING:
    from rollout_doctor.core.reports import FileReport
    from rollout_doctor.core.rules import Diagnostic


def check_file(path: Path, options: Options, **kwargs: Any) -> FileReport:
    from rollout_doctor.core.check import check_file as check

    return check(CODEX, path, options, **kwargs)


def check_model(model: Rollout, options: Options) -> list[Diagnostic]:
    from rollout_doctor.core.check import check_model as check

    return check(CODEX, model, options)


def fix_file(path: Path, options: Options, **kwargs: Any) -> FileReport:
    from rollout_doctor.core.fixer import fix_file as fix

    return fix(CODEX, path, options, **kwargs)


def fix_files(paths: list[Path], options: Options, **kwargs: Any) -> Iterator[FileReport]:
    from rollout_doctor.core.fixer import fix_files as fix

    return fix(CODEX, paths, options, **kwargs)


__all__ = ["CODEX", "Options", "Rollout", "check_file", "check_model", "fix_file", "fix_files", "read_rollout"]
