"""Claude Code transcripts as a ``core.format.Format``: the one object the engine is handed for them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from rollout_doctor.core.reports import SessionInfo
from rollout_doctor.core.rules import Options, Registry
from rollout_doctor.core.thread import Ancestry, ThreadInfo, Unthreaded
from rollout_doctor.formats.claude import home as claude_home
from rollout_doctor.store import places

if TYPE_CHECKING:
    from rollout_doctor.core.index import Part
    from rollout_doctor.core.lines import Source
    from rollout_doctor.core.model import Model
    from rollout_doctor.core.reports import FileReport, IndexReset
    from rollout_doctor.formats.claude.classify import ClaudeLines
    from rollout_doctor.formats.claude.rules.base import Context
    from rollout_doctor.formats.claude.transcript import Transcript

HEAD_LINES = 30  # a transcript opens with bookkeeping lines (queue-operation ...) before its first message


def first_entry(path: Path) -> dict[str, object] | None:
    """The first record with a uuid and a sessionId among the first lines, if the file is a transcript."""
    try:
        with open(path, "rb") as handle:
            for _ in range(HEAD_LINES):
                raw = handle.readline(1 << 20)
                if not raw:
                    return None
                try:
                    obj = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(obj, dict) and "sessionId" in obj and "parentUuid" in obj and "uuid" in obj:
                    return obj
    except OSError:
        return None
    return None


def custom_title(model: Model) -> str | None:
    """The newest ``custom-title`` line's title."""
    from rollout_doctor.formats.claude.records import LineKind

    for line in range(len(model) - 1, model.own_start - 1, -1):
        if model.kinds[line] == LineKind.OTHER and b'"custom-title"' in model.head(line, 64):
            try:
                title = orjson.loads(model.content(line)).get("customTitle")
            except (orjson.JSONDecodeError, AttributeError):
                continue
            if isinstance(title, str) and title:
                return title
    return None


class ClaudeFormat(Unthreaded):
    name = "claude"
    session_noun = "Claude Code transcript"
    file_noun = "transcript"
    # A call whose result a live session has not written yet.
    in_flight_rules = frozenset({"unanswered-tool-use", "orphan-tool-result"})
    torn_line_rule = "claude-invalid-line"

    # How its lines are read, and its model: imported with the first transcript, since every check
    # knows the format and most check only Codex rollouts (3 ms of a start-up, 2026-11-29).
    @property
    def lines(self) -> ClaudeLines:
        from rollout_doctor.formats.claude.classify import LINES

        return LINES

    @property
    def model_type(self) -> type[Transcript]:
        from rollout_doctor.formats.claude.transcript import Transcript

        return Transcript

    @property
    def rules(self) -> Registry:
        from rollout_doctor.formats.claude.rules import REGISTRY

        return REGISTRY

    @property
    def targets(self) -> tuple[str, ...]:
        return self.rules.targets

    def owns_name(self, name: str) -> bool:
        return claude_home.is_transcript_name(name)

    def owns_content(self, path: Path) -> bool:
        return first_entry(path) is not None

    def not_ours(self, path: Path) -> str:
        return f"{path}: not a Claude Code transcript (no <session uuid>.jsonl name, no conversation line); left as it is"

    def context(self, model: Model, options: Options) -> Context:
        from rollout_doctor.formats.claude.rules.base import Context

        return Context(model, options)  # type: ignore[arg-type]

    def decide(self, options: Options, model: Model) -> Options:
        return options if options.target in self.targets else replace(options, target=self.targets[0])

    def thread_info(self, model: Model, ancestry: Ancestry | None) -> ThreadInfo:
        """The session id: the file's name, or (a transcript renamed) the sessionId its lines carry."""
        sid = claude_home.session_id(model.name_path)
        if sid is None:
            entry = first_entry(model.name_path)
            sid = entry.get("sessionId") if entry and isinstance(entry.get("sessionId"), str) else None
        return ThreadInfo(sid, sid)

    def continuation(self, context: object) -> object | None:
        """None: a transcript grown since is checked whole (its rules are not written to resume)."""
        return None

    def continued(self, state: object, report: FileReport, tail: Part, source: Source,
                  path: Path) -> tuple[object, SessionInfo] | None:
        return None

    def report_inputs(self, path: Path) -> tuple[Path, ...]:
        """None besides the transcript: its rules, wire and session name (its ``custom-title`` lines) are
        all read from the transcript itself (2.1.332 keeps no index of names elsewhere that a report uses)."""
        return ()

    def describe_session(self, path: Path, model: Model | None) -> SessionInfo:
        """Its session uuid, the name given with ``claude -n NAME`` or ``/rename`` (2.1.332 writes a
        ``custom-title`` line; the newest counts; read only from a model, the file is not read for it),
        and its working directory."""
        entry = first_entry(path)
        cwd = entry.get("cwd") if entry else None
        sid = claude_home.session_id(path) or (entry.get("sessionId") if entry else None)
        try:
            stat = path.stat()
            updated, size = stat.st_mtime, stat.st_size
        except OSError:
            updated, size = None, None
        return SessionInfo(sid if isinstance(sid, str) else None, custom_title(model) if model is not None else None,
                           cwd if isinstance(cwd, str) else None, updated, size)

    def current_turn_start(self, model: Model) -> int:
        """The newest line where the user typed (a user line with no tool result)."""
        from rollout_doctor.formats.claude.records import LineKind

        for line in range(len(model) - 1, model.own_start - 1, -1):
            record = model.records.get(line)
            if model.kinds[line] == LineKind.MESSAGE and record.role == "user" and not record.results:
                return line
        return model.own_start

    def after_write(self, path: Path, backup_folder: Path) -> IndexReset | None:
        return None  # Claude Code keeps no index of a transcript beside it

    def after_recover(self, paths: list[Path], backup_folder: Path) -> None:
        return None


CLAUDE = ClaudeFormat()
places.register(places.Places(CLAUDE.name, "Claude Code", claude_home.session_stores, claude_home.writer_locks,
                             claude_home.running_sessions))
