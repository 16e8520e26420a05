"""The seam between the engine and a session format: what core/ asks of one, and nothing more.

core/ reads, judges and repairs line-oriented session logs without knowing whose they are. A format
(formats/codex/, and any sibling folder) says which files are its own, what each line holds, which
files a session continues, which rules apply, and what the client must be told after a file changed.
The engine takes a ``Format`` as an argument wherever it needs one; it never imports a format.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rollout_doctor.core.index import Part
    from rollout_doctor.core.lines import Source
    from rollout_doctor.core.model import Model
    from rollout_doctor.core.reports import FileReport, IndexReset, SessionInfo
    from rollout_doctor.core.rules import Options, Registry
    from rollout_doctor.core.thread import Ancestry, Cut, ThreadInfo

# What indexing keeps of one line: its kind (a small int the format defines), its ordinal (an int,
# None when absent, False when present but not an integer) and a record for the rules (or None).
Facts = tuple[int, "int | None | bool", Any]


class BlockFacts(Protocol):
    """The fast path's answer for a whole block of lines."""

    kinds: Sequence[int]
    ordinals: Sequence[int | None]
    records: dict[int, Any]  # block line -> record; each has ``line`` and ``call_id``
    deferred: Sequence[int]  # block lines the fast path left to the reference classifier


class FastPath(Protocol):
    """A faster classifier for ordinary lines, which must agree with the reference on every line it
    answers for (it may decline a line, or a block, and the reference then answers)."""

    line_limit: int  # longer lines go to the reference

    def line_facts(self, content: memoryview, line: int) -> Facts | None: ...

    def block_facts(self, contents: list[memoryview], first: int) -> BlockFacts | None: ...

    def block_valid(self, contents: list[memoryview]) -> bool: ...


class Classifier(Protocol):
    """How a format reads its lines."""

    def exact(self, content: memoryview, line: int, torn: bool) -> Facts:
        """The reference: never raises; ``torn`` says the line is the file's last and has no newline."""

    def unread(self, line: int, length: int) -> Facts:
        """The facts of a line too long to read (core.lines.LINE_LIMIT)."""

    def fast(self, size: int) -> FastPath | None:
        """The fast path to use for indexing ``size`` bytes (of one file, in one call), if it pays for
        itself (or is loaded)."""

    def expect(self, total: int) -> None:
        """This process is about to index some ``total`` bytes, over any number of files: load the fast
        path now if it pays for itself over them (loading costs once per process, not per file), so
        that ``fast`` then serves every file; workers forked after this share it."""

    def shift(self, record: Any, lines: int) -> None:
        """Renumber a record (and any it holds) when its part moves down ``lines`` lines in a model."""


class Threads(Protocol):
    """How a format's files continue each other, resolved once per run (caches live here)."""

    def ancestry(self, path: Path) -> Ancestry: ...

    def children(self, path: Path) -> list[Path]: ...

    def declared_cut(self, path: Path) -> Cut | None:
        """The cut a file declares into its parent, when it declares a usable one."""


class Format(Protocol):
    name: str  # "codex"
    session_noun: str  # "Codex rollout", in messages
    lines: Classifier
    model_type: type[Model]
    rules: Registry
    targets: tuple[str, ...]  # the wires a session can be sent over
    # Rules whose findings in a session a client is writing may be its turn in flight.
    in_flight_rules: frozenset[str]
    torn_line_rule: str  # the rule that reports a last line still being written

    def owns_name(self, name: str) -> bool: ...

    def owns_content(self, path: Path) -> bool:
        """Whether a file not named like a session still is one (its first record says so)."""

    def not_ours(self, path: Path) -> str:
        """The one-line reason a file given by name is left alone."""

    def threads(self) -> Threads: ...

    def continues_another(self, path: Path) -> bool:
        """Whether the file declares a parent (its history is not its own alone)."""

    def declared_cut(self, path: Path) -> Cut | None:
        """The usable cut a file declares, read from the file now (not cached)."""

    def cut_problem(self, cut: Cut, parent_size: int, parent: Path) -> str | None:
        """Why the client cannot use ``cut`` into a parent of ``parent_size`` bytes, if it cannot."""

    def context(self, model: Model, options: Options) -> object:
        """What the rules share while judging one model (each analysis computed once)."""

    def decide(self, options: Options, model: Model) -> Options:
        """``options`` with the wire decided for this session when none was given."""

    def continuation(self, context: object) -> object | None:
        """After a check of a file (``context``: what the rules shared), what judging lines appended to it
        later needs to know of it: a small summary the report cache keeps with the report. None when a
        line appended could change what the rules report of the lines before it (a reasoning item nothing
        follows yet, ...), or when the format judges every file whole."""

    def continued(self, state: object, report: FileReport, tail: Part, source: Source,
                  path: Path) -> tuple[object, SessionInfo] | None:
        """For a file checked before (``report``, with the summary ``state``) that has grown by whole lines
        (``tail``: their index, numbered from 0; ``source``: the file): the summary of the whole, and its
        session as ``describe_session`` would give it, when those lines provably leave the report as it
        was (they add no problem and change none found before). None when only a full check can tell."""

    def thread_info(self, model: Model, ancestry: Ancestry | None) -> ThreadInfo: ...

    def describe_session(self, path: Path, model: Model | None) -> SessionInfo:
        """What a person knows the session by: its name in the client, its folder, its id. From ``model``
        when the file was read (cheap), else from a few lines of the file; never raises."""

    def report_inputs(self, path: Path) -> Sequence[Path]:
        """The files besides the session's own that its report depends on (the report cache keeps a
        report only while they are unchanged too)."""

    def current_turn_start(self, model: Model) -> int:
        """The first line of the turn a live session is in."""

    def after_write(self, path: Path, backup_folder: Path) -> IndexReset | None:
        """Tell the client a file changed (drop its own index of the file); None when it keeps none."""

    def after_recover(self, paths: list[Path], backup_folder: Path) -> None:
        """The same, for files a killed run had written."""
