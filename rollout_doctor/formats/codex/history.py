"""What Codex would send, and a broker's replay of it.

``effective_history`` rebuilds the item list the way Codex does on resume: the newest ``compacted``
line carrying ``replacement_history`` replaces everything before it, a ``compacted`` line without one
keeps only the user messages, and ``thread_rolled_back`` drops the last N user turns.

``replay`` then plays that list through a broker that keeps a registry of pending calls: it pairs each
output with its call (first in, first out per call id), and records every way the list breaks the
contract (FORMAT.md, "The contract a correct message broker keeps"). The pairing rules each report one
kind of finding; computing them together keeps them consistent with one another.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import Enum
from itertools import accumulate

from rollout_doctor.formats.codex.facts import CHAT_MESSAGE_TYPES, Compacted, Event, Item, ItemKind, LineKind
from rollout_doctor.formats.codex.rollout import Rollout

# Input a broker holds while calls are pending. System-role messages are never sent (Codex's
# record_items drops them), so they cannot break anything.
INPUT_ROLES = frozenset({"user", "developer"})


def is_input_message(item: Item) -> bool:
    return item.kind is ItemKind.MESSAGE and item.role in INPUT_ROLES


def starts_user_turn(item: Item) -> bool:
    # codex-rs/core context_manager/history.rs is_user_turn_boundary (2026): injected context does not count.
    return item.kind is ItemKind.MESSAGE and item.role == "user" and not item.contextual


def drop_last_user_turns(items: list[Item], turns: int) -> list[Item]:
    """Codex's rollback: cut at the Nth-last user turn (or the first one when there are fewer)."""
    if turns <= 0:
        return items
    starts = [n for n, item in enumerate(items) if starts_user_turn(item)]
    if not starts:
        return items
    cut = starts[0] if turns >= len(starts) else starts[len(starts) - turns]
    return items[:cut]


def effective_history(model: Rollout) -> list[Item]:
    items: list[Item] = []
    for line in sorted(model.records):  # not sorted(items()): a tuple per record is 12 MB on a 1 GB rollout
        record = model.records[line]
        kind = model.kinds[line]
        if kind == LineKind.RESPONSE_ITEM and isinstance(record, Item):
            items.append(record)
        elif kind == LineKind.COMPACTED and isinstance(record, Compacted):
            if record.replacement_problem is not None:
                continue  # Codex cannot deserialize the line (CompactedItem wants a list) and skips it
            if record.replacement is not None:
                items = list(record.replacement)
            else:
                # build_compacted_history keeps only the real user messages (and adds a summary).
                items = [i for i in items if starts_user_turn(i)]
        elif isinstance(record, Event) and record.type == "thread_rolled_back" and record.num_turns:
            items = drop_last_user_turns(items, record.num_turns)
    return items


class Defect(Enum):
    ORPHAN_CALL = "orphan-call"
    ORPHAN_OUTPUT = "orphan-output"
    MISPLACED_OUTPUT = "misplaced-output"
    INTERLEAVED_MESSAGE = "interleaved-message"
    DUPLICATE_CALL_ID = "duplicate-call-id"
    DUPLICATE_OUTPUT = "duplicate-output"
    CHAT_ADJACENCY = "chat-adjacency"


@dataclass
class Finding:
    defect: Defect
    item: Item
    call_id: str | None
    # The item the fix anchors on: the call an output moves after, the output a message moves after,
    # the first call or output a duplicate repeats.
    anchor: Item | None = None
    # Items the finding involves besides `item` (pending calls, the output paired with a duplicate call).
    related: list[Item] = field(default_factory=list)


@dataclass
class Replay:
    history: list[Item]
    findings: list[Finding]
    pairs: list[tuple[int, int]]  # (call position, output position) in history, output after call

    def of(self, defect: Defect) -> list[Finding]:
        return [f for f in self.findings if f.defect is defect]


def replay(history: list[Item], chat: bool = False) -> Replay:
    findings: list[Finding] = []
    pairs: list[tuple[int, int]] = []
    groups: dict[str, list[int]] = defaultdict(list)
    for pos, item in enumerate(history):
        if item.kind in (ItemKind.CALL, ItemKind.OUTPUT) and item.call_id:
            groups[item.call_id].append(pos)

    # Positions whose output will sit right after its call once fixed (misplaced outputs).
    for call_id, positions in groups.items():
        if len(positions) == 2:  # the usual call and its output, in that order: nothing to find
            call, output = positions
            if history[call].kind is ItemKind.CALL and history[output].kind is ItemKind.OUTPUT:
                pairs.append((call, output))
                continue
        calls = [p for p in positions if history[p].kind is ItemKind.CALL]
        queue: list[int] = []
        early: list[int] = []
        paired_output: dict[int, int] = {}
        last_answered: int | None = None
        for pos in positions:
            item = history[pos]
            if item.kind is ItemKind.CALL:
                queue.append(pos)
            elif queue:
                call = queue.pop(0)
                paired_output[call] = pos
                pairs.append((call, pos))
                last_answered = pos
            elif not calls:
                findings.append(Finding(Defect.ORPHAN_OUTPUT, item, call_id))
            elif pos > calls[0]:
                findings.append(Finding(Defect.DUPLICATE_OUTPUT, item, call_id, anchor=history[last_answered]
                                        if last_answered is not None else None))
            else:
                early.append(pos)
        for pos in early:
            if queue:
                call = queue.pop(0)
                findings.append(Finding(Defect.MISPLACED_OUTPUT, history[pos], call_id, anchor=history[call]))
                paired_output[call] = pos
            else:
                # An output before a call that has its own output later: an extra answer.
                first_output = paired_output.get(calls[0])
                findings.append(Finding(Defect.DUPLICATE_OUTPUT, history[pos], call_id,
                                        anchor=history[first_output] if first_output is not None else None))
        for call in calls[1:]:
            output = paired_output.get(call)
            findings.append(Finding(Defect.DUPLICATE_CALL_ID, history[call], call_id, anchor=history[calls[0]],
                                    related=[history[output]] if output is not None else []))
        if calls and calls[0] in queue:
            findings.append(Finding(Defect.ORPHAN_CALL, history[calls[0]], call_id))

    findings.extend(_interleaved(history, pairs))
    if chat:
        findings.extend(_chat_adjacency(history, pairs))
    findings.sort(key=lambda f: (f.item.line, f.item.index or 0, f.defect.value))
    return Replay(history, findings, sorted(pairs))


def _interleaved(history: list[Item], pairs: list[tuple[int, int]]) -> list[Finding]:
    """Input messages recorded while a call was pending, each with the output after which a broker
    would have released it: the first point where no call is pending any more."""
    if not pairs:
        return []
    delta = [0] * len(history)
    for call, output in pairs:
        delta[call] += 1
        delta[output] -= 1
    open_after = list(accumulate(delta))  # calls pending just after each position
    release: list[int | None] = [None] * len(history)  # the first position from here with none pending
    next_zero: int | None = None
    for pos in range(len(history) - 1, -1, -1):
        if not open_after[pos]:
            next_zero = pos
        release[pos] = next_zero
    findings = []
    for pos, item in enumerate(history):
        if not open_after[pos] or not is_input_message(item):
            continue
        target = release[pos]
        pending = [history[c] for c, o in pairs if c < pos < o]
        if target is None or not pending:
            continue
        findings.append(Finding(Defect.INTERLEAVED_MESSAGE, item, pending[0].call_id, anchor=history[target],
                                related=pending))
    return findings


def _chat_adjacency(history: list[Item], pairs: list[tuple[int, int]]) -> list[Finding]:
    """Calls whose output is not the next chat message after them. Input messages in between are the
    interleaved-message rule's business, so they alone do not count here."""
    findings = []
    for call, output in pairs:
        between = [
            history[p] for p in range(call + 1, output)
            if history[p].type in CHAT_MESSAGE_TYPES and not is_input_message(history[p])
        ]
        if between:
            findings.append(Finding(Defect.CHAT_ADJACENCY, history[call], history[call].call_id,
                                    anchor=history[output], related=between))
    return findings
