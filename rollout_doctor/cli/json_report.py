"""The JSON report: a documented contract (README, "JSON report"), version 1.

Field names and meanings do not change within a version; new fields may be added.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rollout_doctor.core.fixes import Applicability, applicable
from rollout_doctor.core.reports import Change, FileReport
from rollout_doctor.core.rules import Diagnostic
from rollout_doctor.core.verdict import UNKNOWN

VERSION = 1


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    return {
        "rule": d.rule,
        "code": d.code,
        "line": d.line + 1,
        # A fork's problem in the history it inherits: the parent rollout ``line`` is in.
        "inherited_from": str(d.path) if d.path is not None else None,
        "call_id": d.call_id,
        "message": d.message,
        "fix": None if d.fix is None else {"applicability": d.fix.applicability.value, "title": d.fix.title},
        # A fix offered instead of `fix` under --unsafe-fixes (orphan-call: the output an event recorded).
        "alternative": None if d.alternative is None else {"applicability": d.alternative.applicability.value,
                                                            "title": d.alternative.title},
        # What it does when the session is resumed, in the format's words (Codex: refused, dropped,
        # patched, harmless).
        "effect": d.effect,
    }


def change_json(c: Change) -> dict[str, Any]:
    return {"kind": c.kind, "old_line": c.old_line, "new_line": c.new_line, "summary": c.summary, "note": c.note}


def history_json(report: FileReport) -> dict[str, Any] | None:
    reset = report.index_reset
    if reset is None:
        return None
    return {"database": str(reset.database), "thread_id": reset.thread_id,
            "backup": str(reset.backup) if reset.backup else None, "rows_deleted": reset.rows, "error": reset.error}


def thread_json(report: FileReport) -> dict[str, Any] | None:
    info = report.thread
    if info is None:
        return None
    return {"id": info.thread_id, "rollout_id": info.rollout_id,
            "lineage": [{"path": str(path), "rollout_id": rollout_id, "end_byte_offset": end,
                         "end_ordinal_exclusive": ordinal} for path, rollout_id, end, ordinal in info.parents],
            "problem": info.problem}


def session_json(report: FileReport) -> dict[str, Any]:
    """Which session the file is, as a person knows it, and its verdict (README, "JSON report")."""
    info = report.session
    verdict = report.verdict
    updated = None
    if info is not None and info.updated is not None:
        updated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(info.updated))
    return {
        "id": info.id if info else None,
        "short_id": info.id[:8] if info and info.id else None,
        "name": info.name if info else None,
        "cwd": info.cwd if info else None,
        "updated": updated,
        "size": info.size if info else None,
        "verdict": verdict.name,
        "resumes": not verdict.stops_resume and verdict.name != UNKNOWN.name,
        "verdict_says": verdict.says,
    }


def file_json(report: FileReport, fixing: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": str(report.path),
        "session": session_json(report),
        "generation": report.generation,
        "cli_version": report.cli_version,
        "target": report.target,
        "thread": thread_json(report),
        "in_progress": report.in_progress,
        "error": report.error,
        "diagnostics": [diagnostic_json(d) for d in report.diagnostics],
    }
    if fixing:
        out["fix"] = {
            "written": report.written,
            "role": report.role,
            "refused": report.refused,
            "held": report.held,
            "warnings": list(report.warnings),
            "backup": str(report.backup) if report.backup else None,
            "applied": [{"title": f.title, "applicability": f.applicability.value} for f in report.applied],
            "remaining": [diagnostic_json(d) for d in report.remaining or []],
            "changes": [change_json(c) for c in report.changes],
            "codex_history": history_json(report),
        }
    return out


def summary(reports: list[FileReport], unsafe: bool, fixing: bool) -> dict[str, Any]:
    by_rule: Counter[str] = Counter()
    fixable = unsafe_fixable = 0
    for report in reports:
        for d in report.diagnostics:
            by_rule[d.rule] += 1
            if applicable(d.fix, False):
                fixable += 1
            elif d.fix is not None and d.fix.applicability is Applicability.UNSAFE:
                unsafe_fixable += 1
    out: dict[str, Any] = {
        "files": len(reports),
        "files_with_problems": sum(1 for r in reports if r.diagnostics),
        "errors": sum(1 for r in reports if r.error),
        "diagnostics": sum(by_rule.values()),
        "by_rule": dict(sorted(by_rule.items())),
        "fixable": fixable,
        "unsafe_fixable": unsafe_fixable,
        "recoverable": sum(1 for r in reports for d in r.diagnostics if d.alternative is not None),
        "in_progress": sum(1 for r in reports if r.in_progress),
        "verdicts": dict(sorted(Counter(r.verdict.name for r in reports).items())),
    }
    if fixing:
        out["files_written"] = sum(1 for r in reports if r.written)
        out["files_refused"] = sum(1 for r in reports if r.refused)
        out["files_held"] = sum(1 for r in reports if r.held)
        out["remaining"] = sum(len(r.remaining or []) for r in reports)
        out["held_back"] = sum(len(r.held_back(unsafe)) for r in reports)
    return out


def emit_json(payload: object) -> None:
    """Print ``payload`` on stdout, indented, as every command's --format json does."""
    import orjson

    sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")


def will_not_resume(reports: list[FileReport], roots: list[Path] | None, target: str | None) -> dict[str, Any]:
    """The sessions that will not resume, and the one command that fixes them (None when no command
    does: ``no_fix`` names the rules whose problems only a person can solve)."""
    stuck = [r for r in reports if r.verdict.stops_resume]
    command, no_fix = None, []
    if stuck:  # layout and shlex only when there is a command to write: `check FILE` runs before every resume
        from rollout_doctor.cli.layout import fix_command

        command, no_fix = fix_command(stuck, roots, target, show=False)
    return {"sessions": [{"path": str(r.path), "id": r.session.id if r.session else None,
                          "name": r.session.name if r.session else None,
                          "problems": [f"{d.code} {d.rule}" for d in r.stopping()]} for r in stuck],
            "command": command, "no_fix": no_fix}


def report_json(reports: list[FileReport], unsafe: bool, fixing: bool, interrupted: bool = False,
                roots: list[Path] | None = None, target: str | None = None) -> dict[str, Any]:
    return {
        "version": VERSION,
        # First what a person must act on: the sessions that will not resume, and the command for them.
        "will_not_resume": printable(will_not_resume(reports, roots, target)),
        "files": [printable(file_json(r, fixing)) for r in reports],
        "summary": summary(reports, unsafe, fixing),
        "interrupted": interrupted,
    }


def printable(value: Any) -> Any:
    """``value`` with every string made encodable: a file name's bytes that are not UTF-8 reach Python as
    lone surrogates, which no JSON encoder takes; they are shown as ``\\xNN`` escapes instead."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return value
    if isinstance(value, dict):
        return {key: printable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [printable(item) for item in value]
    return value
