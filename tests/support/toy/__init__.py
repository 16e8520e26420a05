"""A second session format, as small as one can be: the proof that core/ needs nothing of Codex.

Its files (``*.toy.jsonl``) hold a header line ``{"t":"head"}``, calls ``{"t":"call","id":…}`` and
outputs ``{"t":"out","id":…}``; one rule (``orphan_call.py``) gives a call with no output a cancelled
one. It implements ``core.format.Format`` from outside the package, as a new folder under
``rollout_doctor/formats/`` would (tests/test_format_seam.py drives check, fix and undo through it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import orjson

from rollout_doctor.core.format import Facts, FastPath
from rollout_doctor.core.model import Model
from rollout_doctor.core.reports import IndexReset, SessionInfo
from rollout_doctor.core.rules import Options, Registry
from rollout_doctor.core.thread import Ancestry, ThreadInfo, Unthreaded
from rollout_doctor.core.verdict import Effect

BLANK, INVALID, HEAD, CALL, OUT = range(5)
KINDS = {"head": HEAD, "call": CALL, "out": OUT}


@dataclass(slots=True)
class Record:
    line: int
    call_id: str | None = None


class ToyLines:
    def exact(self, content: memoryview, line: int, torn: bool) -> Facts:
        if not bytes(content).strip():
            return BLANK, None, None
        try:
            obj = orjson.loads(content)
        except orjson.JSONDecodeError:
            return INVALID, None, Record(line)
        kind = KINDS.get(obj.get("t")) if isinstance(obj, dict) else None
        if kind is None:
            return INVALID, None, Record(line)
        call_id = obj.get("id") if isinstance(obj.get("id"), str) else None
        return kind, None, Record(line, call_id)

    def unread(self, line: int, length: int) -> Facts:
        return INVALID, None, Record(line)

    def fast(self, size: int) -> FastPath | None:
        return None

    def expect(self, total: int) -> None:
        pass  # no fast path to load

    def shift(self, record: Any, lines: int) -> None:
        record.line += lines


class ToyModel(Model):
    header_name: ClassVar[str] = "head"

    @property
    def generation(self) -> str:
        return "toy"

    @property
    def cli_version(self) -> str | None:
        return None

    def sent(self, line: int) -> bool:
        return self.kinds[line] in (CALL, OUT)

    def unreadable(self, line: int) -> bool:
        return self.kinds[line] == INVALID

    def has_header(self) -> bool:
        return HEAD in self.kinds[self.own_start:]

    def mentions_header(self, line: int) -> bool:
        return b'"head"' in self.head(line, 4096)

    def summarize(self, line: int) -> str:
        return self.content(line).decode("utf-8", "replace")[:60]


class Context:
    def __init__(self, model: Model, options: Options) -> None:
        self.model, self.options = model, options


class ToyFormat(Unthreaded):
    name = "toy"
    session_noun = "toy session"
    file_noun = "toy session"
    lines = ToyLines()
    model_type = ToyModel
    in_flight_rules = frozenset({"toy-orphan-call"})
    torn_line_rule = "none"

    def __init__(self) -> None:
        from tests.support.toy import orphan_call

        self.rules = Registry([orphan_call], ("only",), ("pairing",), ("toy",),
                              (Effect("stuck", True, "will not resume"),))
        self.targets = self.rules.targets

    def owns_name(self, name: str) -> bool:
        return name.endswith(".toy.jsonl")

    def owns_content(self, path: Path) -> bool:
        return False

    def not_ours(self, path: Path) -> str:
        return f"{path}: not a toy session"

    def context(self, model: Model, options: Options) -> Context:
        return Context(model, options)

    def decide(self, options: Options, model: Model) -> Options:
        return options if options.target is not None else Options("only", options.select, options.ignore,
                                                                    options.unsafe_fixes)

    def thread_info(self, model: Model, ancestry: Ancestry | None) -> ThreadInfo:
        return ThreadInfo(None, None)

    def describe_session(self, path: Path, model: Model | None) -> SessionInfo:
        return SessionInfo(None, None, None, None, None)

    def report_inputs(self, path: Path) -> tuple[Path, ...]:
        return ()

    def current_turn_start(self, model: Model) -> int:
        return model.own_start

    def after_write(self, path: Path, backup_folder: Path) -> IndexReset | None:
        return None

    def after_recover(self, paths: list[Path], backup_folder: Path) -> None:
        return None


TOY = ToyFormat()
