"""The line model of a Claude Code transcript (core.model.Model with its questions answered)."""

from __future__ import annotations

from typing import ClassVar

import orjson

from rollout_doctor.core.model import Model
from rollout_doctor.formats.claude.records import Entry, LineKind

GENERATION = "transcript"  # one shape so far: the uuid/parentUuid lines of 1.x and 2.x


class Transcript(Model):
    header_name: ClassVar[str] = "conversation line"

    @property
    def generation(self) -> str:
        return GENERATION

    @property
    def cli_version(self) -> str | None:
        for line in self.own_lines:
            if self.kinds[line] == LineKind.MESSAGE:
                try:
                    version = orjson.loads(self.content(line)).get("version")
                except (orjson.JSONDecodeError, AttributeError):
                    return None
                return version if isinstance(version, str) else None
        return None

    def sent(self, line: int) -> bool:
        return self.kinds[line] == LineKind.MESSAGE

    def unreadable(self, line: int) -> bool:
        return self.kinds[line] == LineKind.INVALID

    def has_header(self) -> bool:
        return any(self.kinds[line] in (LineKind.MESSAGE, LineKind.LINKED) for line in self.own_lines)

    def mentions_header(self, line: int) -> bool:
        return b'"uuid"' in self.head(line, 4096)

    def summarize(self, line: int) -> str:
        record = self.records.get(line)
        if not isinstance(record, Entry):
            return self.content(line)[:60].decode("utf-8", "replace")
        parts = [record.type]
        if record.uses:
            parts.append("tool_use " + ", ".join(record.uses))
        if record.results:
            parts.append("tool_result " + ", ".join(record.results))
        if record.advisor_results:
            parts.append("advisor_tool_result " + ", ".join(record.advisor_results))
        return " ".join(parts) + f" (uuid {(record.uuid or '')[:8]})"
