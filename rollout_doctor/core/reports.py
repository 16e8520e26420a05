"""What a run finds out about one file: the report every command fills in and every output prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from rollout_doctor.core.fixes import Applicability, Fix, applicable
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


@dataclass
class Change:
    """One line of the diff between the original and the fixed file."""

    kind: str  # "insert", "remove", "move", "modify"
    old_line: int | None  # 1-based, in the original
    new_line: int | None  # 1-based, in the result
    summary: str
    note: str = ""


@dataclass
class FileReport:
    path: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)  # what check found (before any fix)
    remaining: list[Diagnostic] | None = None  # after fixing; None for a plain check
    applied: list[Fix] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    generation: str | None = None
    cli_version: str | None = None
    error: str | None = None
    refused: str | None = None
    warnings: list[str] = field(default_factory=list)  # e.g. what --force risked
    written: bool = False
    backup: Path | None = None  # the transaction's folder in the backup store
    index_reset: IndexReset | None = None  # the client's own index of the session, dropped after a write
    passes: int = 0
    thread: ThreadInfo | None = None
    target: str | None = None  # the wire it was judged for
    role: str = "requested"  # "child": not asked about, rewritten because a parent it continues was
    in_progress: str | None = None  # a running client holds it: who (its in-flight turn is not judged)
    held: str | None = None  # why safe fixes were not written (they would remove the header or most of the file)
    interrupted: bool = False  # a signal arrived while it was being written; the run stopped after it
    session: SessionInfo | None = None
    effects: tuple[Effect, ...] = ()  # the format's vocabulary of effects, worst first (core/verdict.py)
    format: str = ""  # the name of the format that read it (``Format.name``)

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
