"""A ``tool_result`` whose ``tool_use_id`` answers no call of the assistant message just before it, or
that comes after typed text in the user message.

Why it breaks a resume: the Messages API refuses it: "messages.N.content.K: unexpected ``tool_use_id``
found in ``tool_result`` blocks: … Each ``tool_result`` block must have a corresponding ``tool_use`` block
in the previous message." It is what a half-written turn, a rewind or a hand edit leaves (#6836,
#64383, #66548), and a message typed while a call ran can land between the call and its result: the
API takes results only ahead of any text in the user message, and answers that with "``tool_use`` ids
were found without ``tool_result`` blocks immediately after".

Effect on a resume: 2.1.332 patches it in memory: an orphan is dropped (and "(no content)" sent in its place),
a result separated from its call by typed text is moved ahead of the text. Older releases and other
readers are refused.

Fix: a result whose call is earlier in the conversation and unanswered there is moved to just
after that call, the chain relinked around its old place and into the new one. A result that answers
nothing is removed: the block from its line, or the whole line when nothing else is on it, its
children hung from its parent so nothing after it is cut off. Removing never leaves two assistant
messages meeting where the result was (the removal is then unsafe: microsoft/amplifier#217 saw a
naive removal refused).

Fix safety: safe for a move (nothing is lost or invented) and for removing a result that answers
nothing; unsafe when the removal would join two assistant messages.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability, Edit, Fix
from rollout_doctor.core.rules import Diagnostic, found
from rollout_doctor.formats.claude.conversation import Conversation
from rollout_doctor.formats.claude.edits import relink, relinked, without_blocks
from rollout_doctor.formats.claude.rules.base import Context
from rollout_doctor.formats.claude.rules.splice import cut_out

CODE = "CC102"
NAME = "orphan-tool-result"
SUMMARY = "a tool_result that answers no call of the message before it"
FIX_SAFETY = "safe: moved after its call, or removed when it answers nothing; unsafe when removing joins two assistant messages"
CATEGORY = "pairing"
EFFECT = "patched"
UPSTREAM = ("#6836", "#64383", "#66548", "microsoft/amplifier#217")


def check(ctx: Context) -> Iterator[Diagnostic]:
    conversation = ctx.conversation
    turns = conversation.turns
    use_turn = {use: index for index, turn in enumerate(turns) if turn.role == "assistant"
                for _line, use in conversation.uses_of(turn)}
    for index, turn in enumerate(turns):
        if turn.role != "user":
            continue
        asked = ({u for _l, u in conversation.uses_of(turns[index - 1])}
                 if index > 0 and turns[index - 1].role == "assistant" else set())
        seen: set[str] = set()
        typed: set[int] = set()  # lines of the message with something else than results on them
        for line, result in conversation.results_of(turn):
            typed.update(earlier for earlier in turn.lines[:turn.lines.index(line)]
                         if conversation.entries[earlier].blocks > len(conversation.entries[earlier].results))
            if result in asked and typed and result not in seen:
                seen.add(result)
                # The API takes results only ahead of any text in the message (2.1.332 moves them there).
                yield found(line, f"tool_result {result} comes after a typed message, not right after its tool_use",
                            result, _move(conversation, line, index - 1))
                continue
            if result in asked or result in seen:
                seen.add(result)
                continue  # a second answer is duplicate-tool-result's
            seen.add(result)
            home = use_turn.get(result)
            if home is not None and home < index and _unanswered(conversation, home, result):
                yield found(line, f"tool_result {result} is separated from its tool_use", result,
                            _move(conversation, line, home))
                continue
            yield found(line, f"tool_result {result} answers no tool_use in the message before it", result,
                        _remove(conversation, index, line, result))


def _unanswered(conversation: Conversation, index: int, use: str) -> bool:
    turns = conversation.turns
    following = turns[index + 1] if index + 1 < len(turns) and turns[index + 1].role == "user" else None
    return following is None or use not in {r for _l, r in conversation.results_of(following)}


def _move(conversation: Conversation, line: int, home: int) -> Fix | None:
    entry = conversation.entries[line]
    if len(entry.results) != entry.blocks or line not in conversation.on_chain:
        return None  # typed text on the same line: no move keeps it whole
    model = conversation.model
    anchor = conversation.answer_end(home)
    edits = [Edit.move_after(line, anchor), Edit.replace(line, relinked(model.content(line), conversation.entries[anchor].uuid), "moved result")]
    old_child = conversation.chain_child(line)
    if old_child is not None:
        edits.append(relink(model, old_child, entry.parent))
    new_child = conversation.chain_child(anchor)
    if new_child is not None and new_child != line:
        edits.append(relink(model, new_child, entry.uuid))
    return Fix("move the result after its call", Applicability.SAFE, tuple(edits))


def _remove(conversation: Conversation, index: int, line: int, result: str) -> Fix:
    model = conversation.model
    rest = without_blocks(model, line, lambda b: b.get("type") == "tool_result" and b.get("tool_use_id") == result)
    if rest is not None:
        return Fix("remove the result", Applicability.SAFE, (Edit.replace(line, rest, "without the orphan result"),))
    turns = conversation.turns
    alone = all(other == line for other in turns[index].lines)
    joins = (alone and 0 < index < len(turns) - 1 and turns[index - 1].role == turns[index + 1].role == "assistant")
    return Fix("remove the result line", Applicability.UNSAFE if joins else Applicability.SAFE,
               tuple(cut_out(conversation, line)))
