"""The line-indexed model of one session file, or of the chain of files a fork continues.

Only offsets, a kind per line, ordinals and the small records the rules need are kept; the bytes of a
line are read again from the source when a fix or a report needs them. That keeps a 1 GB rollout in a
few tens of MB and makes byte-exact write-back trivial: an untouched line is copied, never rebuilt.

What a kind or a record means is the format's business (``Format.lines`` classifies, and a format's
subclass of ``Model`` answers the questions the engine asks of a file). A fork or a revert branch
(thread.py) is modelled with its history: the lines of each parent before its cut come first,
numbered 0, 1, 2, ... like the file's own lines after them, so the rules see what the client would
send. ``own_start`` is the first line of the file itself; a fix only ever edits lines from there on,
and ``locate`` says which file and line an inherited line is.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import orjson

from rollout_doctor.core.index import BOM, ORDINAL_ABSENT, ORDINAL_NOT_INT, Part, assemble, index_range
from rollout_doctor.core.lines import Source, Spliced, split_terminator
from rollout_doctor.core.plain import Plain
from rollout_doctor.core.thread import Cut, Inherited

if TYPE_CHECKING:
    from rollout_doctor.core.fixes import Pieces
    from rollout_doctor.core.format import Format



class Link(NamedTuple):
    """What was found at one cut while the chain was read (a format's rule judges it)."""

    parent: Path
    cut: Cut
    parent_size: int
    end: int  # where the inherited part really ends: the last line boundary at or before the cut
    last_ordinal: int | None  # of the last record before ``end``
    first_line: int  # the parent's first line in the model
    lines: int  # how many of its lines the model holds
    problem: str | None = None  # why the client cannot use this cut at all (then no line of it is inherited)


class FileSpan(NamedTuple):
    path: Path
    first: int  # the model line of the file's line 0
    count: int


class Model(Plain):
    """A session file's lines. A format subclasses it to say what its kinds and records mean; the
    methods below that raise are the questions the engine asks (``Format`` documents the seam)."""

    FIELDS = ("path", "source", "offsets", "kinds", "ordinals", "records", "bom_lines", "named", "own_start",
              "spans", "links", "chain_problem")

    def __init__(self, path: Path, source: Source | Spliced, offsets: array | None = None,
                 kinds: bytearray | None = None, ordinals: array | None = None, records: dict[int, Any] | None = None,
                 bom_lines: frozenset[int] = frozenset(), named: Path | None = None, own_start: int = 0,
                 spans: tuple[FileSpan, ...] = (), links: tuple[Link, ...] = (), chain_problem: str | None = None,
                 ) -> None:
        self.path = path
        self.source = source
        self.offsets = array("q") if offsets is None else offsets  # n + 1 entries: starts, then the size
        self.kinds = bytearray() if kinds is None else kinds
        self.ordinals = array("q") if ordinals is None else ordinals
        self.records = {} if records is None else records
        self.bom_lines = bom_lines  # lines that start with a byte order mark (a file's line 0)
        # The path whose name says which session this is. While fix works through temporary passes,
        # ``path`` is a scratch file and this stays the session's own name.
        self.named = named
        self.own_start = own_start  # the first line of this file; the lines before it are inherited from parents
        self.spans = spans
        self.links = links
        self.chain_problem = chain_problem  # why the parents' history could not be read (thread.Ancestry)

    header_name: ClassVar[str] = "header"  # what the format calls the record that makes a file a session

    @property
    def name_path(self) -> Path:
        return self.named or self.path

    def __len__(self) -> int:
        return len(self.kinds)

    @property
    def size(self) -> int:
        return self.offsets[-1] if self.offsets else 0

    @property
    def has_bom(self) -> bool:
        return self.own_start in self.bom_lines

    @property
    def own_lines(self) -> range:
        return range(self.own_start, len(self.kinds))

    def locate(self, line: int) -> tuple[Path | None, int]:
        """The file an inherited line comes from and its line there; (None, line) for the file's own."""
        if line >= self.own_start:
            return None, line - self.own_start
        for span in self.spans:
            if span.first <= line < span.first + span.count:
                return span.path, line - span.first
        raise IndexError(line)

    def raw(self, line: int) -> bytes:
        start = self.offsets[line]
        return self.source.read(start, self.offsets[line + 1] - start)

    def content(self, line: int) -> bytes:
        content = split_terminator(self.raw(line))[0]
        return content[len(BOM) :] if line in self.bom_lines else content

    def terminator(self, line: int) -> bytes:
        start, end = self.offsets[line], self.offsets[line + 1]
        return split_terminator(self.source.read(max(start, end - 2), min(2, end - start)))[1]

    def head(self, line: int, length: int) -> bytes:
        """The first ``length`` bytes of a line: enough to recognise it without reading all of a long one."""
        start = self.offsets[line]
        return self.source.read(start, min(length, self.offsets[line + 1] - start))

    def parsed(self, line: int) -> Any:
        return orjson.loads(self.content(line))

    def ordinal(self, line: int) -> int | None | bool:
        value = self.ordinals[line]
        return None if value == ORDINAL_ABSENT else False if value == ORDINAL_NOT_INT else value

    # --- what the engine asks a format's model ------------------------------------------------------

    @property
    def generation(self) -> str:
        """Which shape of the format the file is written in (reported, and used to pick fixes)."""
        raise NotImplementedError

    @property
    def cli_version(self) -> str | None:
        """The release of the client that wrote the file, if it says."""
        raise NotImplementedError

    def sent(self, line: int) -> bool:
        """Whether the line is part of what the model is sent (a message, a call, a summary)."""
        raise NotImplementedError

    def unreadable(self, line: int) -> bool:
        """Whether the client cannot read the line at all."""
        raise NotImplementedError

    def has_header(self) -> bool:
        """Whether the file's own lines hold the record that makes it a session (Codex: session_meta)."""
        raise NotImplementedError

    def mentions_header(self, line: int) -> bool:
        """Whether an unreadable line still looks like it held that record."""
        raise NotImplementedError

    def declared_cut(self) -> Cut | None:
        """The cut the file's own header declares into a parent, when it declares a usable one."""
        return None

    def renumber(self, pieces: Pieces, start: int) -> None:
        """Give the pieces from ``start`` on the ordinals they need, for a format that numbers its lines."""

    def with_ordinal(self, content: bytes, ordinal: int) -> bytes:
        """A line's content with its ordinal set (only called for pieces ``renumber`` gave one)."""
        raise NotImplementedError

    def ordinal_span(self, data: bytes, start: int, end: int) -> tuple[int, int] | None:
        """Where the ordinal of the line whose content is ``data[start:end]`` lies, when writing another
        number there is all ``with_ordinal`` would change that classifying the line reads: then the
        line's kind and record carry over to the new version unread (core/derived.py). None when the
        format cannot tell; the line is then set with ``with_ordinal`` and classified again."""
        return None

    def ordinal_spans(self, data: bytes, bounds: list[tuple[int, int]]) -> list[tuple[int, int] | None]:
        """``ordinal_span`` of many consecutive lines of ``data`` (``bounds``: each line's content, no
        terminator), which a format may judge a block at a time."""
        return [self.ordinal_span(data, start, end) for start, end in bounds]

    def summarize(self, line: int) -> str:
        """A short description of a line for a diff."""
        raise NotImplementedError

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> Model:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_model(fmt: Format, path: Path, inherited: Sequence[Inherited] = (),
               chain_problem: str | None = None, progress: Callable[[int], None] | None = None,
               cached: bool = False) -> Model:
    """Index a session file, after the parts of its parents it continues (root first). The caller closes
    it (it holds the sources open for later reads).

    A cut the client cannot use (past the parent's end, ordinal 0) leaves the model without inherited
    lines: the client refuses such a session, and ``links`` says why. So does ``chain_problem`` (a
    parent that is missing, a malformed pointer), which the caller found while resolving the chain.
    ``progress`` is told the bytes of the file's own lines as they are indexed. ``cached``: each session
    file's index comes from the index cache as far as it can be trusted (index_cache.py), and goes to it;
    a fix's scratch passes are read without it."""
    sources: list[Source] = []
    try:
        parts: list[tuple[Source, Part, Path]] = []
        links: list[Link] = []
        broken = chain_problem is not None
        for parent in inherited:
            source = Source.open(parent.source_path)
            sources.append(source)
            link = _link(fmt, source, parent)
            links.append(link)
            broken = broken or link.problem is not None
            parts.append((source, _parent_part(fmt, source, parent, link.end, cached), parent.shown))
        own = Source.open(path)
        sources.append(own)
        if broken:
            parts = []
        if cached:
            from rollout_doctor.core.index_cache import indexed

            parts.append((own, indexed(fmt, own, path, progress), path))
        else:
            size = own.size
            parts.append((own, index_range(fmt.lines, own, 0, size, size, progress), path))
        model = build(fmt, path, parts, tuple(_counted(links, parts) if not broken else links))
        model.chain_problem = chain_problem
        return model
    except BaseException:
        for source in sources:
            source.close()
        raise


def _parent_part(fmt: Format, source: Source, parent: Inherited, end: int, cached: bool) -> Part:
    """A parent's lines before the cut: from its whole index, which the cache keeps (a parent is usually
    checked too), when reading the parent itself; a fix's planned version is indexed as it is."""
    if not cached or parent.read is not None or end == 0:
        return index_range(fmt.lines, source, 0, end, end)
    from rollout_doctor.core.index_cache import indexed, upto

    return upto(indexed(fmt, source, parent.shown), end, fmt, source)


def build(fmt: Format, path: Path, parts: list[tuple[Source, Part, Path]], links: tuple[Link, ...] = ()) -> Model:
    """The format's model of consecutive indexed parts (index.assemble)."""
    model = fmt.model_type(path, parts[-1][0])
    assemble(model, fmt.lines, parts)
    model.links = links
    return model


def _link(fmt: Format, source: Source, parent: Inherited) -> Link:
    """Where a cut really ends in ``source`` (whole lines only, as the client reads it) and what is
    wrong with it, if anything (the format says: it names the cut as its files do)."""
    problem = fmt.cut_problem(parent.cut, source.size, parent.shown)
    end = 0 if problem else _line_start_at_or_before(source, parent.cut.end_byte_offset)
    return Link(parent.shown, parent.cut, source.size, end, None, 0, 0, problem)


def _line_start_at_or_before(source: Source, offset: int) -> int:
    """The largest line boundary (0, or just after a newline) at or before ``offset``."""
    pos = offset
    while pos > 0:
        start = max(0, pos - (1 << 16))
        at = source.read(start, pos - start).rfind(b"\n")
        if at >= 0:
            return start + at + 1
        pos = start
    return 0


def _counted(links: list[Link], parts: list[tuple[Source, Part, Path]]) -> list[Link]:
    """Each link with where its lines landed in the model and the ordinal of its last record."""
    out = []
    first = 0
    for link, (_source, part, _path) in zip(links, parts):
        count = len(part.kinds)
        last = next((o for o in reversed(part.ordinals) if o >= 0), None)
        out.append(Link(link.parent, link.cut, link.parent_size, link.end, last, first, count, link.problem))
        first += count
    return out
