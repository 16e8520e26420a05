"""What Codex would send, and what a broker replaying it knows.

``effective_history`` rebuilds the item list the way Codex does on resume: the newest ``compacted``
line carrying ``replacement_history`` replaces everything before it, a ``compacted`` line without one
keeps only the user messages, and ``thread_rolled_back`` drops the last N user turns.

``replay`` then plays that list through a broker that keeps a registry of pending calls. It records
facts, not verdicts: which output answers which call, which calls are pending at each point, and the
call ids whose items are anything but one call followed by its one output. Each pairing rule (rules/)
decides what in these facts breaks the contract (docs/codex-format.md, "The contract a correct message broker
keeps"); sharing one replay keeps them agreeing about which output answers which call.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from itertools import accumulate

from rollout_doctor.core.plain import Plain
from rollout_doctor.formats.codex.records import AGENT_ROLE, Compacted, Event, Item, ItemKind, LineKind
from rollout_doctor.formats.codex.rollout import Rollout

# Input a broker holds while calls are pending. System-role messages are never sent (Codex's
# record_items drops them), so they cannot break anything.
INPUT_ROLES = frozenset({"user", "developer"})
PAIRED = frozenset({ItemKind.CALL, ItemKind.OUTPUT})
ITEM_LINES = frozenset({LineKind.RESPONSE_ITEM, LineKind.INTER_AGENT})  # the lines whose Item is sent


def is_input_message(item: Item) -> bool:
    return item.kind is ItemKind.MESSAGE and item.role in INPUT_ROLES


def starts_user_turn(item: Item) -> bool:
    """codex-rs/core context_manager/history.rs is_user_turn_boundary (0.171.0): a user message that is not
    injected context, a message from another agent (an agent_message item, or an inter_agent_communication
    line, which rollback counts alike), or an assistant message carrying another agent's instructions."""
    if item.kind is not ItemKind.MESSAGE:
        return False
    return (item.role == "user" and not item.contextual) or item.role == AGENT_ROLE or item.inter_agent


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
    return replay_lines(model)


def turns_at_rollbacks(model: Rollout) -> list[tuple[Event, int]]:
    """Each ``thread_rolled_back`` Codex applies, with the number of turns the history held just before it."""
    return read_lines(model).rollbacks


class LinesRead(Plain):
    """What one pass over a rollout's records in line order learns: the rules share it (rules/base.py's
    Context), so that a 500 MB session's 93 000 records are walked once, not once per question."""

    FIELDS = ("history", "rollbacks", "event_lines")

    def __init__(self, history: list[Item], rollbacks: list[tuple[Event, int]], event_lines: list[int]) -> None:
        self.history = history  # effective_history
        self.rollbacks = rollbacks  # turns_at_rollbacks
        self.event_lines = event_lines  # the lines of every event record, in order


def read_lines(model: Rollout) -> LinesRead:
    rollbacks: list[tuple[Event, int]] = []
    event_lines: list[int] = []

    def on_rollback(event: Event, items: list[Item]) -> None:
        rollbacks.append((event, sum(map(starts_user_turn, items))))

    history = replay_lines(model, on_rollback, event_lines)
    return LinesRead(history, rollbacks, event_lines)


def replay_lines(model: Rollout, on_rollback: Callable[[Event, list[Item]], object] | None = None,
                 event_lines: list[int] | None = None) -> list[Item]:
    """The history Codex rebuilds on resume, line by line (``on_rollback`` sees each rollback first;
    ``event_lines`` is given the line of every event record)."""
    items: list[Item] = []
    records, kinds, add = model.records, model.kinds, items.append  # this loop runs once per record
    for line in sorted(records):  # not sorted(items()): a tuple per record is 12 MB on a 1 GB rollout
        record = records[line]
        kind = kinds[line]
        if kind in ITEM_LINES and isinstance(record, Item):
            add(record)
        elif kind == LineKind.COMPACTED and isinstance(record, Compacted):
            if record.replacement_problem is not None:
                continue  # Codex cannot deserialize the line (CompactedItem wants a list) and skips it
            if record.replacement is not None:
                items = list(record.replacement)
            else:
                # build_compacted_history keeps only the real user messages (and adds a summary).
                items = [i for i in items if i.kind is ItemKind.MESSAGE and i.role == "user" and not i.contextual]
            add = items.append
        elif isinstance(record, Event):
            if event_lines is not None:
                event_lines.append(line)
            if record.type == "thread_rolled_back" and record.num_turns:
                if on_rollback is not None:
                    on_rollback(record, items)
                items = drop_last_user_turns(items, record.num_turns)
                add = items.append
    return items


class CallGroup(Plain):
    """The calls and outputs of one call id, when they are anything but one call then its output.
    Positions are indexes into the history."""

    FIELDS = ("call_id", "calls", "outputs", "answers")

    def __init__(self, call_id: str, calls: list[int], outputs: list[int], answers: dict[int, int]) -> None:
        self.call_id = call_id
        self.calls = calls
        self.outputs = outputs
        # Call -> the output a broker pairs with it: an output answers the oldest call of its id still
        # waiting; one recorded while none waits, before the id's first call, answers the first call left
        # unanswered at the end (so it may come before its call). Outputs not in it answer no call.
        self.answers = answers

    def answered_in_order(self, call: int) -> int | None:
        """The output answering ``call`` when it comes after it."""
        output = self.answers.get(call)
        return output if output is not None and output > call else None


class Replay(Plain):
    """What a broker replaying the history knows; the pairing rules judge it."""

    FIELDS = ("history", "pairs", "groups", "empty_id_output")

    def __init__(self, history: list[Item], pairs: list[tuple[int, int]], groups: list[CallGroup],
                 empty_id_output: bool = False) -> None:
        self.history = history
        # (call, output) for every call answered after it, in the order the broker first saw each call id.
        self.pairs = pairs
        self.groups = groups  # the call ids whose items are not simply one call then its output
        self.empty_id_output = empty_id_output  # an output's call_id is "" (which pairs nothing here)

    @cached_property
    def pending_after(self) -> list[int]:
        """How many calls are waiting for their output just after each position."""
        delta = [0] * len(self.history)
        for call, output in self.pairs:
            delta[call] += 1
            delta[output] -= 1
        return list(accumulate(delta))

    def waiting_at(self, pos: int) -> list[Item]:
        """The calls recorded before ``pos`` whose output comes after it, in ``pairs`` order."""
        return [self.history[c] for c, o in self.pairs if c < pos < o]


def replay(history: list[Item]) -> Replay:
    """Pair every output with the call it answers, per call id (ids that are absent or empty pair nothing).

    One pass keeps, per id, only its first position, or the pair once its output came right after its
    call (``~`` its place in ``found``): the usual id is a call then its output, and a list of positions
    per id was 5 MB of the 1 GB rollout's fix, at the peak of its last check. The few ids that are
    anything else get their positions listed for ``_broker``."""
    seen: dict[str, int] = {}  # id -> its first position, or ~(the index of its pair in ``found``)
    found: list[tuple[int, int]] = []
    irregular: dict[str, list[int]] = {}
    empty_id_output = False
    call_kind, output_kind = ItemKind.CALL, ItemKind.OUTPUT
    for pos, item in enumerate(history):  # once per item: no attribute looked up twice
        kind = item.kind
        if kind is not call_kind and kind is not output_kind:
            continue
        call_id = item.call_id
        if not call_id:
            empty_id_output = empty_id_output or (call_id == "" and kind is output_kind)
            continue
        at = seen.get(call_id)
        if at is None:
            seen[call_id] = pos
        elif call_id in irregular:
            irregular[call_id].append(pos)
        elif at < 0:  # a third item of an id paired so far
            irregular[call_id] = [*found[~at], pos]
        elif kind is output_kind and history[at].kind is call_kind:
            seen[call_id] = ~len(found)
            found.append((at, pos))
        else:
            irregular[call_id] = [at, pos]
    pairs: list[tuple[int, int]] = []
    groups: list[CallGroup] = []
    for call_id, at in seen.items():  # in the order the broker first saw each id
        positions = irregular.get(call_id)
        if positions is None and at < 0:
            pairs.append(found[~at])
            continue
        answered = _broker(history, call_id, positions if positions is not None else [at])
        pairs.extend((c, o) for c, o in answered.answers.items() if c < o)
        groups.append(answered)
    return Replay(history, pairs, groups, empty_id_output)


def _broker(history: list[Item], call_id: str, positions: list[int]) -> CallGroup:
    """How a broker pairs the calls and outputs of one id (see ``CallGroup.answers``)."""
    calls = [p for p in positions if history[p].kind is ItemKind.CALL]
    outputs = [p for p in positions if history[p].kind is ItemKind.OUTPUT]
    waiting: list[int] = []
    early: list[int] = []
    answers: dict[int, int] = {}
    for pos in positions:
        if history[pos].kind is ItemKind.CALL:
            waiting.append(pos)
        elif waiting:
            answers[waiting.pop(0)] = pos
        elif calls and pos < calls[0]:
            early.append(pos)
    for pos in early:
        if waiting:
            answers[waiting.pop(0)] = pos
    return CallGroup(call_id, calls, outputs, answers)
