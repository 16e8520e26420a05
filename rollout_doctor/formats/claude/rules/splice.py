"""Chain-keeping edits the rules share: a line taken out of the chain, a line put into it."""

from __future__ import annotations

from rollout_doctor.core.fixes import Edit
from rollout_doctor.formats.claude.conversation import Conversation
from rollout_doctor.formats.claude.edits import relink


def cut_out(conversation: Conversation, line: int) -> list[Edit]:
    """Delete ``line`` and hang its children from its parent, so nothing after it is cut off."""
    entry = conversation.entries[line]
    edits = [Edit.delete(line)]
    for child in conversation.children.get(entry.uuid or "", ()):
        if conversation.by_uuid.get(entry.uuid or "") == line:
            edits.append(relink(conversation.model, child, entry.parent))
    return edits


def put_after(conversation: Conversation, anchor: int, uuid: str, content: bytes, note: str) -> list[Edit]:
    """Insert a line hanging from ``anchor`` (its content names it parent) and hang the line that
    continued ``anchor`` on the chain from the new one."""
    edits = [Edit.insert_after(anchor, content, note)]
    child = conversation.chain_child(anchor)
    if child is not None:
        edits.append(relink(conversation.model, child, uuid))
    return edits
