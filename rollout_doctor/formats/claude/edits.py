"""The lines a fix writes into a transcript: a relinked line, a line without some blocks, the error
result Claude Code itself writes for a call whose result was never recorded.

A relink changes only the bytes of the ``parentUuid`` value, so the rest of the line stays as Claude
Code wrote it; a line that loses blocks is written again from its parsed object (compact JSON, keys
in their order, as Claude Code writes it).
"""

from __future__ import annotations

import hashlib
import re
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

import orjson

from rollout_doctor.core.fixes import Edit
from rollout_doctor.core.model import Model

_PARENT = re.compile(rb'"parentUuid":\s*(?:null|"(?:[^"\\]|\\.)*")')

# What 2.1.332 writes for a call "interrupted: the session ended before this call's result was recorded"
# (the string, one of its interruption messages, read in the binary; sent with is_error true).
INTERRUPTED_RESULT = ("[Tool call interrupted: the session ended before this call's result was recorded, so its "
                      "outcome is unknown. Check whether it took effect before relying on it or running it again.]")

# Fields a new line copies from the line it follows, so it reads as Claude Code's own.
_CONTEXT_FIELDS = ("isSidechain", "userType", "entrypoint", "cwd", "sessionId", "version", "gitBranch")


def relinked(content: bytes, parent: str | None) -> bytes:
    """``content`` with its parentUuid set to ``parent``; only that value's bytes change when it appears once."""
    value = b"null" if parent is None else orjson.dumps(parent)
    if len(_PARENT.findall(content)) == 1:
        return _PARENT.sub(lambda _m: b'"parentUuid":' + value, content)
    obj = orjson.loads(content)
    obj["parentUuid"] = parent
    return orjson.dumps(obj)


def relink(model: Model, line: int, parent: str | None, note: str = "relinked") -> Edit:
    return Edit.replace(line, relinked(model.content(line), parent), note)


def without_blocks(model: Model, line: int, drop: Callable[[dict[str, Any]], bool]) -> bytes | None:
    """The line with the content blocks ``drop`` picks removed; None when no block would be left."""
    obj = orjson.loads(model.content(line))
    content = obj["message"]["content"]
    kept = [b for b in content if not (isinstance(b, dict) and drop(b))]
    if not kept:
        return None
    obj["message"]["content"] = kept
    return orjson.dumps(obj)


def renamed_ids(model: Model, line: int, old: str, new: str) -> bytes:
    """The line with the tool_use id (or the tool_use_id its results answer) ``old`` renamed ``new``."""
    obj = orjson.loads(model.content(line))
    for block in obj["message"]["content"]:
        if isinstance(block, dict):
            for key in ("id", "tool_use_id"):
                if block.get(key) == old and block.get("type") in ("tool_use", "tool_result"):
                    block[key] = new
    return orjson.dumps(obj)


def stable_uuid(*parts: str) -> str:
    """A uuid derived from what the new line answers: fixing twice writes the same line."""
    return str(uuidlib.UUID(hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32], version=4))


def fresh_tool_id(old: str, line: int) -> str:
    return "toolu_01" + hashlib.sha256(f"{old}\0{line}".encode()).hexdigest()[:22]


def error_result(model: Model, after: int, use_line: int, use_id: str, parent: str) -> tuple[str, bytes]:
    """The uuid and content of a user line answering ``use_id`` with the interruption error."""
    base = orjson.loads(model.content(after))
    new_uuid = stable_uuid("rollout-doctor", use_id, parent)
    obj: dict[str, Any] = {"parentUuid": parent}
    obj.update({k: base[k] for k in _CONTEXT_FIELDS[:1] if k in base})
    obj.update({
        "type": "user",
        "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use_id,
                                                 "content": INTERRUPTED_RESULT, "is_error": True}]},
        "uuid": new_uuid,
        "timestamp": base.get("timestamp"),
        "toolUseResult": f"Error: {INTERRUPTED_RESULT}",
        "sourceToolAssistantUUID": model.records[use_line].uuid,
    })
    obj.update({k: base[k] for k in _CONTEXT_FIELDS[1:] if k in base})
    return new_uuid, orjson.dumps(obj)
