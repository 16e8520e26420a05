"""The rules' passes over a history, written for speed, against the plain loops they replaced.

A 500 MB session's history holds some 67 000 items and its records 93 000, and the pre-resume guard
walks them on every resume, so these passes were rewritten to walk them once and to look each thing up
once (issue 14). The plain versions stay here as the reference: on random histories and random
record streams, the fast ones must give exactly their answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from rollout_doctor.core.check import open_thread
from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex import CODEX, history, item_order
from rollout_doctor.formats.codex.item_order import is_input, is_model_item
from rollout_doctor.formats.codex.records import Compacted, Event, Item, ItemKind, LineKind
from rollout_doctor.formats.codex.rules import (
    bad_image_url,
    bad_output_shape,
    foreign_reasoning_content,
    item_id_prefix,
    orphan_output,
)

CALL_IDS = st.sampled_from([None, "", "a", "b", "c"])
ITEMS = st.one_of(
    st.builds(lambda c: ("function_call", ItemKind.CALL, None, c), CALL_IDS),
    st.builds(lambda c: ("function_call_output", ItemKind.OUTPUT, None, c), CALL_IDS),
    st.builds(lambda c: ("web_search_call", ItemKind.OTHER, None, c), CALL_IDS),  # an id on neither
    st.sampled_from([("reasoning", ItemKind.OTHER, None, None), ("message", ItemKind.MESSAGE, "user", None),
                     ("message", ItemKind.MESSAGE, "assistant", None),
                     ("message", ItemKind.MESSAGE, "developer", None),
                     ("ghost_snapshot", ItemKind.OTHER, None, None),
                     ("web_search_call", ItemKind.OTHER, None, None)]),
)


Spec = tuple[str, ItemKind, str | None, str | None]  # type, kind, role, call id


def make_items(specs: list[Spec]) -> list[Item]:
    return [Item(n, None, type_, kind, role=role, call_id=call_id)
            for n, (type_, kind, role, call_id) in enumerate(specs)]


def plain_stranded_runs(items: list[Item]) -> Iterator[tuple[int, int]]:
    called_later = plain_calls_after(items)
    n = 0
    while n < len(items):
        if items[n].type != "reasoning":
            n += 1
            continue
        first = last = n
        n += 1
        while n < len(items) and (n in called_later or not (is_model_item(items[n]) or is_input(items[n]))):
            if items[n].type == "reasoning":
                last = n
            n += 1
        if n == len(items) or is_input(items[n]):
            yield first, last


def plain_calls_after(items: list[Item]) -> set[int]:
    before: set[str] = set()
    early: list[tuple[int, str]] = []
    for pos, item in enumerate(items):
        if item.call_id is None:
            continue
        if item.kind is ItemKind.CALL:
            before.add(item.call_id)
        elif item.kind is ItemKind.OUTPUT and item.call_id not in before:
            early.append((pos, item.call_id))
    return {pos for pos, call_id in early if call_id in before}


@settings(max_examples=400, deadline=None)
@given(st.lists(ITEMS, max_size=40))
def test_stranded_reasoning_runs_are_the_plain_loops(specs: list[Spec]) -> None:
    items = make_items(specs)
    assert item_order.calls_after(items) == plain_calls_after(items)
    assert item_order.early_outputs(history.replay(items)) == plain_calls_after(items)
    assert list(item_order.stranded_runs(items)) == list(plain_stranded_runs(items))


def plain_replay(items: list[Item]) -> tuple[list[tuple[int, int]], list[history.CallGroup]]:
    """The broker replay as it was written before, each attribute looked up where it is used."""
    positions: dict[str, list[int]] = {}
    for pos, item in enumerate(items):
        if item.kind in (ItemKind.CALL, ItemKind.OUTPUT) and item.call_id:
            positions.setdefault(item.call_id, []).append(pos)
    pairs: list[tuple[int, int]] = []
    groups: list[history.CallGroup] = []
    for call_id, group in positions.items():
        if len(group) == 2:
            call, output = group
            if items[call].kind is ItemKind.CALL and items[output].kind is ItemKind.OUTPUT:
                pairs.append((call, output))
                continue
        answered = history._broker(items, call_id, group)
        pairs.extend((c, o) for c, o in answered.answers.items() if c < o)
        groups.append(answered)
    return pairs, groups


@settings(max_examples=400, deadline=None)
@given(st.lists(ITEMS, max_size=40))
def test_the_broker_replay_is_the_plain_loop(specs: list[Spec]) -> None:
    items = make_items(specs)
    replayed = history.replay(items)
    assert (replayed.pairs, replayed.groups) == plain_replay(items)


def plain_held_messages(replayed: history.Replay) -> Iterator[tuple[Item, list[Item], Item]]:
    if not replayed.pairs:
        return
    pending_after = replayed.pending_after
    release = item_order.release_points(pending_after)
    for pos, item in enumerate(replayed.history):
        if not pending_after[pos] or not history.is_input_message(item):
            continue
        target = release[pos]
        waiting = replayed.waiting_at(pos)
        if target is not None and waiting:
            yield item, waiting, replayed.history[target]


@settings(max_examples=400, deadline=None)
@given(st.lists(ITEMS, max_size=40))
def test_held_messages_are_the_plain_loop(specs: list[Spec]) -> None:
    replayed = history.replay(make_items(specs))
    assert list(item_order.held_messages(replayed)) == list(plain_held_messages(replayed))


EVENTS = st.one_of(
    st.builds(lambda t: ("event", t, None),
              st.sampled_from(["task_started", "task_complete", "turn_aborted", "token_count"])),
    st.builds(lambda n: ("event", "thread_rolled_back", n), st.integers(0, 3)),
    st.just(("compacted", None, None)),
    st.just(("compacted", "replacement", None)),
    st.just(("other", None, None)),
)


def make_model(stream: list[tuple]) -> SimpleNamespace:
    records: dict[int, object] = {}
    kinds = bytearray()
    for line, entry in enumerate(stream):
        if entry[0] == "event":
            kinds.append(LineKind.EVENT)
            records[line] = Event(line, entry[1], num_turns=entry[2], turn_id="t")
        elif entry[0] == "compacted":
            kinds.append(LineKind.COMPACTED)
            replacement = [Item(line, 0, "message", ItemKind.MESSAGE, role="user")] if entry[1] else None
            records[line] = Compacted(line, replacement)
        elif entry[0] == "other":
            kinds.append(LineKind.TURN_CONTEXT)
        else:
            type_, kind, role, call_id = entry
            kinds.append(LineKind.RESPONSE_ITEM)
            records[line] = Item(line, None, type_, kind, role=role, call_id=call_id)
    # Records come back from the index cache grouped by class, not in line order.
    shuffled = dict(sorted(records.items(), key=lambda kv: (type(kv[1]).__name__, -kv[0])))
    return SimpleNamespace(records=shuffled, kinds=kinds)


def plain_read(model: SimpleNamespace) -> tuple[list[Item], list[tuple[Event, int]], list[int]]:
    """The history, the rollbacks with the turns before each, and the event lines, each by its own walk."""
    items: list[Item] = []
    rollbacks: list[tuple[Event, int]] = []
    for line in sorted(model.records):
        record = model.records[line]
        kind = model.kinds[line]
        if kind in (LineKind.RESPONSE_ITEM, LineKind.INTER_AGENT) and isinstance(record, Item):
            items.append(record)
        elif kind == LineKind.COMPACTED and isinstance(record, Compacted):
            if record.replacement is not None:
                items = list(record.replacement)
            else:
                items = [i for i in items
                         if i.kind is ItemKind.MESSAGE and i.role == "user" and not i.contextual]
        elif isinstance(record, Event) and record.type == "thread_rolled_back" and record.num_turns:
            rollbacks.append((record, sum(map(history.starts_user_turn, items))))
            items = history.drop_last_user_turns(items, record.num_turns)
    events = [line for line in sorted(model.records) if isinstance(model.records[line], Event)]
    return items, rollbacks, events


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(ITEMS, EVENTS), max_size=40))
def test_one_pass_over_the_records_is_three(stream: list[tuple]) -> None:
    model = make_model(stream)
    read = history.read_lines(model)  # type: ignore[arg-type]
    assert (read.history, read.rollbacks, read.event_lines) == plain_read(model)
    assert history.effective_history(model) == read.history  # type: ignore[arg-type]


# --- the rules about one item's own shape walk only the notable items (base.Context.notable) -------------

FIXTURES = Path(__file__).parent.parent / "fixtures"
CODEX_FILES = sorted(p for p in FIXTURES.rglob("rollout-*.jsonl") if "claude" not in p.parts)
SHAPE_RULES = (foreign_reasoning_content, item_id_prefix, bad_image_url, bad_output_shape, orphan_output)


def test_the_rules_about_an_items_shape_find_the_same_among_the_notable_items() -> None:
    """Every fixture rollout (rule cases, real sessions, hostile files, threads), on both wires: each
    rule reports the same walking ``ctx.notable`` as walking the whole history."""
    reported: dict[str, int] = {rule.NAME: 0 for rule in SHAPE_RULES}
    for path in CODEX_FILES:
        try:
            model = open_thread(CODEX, path)
        except Exception:  # noqa: BLE001 - a hostile file that does not open is no history to compare
            continue
        with model:
            for target in ("responses", "chat"):
                options = CODEX.decide(Options(target=target), model)
                fast, whole = CODEX.context(model, options), CODEX.context(model, options)
                whole.notable = whole.history  # type: ignore[misc] - the cached property, set to every item
                for rule in SHAPE_RULES:
                    found = list(rule.check(fast))
                    assert found == list(rule.check(whole)), (path, rule.NAME)
                    reported[rule.NAME] += len(found)
    assert len(CODEX_FILES) > 200 and all(reported.values()), reported
