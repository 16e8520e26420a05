"""Rollouts from a compact list of items, rendered in any of the three generations.

A case's items (``user("run it")``, ``call("call_A")``, ``out("call_A")``, ...) are generation-free;
``Renderer`` writes them as a legacy, envelope or paginated rollout, the way Codex does: legacy is a
bare header line, then bare items (2025); envelope is what 0.77.0 writes; paginated is what 0.169.0
writes (ordinals, item ids, metadata), as in fixtures/real. The rule cases (tests/cases/*.toml, read by
tests/support/case_files.py) and the property tests build their rollouts with it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

GENERATIONS = ("legacy", "envelope", "paginated")
BASE_TIME = "2026-01-05T10:00:00"
CASE_NAMESPACE = uuid.UUID("5b0c8a40-2d4c-4b8e-9a57-3f1d7c1e9b21")

Spec = tuple[Any, ...]


@dataclass
class Case:
    rule: str
    name: str
    items: list[Spec]
    generations: tuple[str, ...] = GENERATIONS
    options: dict[str, Any] = field(default_factory=dict)
    about: str = ""

    def thread_id(self, generation: str) -> str:
        return str(uuid.uuid5(CASE_NAMESPACE, f"{self.rule}/{self.name}/{generation}"))


# --- item builders --------------------------------------------------------------------------------


def user(text: str) -> Spec:
    return ("message", "user", text)


def developer(text: str) -> Spec:
    return ("message", "developer", text)


def assistant(text: str) -> Spec:
    return ("message", "assistant", text)


def context() -> Spec:
    return ("message", "user", "<environment_context>\n  <cwd>/work</cwd>\n</environment_context>")


def call(cid: str, kind: str = "function", cmd: str = "echo hi") -> Spec:
    return ("call", cid, kind, cmd)


def out(cid: str, text: str = "ok", kind: str = "function") -> Spec:
    return ("output", cid, kind, text)


def out_raw(cid: str, value: Any) -> Spec:
    return ("output_value", cid, value)


def inter_agent(text: str, trigger_turn: bool = False) -> Spec:
    """An inter_agent_communication line (0.171.0 multi-agent): another agent's message, model input."""
    return ("inter_agent", text, trigger_turn)


def item(payload: dict[str, Any]) -> Spec:
    """A response item's payload exactly as given, in any generation (no id or metadata added)."""
    return ("payload", payload)


def reasoning() -> Spec:
    return ("reasoning",)


def event(kind: str, **fields: Any) -> Spec:
    return ("event", kind, fields)


def compacted(items: list[Spec] | None, message: str = "summary") -> Spec:
    return ("compacted", items, message)


def rollback(turns: int) -> Spec:
    return ("event", "thread_rolled_back", {"num_turns": turns})


def torn(spec: Spec) -> Spec:
    return ("torn", spec)


def glued(first: Spec, second: Spec) -> Spec:
    return ("glued", first, second)


def raw(data: bytes) -> Spec:
    return ("raw", data)


def bom() -> Spec:
    """A byte order mark before the first line."""
    return ("bom",)


def no_meta() -> Spec:
    return ("no_meta",)


def meta_here() -> Spec:
    return ("meta_here",)


def meta_field(**fields: Any) -> Spec:
    return ("meta_field", fields)


def ordinal(value: Any, spec: Spec) -> Spec:
    """Force this line's ordinal (None removes it) in the paginated rendering."""
    return ("ordinal", value, spec)


# --- rendering ------------------------------------------------------------------------------------


class Renderer:
    def __init__(self, case: Case, generation: str) -> None:
        self.case = case
        self.generation = generation
        self.thread = case.thread_id(generation)
        self.tick = 0
        self.ids = 0

    def timestamp(self) -> str:
        self.tick += 1
        minutes, seconds = divmod(self.tick, 60)
        return f"2026-01-05T10:{minutes:02d}:{seconds:02d}.000Z"

    def next_id(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}_{self.ids:04d}"

    def payload(self, spec: Spec) -> dict[str, Any]:
        paginated = self.generation == "paginated"
        kind = spec[0]
        if kind == "message":
            _, role, text = spec
            part = "output_text" if role == "assistant" else "input_text"
            p: dict[str, Any] = {"type": "message"}
            if paginated:
                p["id"] = self.next_id("msg")
            p.update(role=role, content=[{"type": part, "text": text}])
            return p
        if kind == "call":
            _, cid, call_kind, cmd = spec
            if call_kind == "function":
                p = {"type": "function_call"}
                if paginated:
                    p.update(status="completed", id=self.next_id("fc"))
                p.update(name="exec_command" if paginated else "shell",
                         arguments=orjson.dumps({"cmd": cmd} if paginated else {"command": ["bash", "-lc", cmd]}).decode(),
                         call_id=cid)
                return p
            if call_kind == "custom":
                p = {"type": "custom_tool_call"}
                if paginated:
                    p.update(id=self.next_id("ctc"), status="completed")
                p.update(call_id=cid, name="apply_patch", input="*** Begin Patch\n*** Add File: a.txt\n+a\n*** End Patch")
                return p
            if call_kind == "local_shell":
                return {"type": "local_shell_call", "call_id": cid, "status": "completed",
                        "action": {"type": "exec", "command": ["bash", "-lc", cmd]}}
            if call_kind == "tool_search":
                return {"type": "tool_search_call", "call_id": cid, "execution": "client",
                        "arguments": {"query": cmd}}
            raise ValueError(call_kind)
        if kind == "output":
            _, cid, out_kind, text = spec
            if out_kind == "tool_search":
                return {"type": "tool_search_output", "call_id": cid, "status": "completed",
                        "execution": "client", "tools": []}
            out_type = "custom_tool_call_output" if out_kind == "custom" else "function_call_output"
            p = {"type": out_type}
            if paginated:
                p["id"] = self.next_id("fco" if out_type == "function_call_output" else "ctco")
            p.update(call_id=cid, output=text)
            return p
        if kind == "payload":
            return dict(spec[1])
        if kind == "output_value":
            _, cid, value = spec
            return {"type": "function_call_output", "call_id": cid, "output": value}
        if kind == "reasoning":
            p = {"type": "reasoning"}
            if paginated:
                p["id"] = self.next_id("rs")
            p.update(summary=[{"type": "summary_text", "text": "thinking"}], content=None,
                     encrypted_content="gAAAAABpbase64blob==")
            return p
        raise ValueError(spec)

    def envelope(self, line_type: str, payload: Any, ordinal: Any = ..., metadata: bool = False) -> bytes:
        line: dict[str, Any] = {"timestamp": self.timestamp()}
        if self.generation == "paginated" and ordinal is not None:
            if ordinal is not ... and type(ordinal) is int:
                self.ordinal = ordinal  # later lines continue from a forced ordinal, as Codex's writer does
            line["ordinal"] = self.ordinal if ordinal is ... else ordinal
        line["type"] = line_type
        line["payload"] = payload
        if metadata:
            line["metadata"] = {"history_sequence": self.ordinal, "client_authored": False}
        self.ordinal += 1
        return orjson.dumps(line)

    def meta(self, extra: dict[str, Any]) -> bytes:
        if self.generation == "legacy":
            return orjson.dumps({"id": self.thread, "timestamp": f"{BASE_TIME}.000Z", "instructions": None, **extra})
        payload: dict[str, Any] = {"id": self.thread, "timestamp": f"{BASE_TIME}.000Z", "cwd": "/work",
                                   "originator": "codex_exec",
                                   "cli_version": "0.169.0" if self.generation == "paginated" else "0.77.0"}
        if self.generation == "paginated":
            payload["history_mode"] = "paginated"
        payload.update(extra)
        return self.envelope("session_meta", payload)

    def line(self, spec: Spec, ordinal: Any = ...) -> bytes:
        kind = spec[0]
        if kind == "ordinal":
            return self.line(spec[2], spec[1])
        if kind == "event":
            _, event_type, fields = spec
            if self.generation == "legacy":
                return orjson.dumps({"record_type": "state"})
            return self.envelope("event_msg", {"type": event_type, **fields}, ordinal)
        if kind == "compacted":
            _, items, message = spec
            payload: dict[str, Any] = {"message": message}
            if items is not None:
                payload["replacement_history"] = [self.payload(i) for i in items]
            if self.generation == "legacy":
                return orjson.dumps({"type": "compaction_summary", **payload})
            return self.envelope("compacted", payload, ordinal)
        if kind == "raw":
            return spec[1]
        if kind == "inter_agent":
            _, text, trigger = spec
            payload = {"author": "/root/worker", "recipient": "/root", "other_recipients": [], "content": text,
                       "trigger_turn": trigger}
            if self.generation == "legacy":
                raise ValueError("no legacy rollout holds an inter_agent_communication line")
            return self.envelope("inter_agent_communication", payload, ordinal)
        if kind == "torn":
            whole = self.line(spec[1])
            return whole[: len(whole) // 2]
        if kind == "glued":
            first = self.line(spec[1])
            return first[: len(first) // 2] + self.line(spec[2])
        payload = self.payload(spec)
        if self.generation == "legacy":
            return orjson.dumps(payload)
        return self.envelope("response_item", payload, ordinal, metadata=self.generation == "paginated")

    def render(self) -> bytes:
        self.ordinal = 0
        items = list(self.case.items)
        extra: dict[str, Any] = {}
        for spec in items:
            if spec[0] == "meta_field":
                extra.update(spec[1])
        items = [s for s in items if s[0] != "meta_field"]
        prefix = b"\xef\xbb\xbf" if ("bom",) in items else b""
        items = [s for s in items if s[0] != "bom"]
        lines: list[bytes] = []
        if ("no_meta",) not in items and ("meta_here",) not in items:
            lines.append(self.meta(extra))
        torn_last = False
        for n, spec in enumerate(items):
            if spec[0] == "no_meta":
                continue
            if spec[0] == "meta_here":
                lines.append(self.meta(extra))
                continue
            lines.append(self.line(spec))
            torn_last = spec[0] == "torn" and n == len(items) - 1
        text = prefix + b"\n".join(lines)
        return text if torn_last else text + b"\n"


def rollout_name(case: Case, generation: str) -> str:
    return f"rollout-2026-01-05T10-00-00-{case.thread_id(generation)}.jsonl"
