"""Shared pieces of the end-to-end tests (tests/test_e2e_*.py): which real sessions each breaker is
tried on, rollout-doctor's CLI run in-process, and what Codex said and stored.

    code, report = doctor("fix", "--format", "json", str(path))   # ROLLOUT_DOCTOR_HOME set by a fixture
    complaints(run)                                               # warnings and errors Codex printed
    history_items(home, thread_id)                                # thread_history_1.sqlite thread_items
"""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollout_doctor.cli.app import main as doctor_main
from tests.support.codex_run import CodexHome, CodexRun
from tests.support.scenarios import OLD, PAGINATED, SCENARIOS


@dataclass(frozen=True)
class E2ECase:
    """One breaker applied to one recorded session; the release that wrote it resumes it."""

    breaker: str
    scenario: str

    @property
    def release(self) -> str:
        return SCENARIOS[self.scenario].release

    @property
    def id(self) -> str:
        return f"{self.breaker}@{self.scenario}"


def on_paginated(*names: str) -> tuple[str, ...]:
    """The scenario `name` as each paginated release recorded it: 0.169.0's, then 0.171.0's."""
    return tuple(f"{release}-{name}" for name in names for release in PAGINATED)


# Every rule the core detects, on each release where the defect can occur; several sessions for the
# defects whose repair depends on the call type (function vs custom) or on parallel calls. Whatever runs
# on 0.169.0 runs on 0.171.0 too, on the same scenario recorded with it.
E2E_CASES: list[E2ECase] = [
    *(E2ECase("orphan-call", s) for s in (
        *on_paginated("responses-single-call", "responses-custom-tool-call", "responses-parallel-calls"),
        f"{OLD}-responses-single-call", f"{OLD}-responses-parallel-calls")),
    *(E2ECase("orphan-output", s) for s in (
        *on_paginated("responses-single-call", "responses-custom-tool-call"),
        f"{OLD}-responses-single-call")),
    *(E2ECase("misplaced-output", s) for s in (
        *on_paginated("responses-single-call", "responses-custom-tool-call"),
        f"{OLD}-responses-single-call")),
    *(E2ECase("interleaved-message", s) for s in (
        *on_paginated("responses-parallel-calls"), f"{OLD}-responses-parallel-calls")),
    *(E2ECase("duplicate-call-id", s) for s in (
        *on_paginated("responses-sequential-calls", "responses-parallel-calls"),
        f"{OLD}-responses-parallel-calls")),
    *(E2ECase("duplicate-output", s) for s in (
        *on_paginated("responses-single-call"), f"{OLD}-responses-single-call")),
    *(E2ECase(f"invalid-line-{variant}", s)
      for variant in ("torn", "garbage", "nul", "glued")
      for s in (*on_paginated("responses-single-call"), f"{OLD}-responses-single-call")),
    *(E2ECase("bad-output-shape", s) for s in (
        *on_paginated("responses-single-call"), f"{OLD}-responses-single-call")),
    *(E2ECase("session-meta", s) for s in (
        *on_paginated("responses-single-call"), f"{OLD}-responses-single-call")),
    *(E2ECase("ordinal-order", s) for s in on_paginated("responses-resumed")),  # paginated only
    E2ECase("chat-adjacency", f"{OLD}-responses-single-call"),  # 0.169.0 and 0.171.0 refuse the Chat wire
]


def doctor(*args: str) -> tuple[int, Any]:
    """Run ``rollout-doctor ARGS`` in this process; returns the exit code and the parsed JSON report
    (or the text output when ``--format json`` is not among the arguments)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = doctor_main(list(args))
    text = out.getvalue()
    if "--format" in args and args[args.index("--format") + 1] == "json":
        return code, json.loads(text)
    return code, text + err.getvalue()


# Lines Codex prints whatever the rollout holds: the plugin sync needs the network, Codex will not put
# helper binaries under /tmp (where the tests keep CODEX_HOME), 0.77.0 announces its MCP servers and the
# Chat wire's deprecation, and 0.169.0 and 0.171.0 sometimes race their own shutdown ("failed to flush
# rollout after emitting terminal turn event: thread … not found": 0.169.0 in 1 of 30 resumes of an
# untouched recorded session, 8 of 60 in a later count; 0.171.0 in 3 of 78). 0.171.0 prints nothing else
# on such a resume: the plugin sync and PATH alias lines above, and that race, are all.
NOISE = ("codex_core_plugins::", "could not create PATH aliases", "mcp startup: no servers",
         'Support for the "chat" wire API is deprecated',
         "failed to flush rollout after emitting terminal turn event")


def complaints(run: CodexRun) -> list[str]:
    """The warnings and errors Codex printed (with RUST_LOG=warn), less the sandbox's noise."""
    lines = (run.stderr + "\n" + run.stdout).splitlines()
    return [
        line for line in lines
        if any(word in line for word in (" WARN ", " ERROR ", "ERROR:", "WARNING:", "error:"))
        and not any(noise in line for noise in NOISE)
    ]


def history_db(home: CodexHome) -> Path:
    return home.codex_home / "thread_history_1.sqlite"


def _query(home: CodexHome, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(history_db(home))
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def history_items(home: CodexHome, thread_id: str) -> list[tuple[int, str, dict[str, Any]]]:
    """(rollout_ordinal, item_type, item) of each row Codex projected for the thread, in ordinal order."""
    rows = _query(home, "SELECT rollout_ordinal, item_type, item_json FROM thread_items WHERE thread_id = ? "
                        "ORDER BY rollout_ordinal", thread_id)
    return [(ordinal, kind, json.loads(item)) for ordinal, kind, item in rows]


def projection_cursor(home: CodexHome, thread_id: str) -> tuple[int, int] | None:
    rows = _query(home, "SELECT next_rollout_byte_offset, next_rollout_ordinal FROM "
                        "thread_history_projection_state WHERE thread_id = ?", thread_id)
    return rows[0] if rows else None


def projection_rows(home: CodexHome, thread_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection row of the thread, table by table, for comparing two states."""
    return {
        table: sorted(_query(home, f"SELECT * FROM {table} WHERE thread_id = ?", thread_id))
        for table in ("thread_items", "thread_turns", "thread_history_projection_state")
    }


def user_texts(item: dict[str, Any]) -> str:
    """The text of a projected userMessage item."""
    return " ".join(part.get("text", "") for part in item.get("content") or [] if isinstance(part, dict))


def ordinals(path: Path) -> list[int | None]:
    """The ordinal of each readable line of a rollout (None when it has none), in file order."""
    found = []
    for raw in path.read_bytes().splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        found.append(line.get("ordinal") if isinstance(line, dict) else None)
    return found


def line_at_offsets(path: Path) -> dict[int, dict[str, Any]]:
    """Each readable line of a rollout keyed by the byte offset it starts at."""
    lines, offset = {}, 0
    for raw in path.read_bytes().splitlines(keepends=True):
        with contextlib.suppress(ValueError):
            lines[offset] = json.loads(raw)
        offset += len(raw)
    return lines


def readable_items(data: bytes) -> list[dict[str, Any]]:
    """The payloads of the response_item lines Codex can read in ``data`` (damaged lines skipped, as Codex
    skips them)."""
    items = []
    for raw in data.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict) and line.get("type") == "response_item" and isinstance(line.get("payload"), dict):
            items.append(line["payload"])
    return items
