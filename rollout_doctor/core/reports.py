"""What a run finds out about one file: the report every command fills in and every output prints."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from rollout_doctor.core.fixes import Applicability, Fix, applicable
from rollout_doctor.core.plain import Plain
from rollout_doctor.core.rules import Diagnostic
from rollout_doctor.core.thread import ThreadInfo
from rollout_doctor.core.verdict import Effect, verdict


class SessionInfo(NamedTuple):
    """What a person knows a session by (``Format.describe_session``); None where the file does not say."""

    id: str | None  # the session's id, as the client takes it
    name: str | None  # the name the user gave it in the client
    cwd: str | None  # the project folder it works in (the client's current folder)
    updated: float | None  # when its file last changed, seconds since the epoch
    size: int | None  # bytes of its own file


class IndexReset(NamedTuple):
    """A client's own index of a session (Codex: its SQLite thread history), dropped after a write
    so that the client rebuilds it from the file."""

    database: Path
    thread_id: str
    backup: Path | None = None
    rows: int = 0
    error: str | None = None  # why it could not be dropped (the file itself is already written then)
    warning: str | None = None  # what the user should know when it could not


class Change(Plain):
    """One line of the diff between the original and the fixed file."""

    FIELDS = ("kind", "old_line", "new_line", "summary", "note")

    def __init__(self, kind: str, old_line: int | None, new_line: int | None, summary: str, note: str = "") -> None:
        self.kind = kind  # "insert", "remove", "move", "modify"
        self.old_line = old_line  # 1-based, in the original
        self.new_line = new_line  # 1-based, in the result
        self.summary = summary
        self.note = note


class FileReport(Plain):
    FIELDS = ("path", "diagnostics", "remaining", "applied", "changes", "generation", "cli_version", "error",
              "refused", "warnings", "written", "backup", "index_reset", "passes", "thread", "target", "role",
              "in_progress", "held", "interrupted", "session", "effects", "format")

    def __init__(self, path: Path, diagnostics: list[Diagnostic] | None = None,
                 remaining: list[Diagnostic] | None = None, applied: list[Fix] | None = None,
                 changes: list[Change] | None = None, generation: str | None = None, cli_version: str | None = None,
                 error: str | None = None, refused: str | None = None, warnings: list[str] | None = None,
                 written: bool = False, backup: Path | None = None, index_reset: IndexReset | None = None,
                 passes: int = 0, thread: ThreadInfo | None = None, target: str | None = None,
                 role: str = "requested", in_progress: str | None = None, held: str | None = None,
                 interrupted: bool = False, session: SessionInfo | None = None, effects: tuple[Effect, ...] = (),
                 format: str = "") -> None:
        self.path = path
        self.diagnostics = [] if diagnostics is None else diagnostics  # what check found (before any fix)
        self.remaining = remaining  # after fixing; None for a plain check
        self.applied = [] if applied is None else applied
        self.changes = [] if changes is None else changes
        self.generation = generation
        self.cli_version = cli_version
        self.error = error
        self.refused = refused
        self.warnings = [] if warnings is None else warnings  # e.g. what --force risked
        self.written = written
        self.backup = backup  # the transaction's folder in the backup store
        self.index_reset = index_reset  # the client's own index of the session, dropped after a write
        self.passes = passes
        self.thread = thread
        self.target = target  # the wire it was judged for
        self.role = role  # "child": not asked about, rewritten because a parent it continues was
        self.in_progress = in_progress  # a running client holds it: who (its in-flight turn is not judged)
        self.held = held  # why safe fixes were not written (they would remove the header or most of the file)
        self.interrupted = interrupted  # a signal arrived while it was being written; the run stopped after it
        self.session = session
        self.effects = effects  # the format's vocabulary of effects, worst first (core/verdict.py)
        self.format = format  # the name of the format that read it (``Format.name``)

    @property
    def verdict(self) -> Effect:
        """What resuming the session does now: the worst effect of its problems (after a fix, of what
        remains); unknown when the file could not be read or the history it inherits is unknown."""
        judged = self.error is None and (self.thread is None or self.thread.problem is None)
        return verdict(self.effects, (d.effect for d in self.problems), judged)

    def stopping(self) -> list[Diagnostic]:
        """The problems that stop the session from resuming until they are fixed."""
        stops = {effect.name for effect in self.effects if effect.stops_resume}
        return [d for d in self.problems if d.effect in stops]

    @property
    def problems(self) -> list[Diagnostic]:
        return self.diagnostics if self.remaining is None else self.remaining

    def held_back(self, unsafe: bool) -> list[Diagnostic]:
        return [d for d in self.problems if d.fix is not None and not applicable(d.fix, unsafe)
                and d.fix.applicability is Applicability.UNSAFE]
