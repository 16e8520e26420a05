"""How the engine indexes a Codex rollout: the reference classifier (classify.py) and its fast path
(classify_fast.py), which read their fields from one table (fields.py), so they cannot disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rollout_doctor.core.lines import LINE_LIMIT
from rollout_doctor.formats.codex.classify import describe_invalid, line_facts
from rollout_doctor.formats.codex.records import Compacted, Invalid, LineKind

if TYPE_CHECKING:
    from rollout_doctor.core.format import Facts, FastPath

# Below this many bytes to index in a process, the reference classifier alone is used: importing msgspec
# and simdjson (17 ms) costs more than they save on a small file, and `check FILE` runs before every
# resume (on the benchmark's 5 MB session: a median 185 ms with them, 163 ms without, 12 alternating
# runs). It is weighed against all a process will read (``expect``), not one file: a home of 38 rollouts
# of 2 to 15 MB took 2.3 s of CPU without the fast path and 1.15 s with it (issue 14). Once loaded, the
# fast path serves every file of the process.
FAST_PATH_BYTES = 16 << 20

_fast: FastPath | None = None


class _FastPath:
    """classify_fast.py as core's ``FastPath`` (read through the module, so that tests can patch it)."""

    def __init__(self) -> None:
        from rollout_doctor.formats.codex import classify_fast

        self.module = classify_fast

    @property
    def line_limit(self) -> int:
        return self.module.BLOCK_LINE_LIMIT

    def line_facts(self, content: memoryview, line: int) -> Facts | None:
        return self.module.fast_facts(content, line)

    def block_facts(self, contents: list[memoryview], first: int) -> Any:
        return self.module.block_facts(contents, first)

    def block_valid(self, contents: list[memoryview]) -> bool:
        return self.module.block_valid(contents)


def load_fast_path() -> FastPath:
    """The fast path, loaded once per process (tests load it to exercise it on small files)."""
    global _fast
    if _fast is None:
        _fast = _FastPath()  # type: ignore[assignment]
    return _fast  # type: ignore[return-value]


def fast_path_pays(size: int) -> bool:
    return _fast is not None or size >= FAST_PATH_BYTES


class CodexLines:
    """core.format.Classifier for rollouts. Stateless, so it travels to worker processes."""

    def exact(self, content: memoryview, line: int, torn: bool) -> Facts:
        facts = line_facts(content, line)
        if facts[0] is not LineKind.INVALID or not torn:
            return facts
        data = bytes(content)
        record = Invalid(line, "torn: the file ends in the middle of this line")
        if b"\x00" in data or data.strip(b"\x00") == b"":
            record = Invalid(line, describe_invalid(data, ValueError()))
        return LineKind.INVALID, None, record

    def unread(self, line: int, length: int) -> Facts:
        return LineKind.INVALID, None, Invalid(line, f"longer than {LINE_LIMIT >> 20} MiB ({length:,} bytes); not read",
                                               oversized=True)

    def fast(self, size: int) -> FastPath | None:
        return load_fast_path() if fast_path_pays(size) else None

    def expect(self, total: int) -> None:
        if fast_path_pays(total):
            load_fast_path()

    def shift(self, record: Any, lines: int) -> None:
        record.line += lines
        if isinstance(record, Compacted) and record.replacement:
            for item in record.replacement:
                item.line += lines
