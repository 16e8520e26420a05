"""The chain-keeping edit the rules share: a line taken out of the chain without cutting what follows."""

from __future__ import annotations

from rollout_doctor.core.fixes import Edit
from rollout_doctor.formats.claude.conversation import Conversation
from rollout_doctor.formats.claude.edits import relink


def cut_out(conversation: Conversation, line: int) -> list[Edit]:
    """Delete ``line`` and hang its children from its parent, so nothing after it is cut off. (A uuid
    written twice names its first line: the children are that line's, not this one's.)"""
    entry = conversation.entries[line]
    edits = [Edit.delete(line)]
    if entry.uuid is not None and conversation.by_uuid.get(entry.uuid) == line:
        edits += [relink(conversation.model, child, entry.parent) for child in conversation.children.get(entry.uuid, ())]
    return edits
