"""Breaking recorded Claude Code transcripts each way the rules know (tests/test_claude_*.py).

Each breaker takes the transcript's lines (bytes, without newlines) and returns new ones; lines it
does not break keep their bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Lines = list[bytes]


def parsed(lines: Lines) -> list[dict[str, Any] | None]:
    out: list[dict[str, Any] | None] = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            out.append(None)
    return out


def dumps(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def blocks(obj: dict[str, Any] | None, kind: str) -> list[dict[str, Any]]:
    content = ((obj or {}).get("message") or {}).get("content")
    return [b for b in content if isinstance(b, dict) and b.get("type") == kind] if isinstance(content, list) else []


def find(lines: Lines, kind: str, nth: int = 0) -> int:
    """The line holding the nth block of ``kind`` (tool_use, tool_result, text of an assistant)."""
    hits = [n for n, obj in enumerate(parsed(lines)) if blocks(obj, kind)
            and (kind != "text" or (obj or {}).get("type") == "assistant")]
    return hits[nth]


def unanswered_call(lines: Lines) -> Lines:
    """The result of the first call is lost (the session stopped before writing it); what followed it
    hangs from the call, as Claude Code links past a line it never wrote."""
    at = find(lines, "tool_result")
    objs = parsed(lines)
    gone = objs[at]["uuid"]
    out = []
    for n, line in enumerate(lines):
        if n == at:
            continue
        obj = objs[n]
        if obj is not None and obj.get("parentUuid") == gone:
            obj["parentUuid"] = objs[at]["parentUuid"]
            line = dumps(obj)
        out.append(line)
    return out


def hung_after(lines: Lines, at: int, new: dict[str, Any]) -> Lines:
    """``new`` (a copy of line ``at`` with its own uuid) written just after ``at`` and hung from it, the
    line that continued ``at`` now continuing ``new``: as Claude Code itself writes one more line."""
    objs = parsed(lines)
    new["parentUuid"] = objs[at]["uuid"]
    out = [*lines[: at + 1], dumps(new)]
    for n in range(at + 1, len(lines)):
        if objs[n] is not None and objs[n].get("parentUuid") == objs[at]["uuid"]:
            objs[n]["parentUuid"] = new["uuid"]
            out.append(dumps(objs[n]))
        else:
            out.append(lines[n])
    return out


def orphan_result(lines: Lines) -> Lines:
    """A second tool_result line, answering a call that was never made, after the first result."""
    at = find(lines, "tool_result")
    obj = dict(parsed(lines)[at], uuid="0b7e0b7e-0000-4000-8000-00000000a001")
    obj["message"] = {"role": "user", "content": [dict(obj["message"]["content"][0],
                                                       tool_use_id="toolu_01NeverCalledAnything000")]}
    return hung_after(lines, at, obj)


def orphan_advisor_result(lines: Lines) -> Lines:
    """The last response's advisor_tool_result, on a line of its own as Claude Code writes each block,
    survived while its server_tool_use was lost."""
    at = find(lines, "text", -1)
    obj = dict(parsed(lines)[at], uuid="0b7e0b7e-0000-4000-8000-00000000a002")
    obj["message"] = dict(obj["message"], content=[
        {"type": "advisor_tool_result", "tool_use_id": "srvtoolu_01LostAdvisorCall00",
         "content": {"type": "advisor_result", "text": "Looks right."}}])
    return hung_after(lines, at, obj)


def null_parent(lines: Lines) -> Lines:
    """The last assistant line's parentUuid is null: every turn before it is cut off."""
    at = find(lines, "text", -1)
    obj = parsed(lines)[at]
    obj["parentUuid"] = None
    return lines[:at] + [dumps(obj)] + lines[at + 1:]


def dangling_parent(lines: Lines) -> Lines:
    """The last assistant line's parent was never written: its parentUuid names no line."""
    at = find(lines, "text", -1)
    obj = parsed(lines)[at]
    obj["parentUuid"] = "0b7e0b7e-0000-4000-8000-0000000dead0"
    return lines[:at] + [dumps(obj)] + lines[at + 1:]


def duplicate_call_id(lines: Lines) -> Lines:
    """The second call (and its result) reuse the first call's id."""
    objs = parsed(lines)
    first = blocks(objs[find(lines, "tool_use", 0)], "tool_use")[0]["id"]
    second = blocks(objs[find(lines, "tool_use", 1)], "tool_use")[0]["id"]
    out = []
    for line, obj in zip(lines, objs):
        if obj is not None and second.encode() in line:
            for block in blocks(obj, "tool_use") + blocks(obj, "tool_result"):
                for key in ("id", "tool_use_id"):
                    if block.get(key) == second:
                        block[key] = first
            line = dumps(obj)
        out.append(line)
    return out


def torn_tail(lines: Lines) -> Lines:
    """A crash in the middle of writing the last line."""
    return lines + [lines[find(lines, "text", -1)][:57]]


def torn_answer(lines: Lines) -> Lines:
    """A crash while the last answer was written: its line is torn, and what followed it never written."""
    at = find(lines, "text", -1)
    return lines[:at] + [lines[at][: len(lines[at]) // 2]]


def hollow_thinking(lines: Lines) -> Lines:
    """The last assistant message kept a thinking block's signature and lost its text (#63147)."""
    at = find(lines, "text", -1)
    obj = parsed(lines)[at]
    obj["message"]["content"].insert(0, {"type": "thinking", "thinking": "", "signature": "EqQBCkgIARABGAIiQL"})
    return lines[:at] + [dumps(obj)] + lines[at + 1:]


def separated_result(lines: Lines) -> Lines:
    """A message typed while the call ran landed between the call and its result on the chain."""
    objs = parsed(lines)
    use_at, result_at = find(lines, "tool_use"), find(lines, "tool_result")
    typed = dict(objs[result_at], uuid="0b7e0b7e-0000-4000-8000-00000000a003", parentUuid=objs[use_at]["uuid"],
                 message={"role": "user", "content": "also print two"})
    typed.pop("toolUseResult", None)
    objs[result_at]["parentUuid"] = typed["uuid"]
    return [*lines[:result_at], dumps(typed), dumps(objs[result_at]), *lines[result_at + 1:]]


def repeated_result(lines: Lines) -> Lines:
    """The result written twice (a retry)."""
    at = find(lines, "tool_result")
    return hung_after(lines, at, dict(parsed(lines)[at], uuid="0b7e0b7e-0000-4000-8000-00000000a004"))


def lost_side_result(lines: Lines) -> Lines:
    """Of two parallel calls, the result hanging off the chain was never written."""
    objs = parsed(lines)
    first, second = find(lines, "tool_result", 0), find(lines, "tool_result", 1)
    chain_child = {o.get("parentUuid") for o in objs if o is not None}
    side = first if objs[first]["uuid"] not in chain_child else second
    return [line for n, line in enumerate(lines) if n != side]


BREAKERS: dict[str, Callable[[Lines], Lines]] = {
    "unanswered-call": unanswered_call,
    "orphan-result": orphan_result,
    "orphan-advisor-result": orphan_advisor_result,
    "null-parent": null_parent,
    "dangling-parent": dangling_parent,
    "duplicate-call-id": duplicate_call_id,
    "torn-tail": torn_tail,
    "torn-answer": torn_answer,
    "hollow-thinking": hollow_thinking,
    "separated-result": separated_result,
    "repeated-result": repeated_result,
    "lost-side-result": lost_side_result,
}
