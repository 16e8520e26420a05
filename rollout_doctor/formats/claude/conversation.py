"""The conversation Claude Code sends on a resume, read from the parentUuid chain (not the file order).

Seen with 2.1.332 against a loopback API (tests/test_claude_e2e.py, fixtures/claude/NOTES.md):
resuming walks ``parentUuid`` back from the newest line; an assistant response is written one line per
content block, the lines chained one after the other and sharing ``message.id``; of parallel calls'
results only one sits on the chain, the others hang off the side (their parent is the assistant line
of their own call) and are regathered by the client by message id: the other calls' assistant lines into the response, their
results into the user message that follows. Consecutive
user lines (tool results, typed text) are one user message to the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from rollout_doctor.core.model import Model
from rollout_doctor.formats.claude.records import Entry, LineKind


@dataclass
class Turn:
    """One message of the request: its role and the transcript lines it is made of, in chain order."""

    role: str
    lines: list[int] = field(default_factory=list)


class Conversation:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.entries: dict[int, Entry] = {line: record for line in model.own_lines
                                           if model.kinds[line] in (LineKind.MESSAGE, LineKind.LINKED)
                                           and (record := model.records.get(line)) is not None}
        self.by_uuid: dict[str, int] = {}
        for line, entry in self.entries.items():
            if entry.uuid is not None:
                self.by_uuid.setdefault(entry.uuid, line)
        self.children: dict[str, list[int]] = {}
        for line, entry in self.entries.items():
            if entry.parent is not None:
                self.children.setdefault(entry.parent, []).append(line)

    def main(self) -> list[int]:
        """The lines of the main conversation (not a subagent's sidechain), in file order."""
        return [line for line, e in self.entries.items() if not e.sidechain]

    @cached_property
    def leaf(self) -> int | None:
        """The newest message line of the main conversation: where a resume walks back from."""
        return next((line for line in reversed(self.main()) if self.model.kinds[line] == LineKind.MESSAGE), None)

    def ancestors(self, line: int) -> list[int]:
        """``line`` and its parents, newest first, as far as the chain goes (a loop ends it)."""
        out, seen = [], set()
        current: int | None = line
        while current is not None and current not in seen:
            seen.add(current)
            out.append(current)
            parent = self.entries[current].parent
            current = self.by_uuid.get(parent) if parent is not None else None
        return out

    @cached_property
    def chain(self) -> list[int]:
        """The lines a resume sends, oldest first."""
        return list(reversed(self.ancestors(self.leaf))) if self.leaf is not None else []

    @cached_property
    def on_chain(self) -> frozenset[int]:
        return frozenset(self.chain)

    def response_of(self, line: int) -> list[int]:
        """The assistant lines of the response ``line`` belongs to, in file order: those sharing its message
        id and linked to it parent to child (a copy of the response on another branch is not gathered)."""
        wanted = self.entries[line].message_id
        if wanted is None:
            return [line]
        group, todo = {line}, [line]
        while todo:
            entry = self.entries[todo.pop()]
            near = [*self.children.get(entry.uuid or "", ())]
            if entry.parent is not None and entry.parent in self.by_uuid:
                near.append(self.by_uuid[entry.parent])
            for other in near:
                candidate = self.entries[other]
                if other not in group and candidate.role == "assistant" and candidate.message_id == wanted \
                        and not candidate.sidechain:
                    group.add(other)
                    todo.append(other)
        return sorted(group)

    def _results_off_chain(self, line: int) -> list[int]:
        return [c for c in self.children.get(self.entries[line].uuid or "", ())
                if c not in self.on_chain and self.entries[c].results and not self.entries[c].sidechain]

    @cached_property
    def turns(self) -> list[Turn]:
        """The request's messages, each with its lines. A response's lines off the chain (parallel calls)
        join it, regathered by message id, and their results join the user message after it."""
        turns: list[Turn] = []
        pending: list[int] = []  # results off the chain of the response being read
        gathered: set[int] = set()
        for line in self.chain:
            entry = self.entries[line]
            if self.model.kinds[line] != LineKind.MESSAGE or line in gathered:
                continue
            last = turns[-1] if turns else None
            if last is not None and last.role == entry.role == "user":
                last.lines.append(line)
                continue
            if pending and entry.role == "assistant":
                turns.append(Turn("user", pending))
                pending = []
                last = turns[-1]
            if entry.role == "assistant":
                group = [g for g in self.response_of(line) if g not in gathered]
                gathered.update(group)
                if last is not None and last.role == "assistant" and last.lines and \
                        self.entries[last.lines[-1]].message_id == entry.message_id is not None:
                    last.lines.extend(group)
                else:
                    turns.append(Turn("assistant", list(group)))
                pending += [r for g in group for r in self._results_off_chain(g) if r not in pending]
            else:
                turns.append(Turn(entry.role or "", pending + [line]))
                pending = []
        if pending:
            turns.append(Turn("user", pending))
        return turns

    def uses_of(self, turn: Turn) -> list[tuple[int, str]]:
        return [(line, use) for line in turn.lines for use in self.entries[line].uses]

    def results_of(self, turn: Turn) -> list[tuple[int, str]]:
        return [(line, result) for line in turn.lines for result in self.entries[line].results]

    def answer_end(self, index: int) -> int:
        """The chain line a new result for the assistant turn ``index`` goes after: the last tool-result
        line on the chain right after the response, else the response's last line."""
        end = self.turns[index].lines[-1]
        if index + 1 < len(self.turns) and self.turns[index + 1].role == "user":
            for line in self.turns[index + 1].lines:
                if line in self.on_chain and self.entries[line].results:
                    end = line
                elif line in self.on_chain:
                    break
        return end

    def chain_child(self, line: int) -> int | None:
        """The line that continues ``line`` on the chain, if any."""
        at = self.chain.index(line) if line in self.on_chain else -1
        return self.chain[at + 1] if 0 <= at < len(self.chain) - 1 else None

    def right_parent(self, line: int) -> int | None:
        """The line a line whose parent is lost should hang from: the nearest earlier line of the main
        conversation (a compact boundary stops the search: it is the nearest), that does not descend from
        ``line`` (no loop). Claude Code hangs each line from the one written just before it, parallel
        calls' lines included (2.1.332: the line after a parallel response hangs from the last result
        written, whichever call it answers), so the file order is the right order."""
        for earlier in reversed([m for m in self.main() if m < line]):
            if line in self.ancestors(earlier):
                continue
            return earlier
        return None
