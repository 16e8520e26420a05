"""Codex CLI rollouts as a ``core.format.Format``: the one object the engine is handed for them.

Everything here delegates to the module that knows the fact: home.py (names, the home layout),
lineage.py (forks and revert branches), config.py (the wire), projection.py (Codex's SQLite copy of a
thread), history.py (turns), rules/ (what is wrong). Heavy modules are imported where they are used:
`check FILE` runs before every resume.
"""

from __future__ import annotations

import os
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.core.rules import Diagnostic, Options, Registry
from rollout_doctor.core.thread import Ancestry, Cut, ThreadInfo
from rollout_doctor.formats.codex import home as codex_home
from rollout_doctor.formats.codex.indexing import CodexLines
from rollout_doctor.formats.codex.rollout import Rollout, cut_of
from rollout_doctor.store import places

if TYPE_CHECKING:
    from rollout_doctor.core.index import Part
    from rollout_doctor.core.lines import Source
    from rollout_doctor.core.model import Model
    from rollout_doctor.core.reports import FileReport, IndexReset, SessionInfo
    from rollout_doctor.formats.codex.lineage import Lineages
    from rollout_doctor.formats.codex.rules.base import Context


class CodexFormat:
    name = "codex"
    session_noun = "Codex rollout"
    file_noun = "rollout"
    lines = CodexLines()
    model_type = Rollout
    # A call still waiting for its output, a message typed while it waits, the output that will follow it.
    in_flight_rules = frozenset({"orphan-call", "interleaved-message", "chat-adjacency"})
    torn_line_rule = "invalid-line"

    @property
    def rules(self) -> Registry:
        from rollout_doctor.formats.codex.rules import REGISTRY

        return REGISTRY

    @property
    def targets(self) -> tuple[str, ...]:
        return self.rules.targets

    # --- which files -----------------------------------------------------------------------------------

    def owns_name(self, name: str) -> bool:
        return codex_home.is_rollout_name(name)

    def owns_content(self, path: Path) -> bool:
        """Its first readable record is a session_meta or a legacy header (a few lines are read, a .zst
        decompressed that far)."""
        from rollout_doctor.formats.codex.lineage import read_head

        return read_head(path) is not None

    def not_ours(self, path: Path) -> str:
        return (f"{path}: not a Codex rollout (neither named rollout-*.jsonl nor starting with a session_meta); "
                "left as it is")

    # --- threads ---------------------------------------------------------------------------------------

    def threads(self) -> Lineages:
        from rollout_doctor.formats.codex.lineage import Lineages

        return Lineages()

    def continues_another(self, path: Path) -> bool:
        from rollout_doctor.formats.codex.lineage import read_head

        meta = read_head(path)
        return meta is not None and meta.history_base is not None

    def declared_cut(self, path: Path) -> Cut | None:
        from rollout_doctor.formats.codex.lineage import read_head

        meta = read_head(path)
        return cut_of(meta.history_base if meta is not None else None)

    def cut_problem(self, cut: Cut, parent_size: int, parent: Path) -> str | None:
        from rollout_doctor.formats.codex.lineage import cut_problem

        return cut_problem(cut, parent_size, parent)

    def thread_info(self, model: Model, ancestry: Ancestry | None) -> ThreadInfo:
        assert isinstance(model, Rollout)
        name = codex_home.parse_name(model.name_path)
        meta_id = model.meta.id if model.meta is not None and isinstance(model.meta.id, str) else None
        parents: list[tuple[Path, str | None, int, int]] = []
        if ancestry is not None:
            parents = [(s.path, s.rollout_id, s.cut.end_byte_offset, s.cut.end_ordinal_exclusive)
                       for s in ancestry.parents if s.cut is not None]
        return ThreadInfo(meta_id or (name.thread_id if name else None), name.rollout_id if name else meta_id,
                          tuple(parents), ancestry.problem if ancestry is not None else None)

    def describe_session(self, path: Path, model: Model | None) -> SessionInfo:
        """Its name in session_index.jsonl, its project folder, its id (session_info.py)."""
        from rollout_doctor.formats.codex.session_info import describe

        return describe(path, model)  # type: ignore[arg-type]

    # --- judging ---------------------------------------------------------------------------------------

    def context(self, model: Model, options: Options) -> Context:
        from rollout_doctor.formats.codex.rules.base import Context

        return Context(model, options)  # type: ignore[arg-type]

    def decide(self, options: Options, model: Model) -> Options:
        """The wire of the session's provider in the user's config.toml (config.py), unless given."""
        if options.target is not None:
            return options
        from rollout_doctor.formats.codex.config import session_wire

        assert isinstance(model, Rollout)
        provider = model.meta.model_provider if model.meta is not None else None
        return replace(options, target=session_wire(provider, codex_home.home_of(model.name_path)))

    def continuation(self, context: object) -> object | None:
        """What judging a turn appended to the session needs (continuation.py)."""
        from rollout_doctor.formats.codex.continuation import after_check

        return after_check(context)  # type: ignore[arg-type]

    def continued(self, state: object, report: FileReport, tail: Part, source: Source,
                  path: Path) -> tuple[object, SessionInfo] | None:
        from rollout_doctor.formats.codex.continuation import Clean, after_append

        if not isinstance(state, Clean) or report.session is None:
            return None
        appended = after_append(state, report.generation == "paginated", report.target == "chat", tail, source)
        if appended is None:
            return None
        from rollout_doctor.formats.codex.session_info import continued

        return appended.clean, continued(path, report.session, appended.cwd)

    def report_inputs(self, path: Path) -> tuple[Path, ...]:
        """config.toml (it decides the wire, config.py) and session_index.jsonl (the session's name,
        session_info.py), of the home the rollout sits in, else of $CODEX_HOME."""
        return _inputs_of_folder(str(Path(path).parent), os.environ.get("CODEX_HOME"), os.environ.get("HOME"))

    def current_turn_start(self, model: Model) -> int:
        """The last ``task_started`` event or real user message (0.77.0 to 0.171.0 write both as a turn
        begins)."""
        from rollout_doctor.formats.codex.history import starts_user_turn
        from rollout_doctor.formats.codex.records import Item, ItemKind, LineKind

        for line in range(len(model) - 1, model.own_start - 1, -1):
            record = model.records.get(line)
            if isinstance(record, Item) and record.kind is ItemKind.MESSAGE and starts_user_turn(record):
                return line
            if model.kinds[line] == LineKind.EVENT and b'"type":"task_started"' in model.head(line, 4096):
                return line
        return model.own_start

    # --- after a write ---------------------------------------------------------------------------------

    def after_write(self, path: Path, backup_folder: Path) -> IndexReset | None:
        """Codex's SQLite thread history points at byte offsets and ordinals the fix just moved; once
        forgotten it is rebuilt cleanly at the next resume (projection.py: how this was found)."""
        from rollout_doctor.formats.codex.projection import forget_projection, projection_key

        thread = projection_key(path)
        return forget_projection(path, thread, backup_folder) if thread is not None else None

    def after_recover(self, paths: list[Path], backup_folder: Path) -> None:
        from rollout_doctor.formats.codex.projection import forget_projections

        forget_projections(paths, backup_folder)


@lru_cache(maxsize=256)
def _inputs_of_folder(folder: str, _codex_home: str | None, _home: str | None) -> tuple[Path, ...]:
    """report_inputs for the files of one folder: finding the home resolves every folder above it (0.4 ms
    a file, which a folder scan would pay twice per file when it keeps reports)."""
    home = codex_home.home_of(Path(folder) / "x") or codex_home.configured_home()
    return home / codex_home.CONFIG, home / codex_home.SESSION_INDEX


CODEX = CodexFormat()
places.register(places.Places(CODEX.name, "Codex", codex_home.session_stores, codex_home.writer_locks))

__all__ = ["CODEX", "CodexFormat", "Diagnostic"]
