"""Judging only what Codex appended to a session already checked: the lines of a new turn, against a summary.

Codex only appends to a rollout. A pre-resume guard of a 500 MB session after one more turn would load
the 93 000 records of the turns before and run every rule over them again (0.2 s), to learn what one
turn changed. Usually the turn is an ordinary one, which changes nothing of what was found before and
adds nothing: then the report is the one kept, and the summary kept with it (``Clean``) is enough to
know it.

``after_check`` makes the summary after a full check, only when the file ends in a state no appended
line can reach back into, whatever was found in it:

* no call id is used by two calls (duplicate-call-id's fix picks a new id among all the ids of the
  history, appended ones included), and each call id is known, so that an appended item or event
  carrying one of them sends the file to a full check: nothing appended can then answer, repeat or
  misplace a call before it, nor give an orphan call's output an event to be recovered from;
* no reasoning run left open at the end (reasoning-order judges a run by the item that follows it);
* no rollback with turns in it (spurious-rollback judges a rollback by what follows it, and one recorded
  inside a turn by whether that turn later completes);
* every line whole and readable (the next line starts where the file ends; invalid-line and the
  ordinals see no damaged line), the file its own (no parent: a fork's report is never cached);
* a session_meta (or legacy header) among its lines: session-meta judges a file by its first record and
  its header, and a record appended to a file of blank lines would be its first;
* whether a call that never got its output has an event that kept what its tool printed: then an output
  appended sends the file to a full check, since orphan-call rebuilds the lost output in the format of the
  first output of the same tool in the file;
* a paginated file's last record with an ordinal, for the ordinals appended to continue (a last record
  without one is refused by Codex, and judged so only while it is the last).

``after_append`` then accepts the appended lines only when they could not make any rule report anything
about them, nor change what it reported about the lines before (a conservative condition: anything it
does not know to be harmless sends the file to a full check, which says what is wrong):

* only items, events, turn contexts and other plain records: no session_meta, no compaction, no
  rollback, no blank or unreadable line;
* each item with none of the problems indexing marks (``Rare``'s problem fields, an output Codex drops);
  call ids of at most 64 characters, none known before, none shaped like the ids fixes make;
* what the pairing rules judge holds among the appended items alone (each call id one call then its
  output, no input message between a call and its output, no reasoning left without its item, and on the
  Chat wire no message between a call and its output). A call of the lines before that never got its
  output stays pending through them, but a message recorded while only such a call waits is released
  nowhere, so interleaved-message reports it in neither case;
* the ordinals continuing the last one by one.

The rules themselves are untouched; ``tests/test_continuation.py`` holds that whenever ``after_append``
accepts, the report kept is the one a full check of the whole file makes, over every cut of every Codex
fixture rollout (clean ones, and each rule's broken cases), and that each condition is needed.
"""

from __future__ import annotations

import re
from array import array
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from rollout_doctor.core.lines import split_terminator
from rollout_doctor.formats.codex.history import ITEM_LINES, PAIRED, Replay, is_input_message, replay
from rollout_doctor.formats.codex.item_order import (
    held_messages,
    is_input,
    is_model_item,
    separated,
    stranded_runs,
)
from rollout_doctor.formats.codex.records import CALL_ID_MAX, Event, Item, ItemKind, LineKind

if TYPE_CHECKING:
    from rollout_doctor.core.index import Part
    from rollout_doctor.core.lines import Source
    from rollout_doctor.formats.codex.rollout import Rollout
    from rollout_doctor.formats.codex.rules.base import Context

# What an appended line may be: anything else (a session_meta, a compaction, a blank or unreadable line,
# a legacy record) may change what the rules judge of the lines before it.
APPENDABLE = frozenset({LineKind.RESPONSE_ITEM, LineKind.EVENT, LineKind.TURN_CONTEXT, LineKind.OTHER,
                        LineKind.INTER_AGENT})
_NOT_APPENDABLE = bytes(k for k in range(256) if k not in APPENDABLE)
# The ids duplicate-call-id and long-call-id give a renamed call (``fresh_id``: ``<id>-rd<N>``, the first N
# not taken): an appended call holding one could change the id a fix of a call before it would pick.
FIXED_ID = re.compile(r"-rd\d+\Z")
# The rules whose findings ``after_append`` accounts for (the module docstring says how). Any other rule
# that runs (schema, which validates every line against the JSON Schema; a rule added later) sends every
# grown file to a full check, until what it reads of appended lines is accounted for here.
ACCOUNTED = frozenset({
    "orphan-call", "orphan-output", "misplaced-output", "interleaved-message", "duplicate-call-id",
    "duplicate-output", "bad-output-shape", "chat-adjacency", "long-call-id", "reasoning-order", "item-id-prefix",
    "bad-image-url", "foreign-reasoning-content", "spurious-rollback", "invalid-line", "session-meta",
    "ordinal-order", "history-base",
})


class Clean(NamedTuple):
    """What judging the lines appended to a session needs to know of it (named for what it lets the
    appended lines be: clean, adding nothing to its report)."""

    lines: int  # the file's lines
    # Every call id of the history Codex would send, in UTF-8, each after a NUL byte, and one at the end:
    # looked up with a search of the bytes (``_known``). A frozenset of a 500 MB session's 18 000 ids takes
    # 7 ms to unpickle and 5 ms to pickle, these bytes 0.1 ms, and a look-up 0.07 ms.
    call_ids: bytes
    last_ordinal: int | None  # of its last record, for a paginated file (None for the others)
    # A call never got its output but an event kept what its tool printed: orphan-call rebuilds the output
    # in the format of the first output of the same tool in the file (recover.py), which an appended one
    # can be.
    recoverable: bool = False


class Appended(NamedTuple):
    """A session's summary after lines were appended, and the folder its last turn context names
    (None when no turn context was appended: the folder is the one known before)."""

    clean: Clean
    cwd: str | None


def after_check(ctx: Context) -> Clean | None:
    """The summary of a session after a full check, when no line appended to it could change what the
    rules report of the lines before it (the module docstring says when); None otherwise."""
    from rollout_doctor.formats.codex.rules import REGISTRY

    if any(rule.name not in ACCOUNTED for rule in REGISTRY.active(ctx.options)):
        return None
    model = ctx.model
    count = len(model)
    if not count or model.own_start or model.links or model.chain_problem is not None:
        return None
    if LineKind.INVALID in model.kinds or model.terminator(count - 1) == b"":
        return None
    if model.meta is None:
        return None  # session-meta judges the first record: one appended to a file without a header may be it
    played = ctx.replay
    if ctx.lines_read.rollbacks or any(len(group.calls) > 1 for group in played.groups):
        return None
    if _run_open_at_end(played.history):
        return None
    last_ordinal = None
    if model.generation == "paginated":
        last_ordinal = _last_ordinal(model)
        if last_ordinal is None:
            return None
    history = played.history
    ids = [history[call].call_id for call, _output in played.pairs]
    ids += [group.call_id for group in played.groups]
    return Clean(count, _joined(ids, b"\0"), last_ordinal, _recoverable(model, played))


def _recoverable(model: Rollout, played: Replay) -> bool:
    """Whether a call that never got its output has an event carrying its id (what orphan-call may recover
    an output from). The records are walked only for a file with such a call."""
    history = played.history
    orphans = {history[call].call_id for group in played.groups for call in group.calls if call not in group.answers}
    return bool(orphans) and any(isinstance(record, Event) and record.call_id in orphans
                                 for record in model.records.values())


def _run_open_at_end(history: list[Item]) -> bool:
    """Whether the history ends in a run of reasoning that nothing follows (item_order.py's
    stranded_runs, read backwards from the end). An output recorded before its call, which such a run
    passes over, always has that call after it: the call is met first."""
    for item in reversed(history):
        if item.type == "reasoning":
            return True
        if is_model_item(item) or is_input(item):
            return False
    return False


def _joined(ids: list[str], before: bytes) -> bytes:
    """``ids`` as ``Clean.call_ids`` holds them, after ``before`` (NUL, or the ids known so far)."""
    return before + "\0".join(ids).encode("utf-8", "surrogatepass") + b"\0" if ids else before


def _known(call_id: str, call_ids: bytes) -> bool:
    """Whether ``call_id`` is among ``call_ids``. An id holding a NUL itself may be found where it is
    not (then a full check judges the file), never missed."""
    return b"\0" + call_id.encode("utf-8", "surrogatepass") + b"\0" in call_ids


def _last_ordinal(model: Rollout) -> int | None:
    """The ordinal of the last record (blank lines carry none), when it is a number."""
    for line in range(len(model) - 1, -1, -1):
        if model.kinds[line] != LineKind.BLANK:
            ordinal = model.ordinal(line)
            return ordinal if type(ordinal) is int and ordinal >= 0 else None
    return None


def after_append(clean: Clean, paginated: bool, chat: bool, tail: Part, source: Source) -> Appended | None:
    """The summary after ``tail`` (the index of the whole lines appended since, numbered from 0) when they
    provably leave the report as it was (the module docstring says when); None when only a full check
    can tell."""
    kinds = tail.kinds
    count = len(kinds)
    if not count or kinds.translate(None, _NOT_APPENDABLE) != kinds:
        return None
    if paginated:
        first = clean.last_ordinal
        if first is None or tail.ordinals != array("q", range(first + 1, first + 1 + count)):
            return None
    items: list[Item] = []
    records = tail.records
    for line in sorted(records):
        record = records[line]
        if isinstance(record, Item) and kinds[line] in ITEM_LINES:
            items.append(record)
        elif not isinstance(record, Event) or record.type == "thread_rolled_back":
            return None  # a rollback, or a record no appended line should hold
        elif record.call_id and _known(record.call_id, clean.call_ids):
            return None  # a tool's result for a call before: orphan-call may recover an output from it
    new_ids = []
    for item in items:
        if not item.output_ok or _has_problem(item):
            return None
        if item.kind in PAIRED and item.call_id:
            if len(item.call_id) > CALL_ID_MAX or _known(item.call_id, clean.call_ids) or FIXED_ID.search(item.call_id):
                return None
            if item.kind is ItemKind.CALL:  # its output carries the same id (each id one call and its output)
                new_ids.append(item.call_id)
    if clean.recoverable and any(item.kind is ItemKind.OUTPUT for item in items):
        return None
    if not _pairs_hold(items, chat):
        return None
    cwd = None
    latest = kinds.rfind(LineKind.TURN_CONTEXT)
    if latest >= 0:
        cwd = _turn_cwd(tail, latest, source)
        if cwd is None:
            return None  # the folder then falls back to session_meta's (session_info.py): a full check says it
    last = clean.last_ordinal + count if paginated and clean.last_ordinal is not None else clean.last_ordinal
    return Appended(Clean(clean.lines + count, _joined(new_ids, clean.call_ids), last, clean.recoverable), cwd)


def _has_problem(item: Item) -> bool:
    """Whether indexing marked a problem on the item. A message Codex injected or another agent's
    (``contextual``, ``inter_agent``) is none: it only counts differently on a rollback or a compaction,
    which an appended line may not be."""
    rare = item.rare
    return rare is not None and (
        rare.output_problem is not None or rare.old_release_problem is not None or rare.call_id_problem is not None
        or rare.bad_id is not None or rare.reasoning_content is not None or rare.image_problem is not None)


def _pairs_hold(items: list[Item], chat: bool) -> bool:
    """Whether the pairing rules find nothing among ``items``, given that no call before them waits."""
    played = replay(items)
    if played.groups:
        return False
    if any(is_input_message(item) for item in items) and next(held_messages(played), None) is not None:
        return False
    if chat and separated(played):
        return False
    return next(stranded_runs(items), None) is None


def _turn_cwd(tail: Part, line: int, source: Source) -> str | None:
    """The ``cwd`` of a turn_context line of the tail, as session_info.py reads it; None when not a string."""
    end = tail.offsets[line + 1] if line + 1 < len(tail.offsets) else tail.end
    start = tail.offsets[line]
    try:
        value: Any = orjson.loads(split_terminator(source.read(start, end - start))[0])
    except orjson.JSONDecodeError:
        return None
    payload = value.get("payload") if isinstance(value, dict) else None
    cwd = payload.get("cwd") if isinstance(payload, dict) else None
    return cwd if isinstance(cwd, str) else None
