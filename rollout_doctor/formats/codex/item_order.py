"""What the order of the history's items breaks, as facts the rules judge: input recorded while calls wait
(interleaved-message), a call and its output apart on the Chat wire (chat-adjacency), reasoning with
nothing of its own after it (reasoning-order).

The rules build their messages and fixes from these; continuation.py asks the same questions of the items
a turn appended, without importing the rules (the rules package imports every rule for its registry).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import compress

from rollout_doctor.formats.codex.history import Replay, is_input_message
from rollout_doctor.formats.codex.records import AGENT_ROLE, CHAT_MESSAGE_TYPES, Item, ItemKind


def position(item: Item) -> tuple[int, int]:
    """Where an item sits in the file: its line, then its place in a compacted line's history."""
    return item.line, item.index or 0


def release_points(pending_after: list[int]) -> list[int | None]:
    """For each position, the first position from there on after which no call is pending: where a
    broker would release input it held (None: calls are still pending at the end)."""
    release: list[int | None] = [None] * len(pending_after)
    next_free: int | None = None
    for pos in range(len(pending_after) - 1, -1, -1):
        if not pending_after[pos]:
            next_free = pos
        release[pos] = next_free
    return release


def held_messages(replay: Replay) -> Iterator[tuple[Item, list[Item], Item]]:
    """(message, the calls it arrived during, the item after which a broker would have released it)
    for each input message recorded while calls were pending, in history order."""
    if not replay.pairs:
        return
    pending_after = replay.pending_after
    history = replay.history
    # Only the positions where calls are pending are looked at (compress skips the rest in C), and the
    # release points only computed when a message is among them: a clean session has none.
    held = [pos for pos in compress(range(len(history)), pending_after) if is_input_message(history[pos])]
    if not held:
        return
    release = release_points(pending_after)
    for pos in held:
        target = release[pos]
        waiting = replay.waiting_at(pos)
        if target is not None and waiting:
            yield history[pos], waiting, history[target]


def separated(replay: Replay) -> list[tuple[Item, Item, list[Item]]]:
    """(call, output, the chat messages between them) for each call whose output is not the next chat
    message after it, in file order. Input messages in between are the interleaved-message rule's
    business, so they alone do not count here."""
    history = replay.history
    found_apart = []
    for call, output in replay.pairs:
        between = [history[p] for p in range(call + 1, output)
                   if history[p].type in CHAT_MESSAGE_TYPES and not is_input_message(history[p])]
        if between:
            found_apart.append((history[call], history[output], between))
    return sorted(found_apart, key=lambda apart: position(apart[0]))


# What the model itself produces after its reasoning, in a turn.
MODEL_ITEM_TYPES = frozenset({"function_call", "custom_tool_call", "local_shell_call", "tool_search_call",
                              "web_search_call", "image_generation_call"})
INPUT_ROLES = frozenset({"user", "developer", AGENT_ROLE})  # another agent's message is input too


def is_model_item(item: Item) -> bool:
    return item.type in MODEL_ITEM_TYPES or (item.kind is ItemKind.MESSAGE and item.role == "assistant")


def is_input(item: Item) -> bool:
    return (item.kind is ItemKind.MESSAGE and item.role in INPUT_ROLES) or item.type.endswith("_output")


def stranded_runs(history: list[Item], called_later: set[int] | None = None) -> Iterator[tuple[int, int]]:
    """(first, last) positions of each run of reasoning items followed by input or by nothing. Items that
    are neither (ghost snapshots, compaction markers, unknown types) do not end a run; Codex sends none
    of them between a reasoning item and its following item. Nor does an output recorded before its own
    call (a race of parallel calls): misplaced-output moves it after its call, and what follows the
    reasoning then is what follows the output now. ``called_later``: those outputs, when the caller
    knows them (``early_outputs``); else they are found (``calls_after``)."""
    if called_later is None:
        called_later = calls_after(history)
    end = len(history)
    n = 0  # where the next run may start: the item that ended the last one
    for first in [pos for pos, item in enumerate(history) if item.type == "reasoning"]:
        if first < n:
            continue  # inside the run just walked
        last = first
        n = first + 1
        while n < end and (n in called_later or not (is_model_item(history[n]) or is_input(history[n]))):
            if history[n].type == "reasoning":
                last = n
            n += 1
        if n == end or is_input(history[n]):
            yield first, last


def calls_after(history: list[Item]) -> set[int]:
    """Positions of the outputs recorded before their call: no call of their id before them, one after."""
    before: set[str] = set()
    early: list[tuple[int, str]] = []
    call_kind, output_kind = ItemKind.CALL, ItemKind.OUTPUT  # once per item below
    for pos, item in enumerate(history):
        call_id = item.call_id
        if call_id is None:
            continue
        kind = item.kind
        if kind is call_kind:
            before.add(call_id)
        elif kind is output_kind and call_id not in before:
            early.append((pos, call_id))
    return {pos for pos, call_id in early if call_id in before}


def early_outputs(played: Replay) -> set[int]:
    """``calls_after(played.history)``, from the broker replay rather than a set of every call id (2.5 MiB
    on a 500 MB session, at the peak of a check). Only an id that is anything but one call then its
    output (``Replay.groups``) can have an output before all its calls, or the empty id, which the replay
    passes over: with an output carrying it, the history is walked as ``calls_after`` does."""
    if played.empty_id_output:
        return calls_after(played.history)
    return {output for group in played.groups if group.calls for output in group.outputs if output < group.calls[0]}


def count(history: list[Item]) -> int:
    """How many reasoning runs are stranded: what the fix loop keeps from growing."""
    return sum(1 for _ in stranded_runs(history))
