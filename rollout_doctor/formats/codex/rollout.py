"""A Codex rollout as the engine's line model sees it: what its kinds and records mean.

``Rollout`` adds to core's ``Model`` the file's session_meta, the generation it is written in, the
ordinal its first record should carry, and the answers the engine asks of a format's model (which
lines are sent, which cannot be read, how a line is renumbered and summarised).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rollout_doctor.core.model import Model
from rollout_doctor.core.thread import Cut, Inherited
from rollout_doctor.formats.codex.records import Invalid, LineKind, Meta

if TYPE_CHECKING:
    from rollout_doctor.core.fixes import Pieces

SENT = frozenset({LineKind.RESPONSE_ITEM, LineKind.COMPACTED})
HEADERS = frozenset({LineKind.SESSION_META, LineKind.LEGACY_HEADER})


class Rollout(Model):
    header_name: ClassVar[str] = "session_meta"

    def kind(self, line: int) -> LineKind:
        return LineKind(self.kinds[line])

    def oversized(self, line: int) -> bool:
        record = self.records.get(line)
        return isinstance(record, Invalid) and record.oversized

    # meta and generation are asked for by every rule and every fix edit; the model does not change once
    # read, so each is found once.
    @cached_property
    def meta(self) -> Meta | None:
        """The file's own session_meta (or legacy header): its first from ``own_start`` on. Found with
        bytearray.find, where sorting the records took 0.1 s on a 1 GB rollout."""
        found = [at for at in (self.kinds.find(LineKind.SESSION_META, self.own_start),
                               self.kinds.find(LineKind.LEGACY_HEADER, self.own_start)) if at >= 0]
        record = self.records.get(min(found)) if found else None
        return record if isinstance(record, Meta) else None

    @property
    def first_meaningful_line(self) -> int | None:
        for line in self.own_lines:
            if self.kinds[line] not in (LineKind.BLANK, LineKind.INVALID):
                return line
        return None

    @property
    def first_ordinal(self) -> int:
        """The ordinal the file's first record should carry: where its parent's history ends (a fork
        continues the numbering, 0.169.0 and 0.171.0), else 0."""
        base = self.meta.history_base if self.meta is not None else None
        if self.own_start and self.links and self.links[-1].last_ordinal is not None:
            return self.links[-1].last_ordinal + 1
        if base is not None and base.end_ordinal_exclusive is not None and base.end_ordinal_exclusive > 0:
            return base.end_ordinal_exclusive
        return 0

    @cached_property
    def generation(self) -> str:  # type: ignore[override]
        """``legacy``, ``envelope``, ``paginated`` or ``unknown``, decided by the session's meta line."""
        meta = self.meta
        if meta is None:
            own = self.kinds[self.own_start:]
            if LineKind.LEGACY_HEADER in own or LineKind.LEGACY_STATE in own:
                return "legacy"
            return "unknown"
        if meta.legacy:
            return "legacy"
        if meta.history_mode == "paginated":
            return "paginated"
        return "envelope"

    @property
    def cli_version(self) -> str | None:
        meta = self.meta
        return meta.cli_version if meta else None

    def declared_cut(self) -> Cut | None:
        base = self.meta.history_base if self.meta is not None else None
        return cut_of(base)

    # --- the engine's questions -----------------------------------------------------------------------

    def sent(self, line: int) -> bool:
        return self.kinds[line] in SENT

    def unreadable(self, line: int) -> bool:
        return self.kinds[line] == LineKind.INVALID

    def has_header(self) -> bool:
        return any(self.kinds[line] in HEADERS for line in self.own_lines)

    def mentions_header(self, line: int) -> bool:
        return b'"session_meta"' in self.head(line, 1 << 16)

    def renumber(self, pieces: Pieces, start: int) -> None:
        if self.generation == "paginated":  # only 0.169.0 on numbers its lines
            from rollout_doctor.formats.codex.items import renumber

            renumber(self, pieces, start)

    def with_ordinal(self, content: bytes, ordinal: int) -> bytes:
        from rollout_doctor.formats.codex.items import set_ordinal

        return set_ordinal(content, ordinal)

    def ordinal_span(self, data: bytes, start: int, end: int) -> tuple[int, int] | None:
        from rollout_doctor.formats.codex.items import sole_ordinal

        return sole_ordinal(data, start, end)

    def ordinal_spans(self, data: bytes, bounds: list[tuple[int, int]]) -> list[tuple[int, int] | None]:
        from rollout_doctor.formats.codex.items import sole_ordinals

        return sole_ordinals(data, bounds)

    def summarize(self, line: int) -> str:
        from rollout_doctor.formats.codex.summary import summarize_line

        return summarize_line(self, line)


def cut_of(base: object) -> Cut | None:
    """The usable cut of a ``HistoryBase`` (None when absent or malformed)."""
    if base is None or getattr(base, "problem", None) is not None:
        return None
    offset, ordinal = base.end_byte_offset, base.end_ordinal_exclusive  # type: ignore[attr-defined]
    return None if offset is None or ordinal is None else Cut(offset, ordinal)


def read_rollout(path: Path, inherited: Sequence[Inherited] = (), chain_problem: str | None = None) -> Rollout:
    """core.model.read_model for a Codex rollout."""
    from rollout_doctor.core.model import read_model
    from rollout_doctor.formats.codex.format import CODEX

    return read_model(CODEX, path, inherited, chain_problem)  # type: ignore[return-value]
