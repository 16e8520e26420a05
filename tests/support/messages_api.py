"""A loopback stand-in for the Anthropic Messages API that the real `claude` binary talks to in tests.

It answers `POST /v1/messages?beta=true` (streamed as server-sent events, or as one JSON body when the
request does not ask for a stream) from a per-test script of turns, records every request, and refuses
a history that breaks the API's pairing rules with the 400 the real API sends; its messages are quoted
from real reports (anthropics/claude-code#6836, #21088, #40026, #63147, and the orphan
`advisor_tool_result` seen in 2.1.332's own requests).

    with MessagesServer([[tool_use("Bash", {"command": "echo hi"})], [text("done")]]) as server:
        run claude with ANTHROPIC_BASE_URL=server.base_url ...
        server.model_requests[1].messages   # what Claude Code sent on the second turn

Only requests that offer tools take a scripted turn: Claude Code also asks the model for side answers
(a session title, a topic) without tools, and those get the fallback text.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tests.support import stub_server

Block = dict[str, Any]
Message = dict[str, Any]
_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str = "toolu") -> str:
    """An id shaped like the API's (`toolu_01` + 22 letters and digits)."""
    return f"{prefix}_01{''.join(secrets.choice(_ALPHABET) for _ in range(22))}"


def text(value: str) -> Block:
    return {"type": "text", "text": value}


def tool_use(name: str, arguments: dict[str, Any], use_id: str | None = None) -> Block:
    return {"type": "tool_use", "id": use_id or new_id(), "name": name, "input": arguments}


@dataclass(frozen=True)
class Turn:
    blocks: tuple[Block, ...]


ScriptEntry = Turn | Sequence[Block]


# --- what the API refuses ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    message: str

    def error_body(self) -> dict[str, Any]:
        return {"type": "error", "error": {"type": "invalid_request_error", "message": self.message},
                "request_id": f"req_{secrets.token_hex(12)}"}


def blocks_of(message: Message) -> list[Block]:
    content = message.get("content")
    if isinstance(content, str):
        return [text(content)]
    return [b for b in content or [] if isinstance(b, dict)]


def judge_messages(messages: Sequence[Message]) -> Refusal | None:
    """The first refusal the real API gives this history, or None when it takes it.

    Each `tool_use` must be answered by a `tool_result` in the very next message, each `tool_result`
    must answer a `tool_use` of the message just before, ids are unique in the request, a server tool's
    result (`advisor_tool_result`) follows its `server_tool_use` in the same assistant message, every
    message but a final assistant one has content, and the latest assistant message's thinking is as
    the API signed it (a hollow block, empty text under a kept signature, is a modified one: #63147)."""
    seen_ids: set[str] = set()
    conversation = [(n, m) for n, m in enumerate(messages) if m.get("role") in ("user", "assistant")]
    last_assistant = max((n for n, m in conversation if m["role"] == "assistant"), default=-1)
    for at, (n, message) in enumerate(conversation):
        blocks = blocks_of(message)
        if not blocks and not (message["role"] == "assistant" and at == len(conversation) - 1):
            return Refusal(f"messages.{n}: all messages must have non-empty content except for the optional "
                           "final assistant message")
        previous = conversation[at - 1][1] if at > 0 else None
        if previous is not None and previous["role"] == "assistant" and message["role"] == "user":
            kinds = [b.get("type") for b in blocks]
            late = [b.get("tool_use_id") for k, b in enumerate(blocks)
                    if b.get("type") == "tool_result" and any(x != "tool_result" for x in kinds[:k])]
            if late:  # results must open the message, ahead of any text
                return Refusal(f"messages.{conversation[at - 1][0]}: `tool_use` ids were found without `tool_result` "
                               f"blocks immediately after: {', '.join(late)}. Each `tool_use` block must have a "
                               "corresponding `tool_result` block in the next message.")
        following = conversation[at + 1][1] if at + 1 < len(conversation) else None
        server_uses: set[str] = set()
        for k, block in enumerate(blocks):
            kind = block.get("type")
            if kind in ("tool_use", "server_tool_use"):
                if block.get("id") in seen_ids:
                    return Refusal(f"messages.{n}.content.{k}: `tool_use` ids must be unique")
                seen_ids.add(block.get("id"))
                if kind == "server_tool_use":
                    server_uses.add(block.get("id"))
            elif kind == "advisor_tool_result" and block.get("tool_use_id") not in server_uses:
                return Refusal(f"messages.{n}.content.{k}: unexpected tool_use_id found in advisor_tool_result "
                               f"blocks: {block.get('tool_use_id')}. Each advisor_tool_result block must have a "
                               "corresponding server_tool_use block before it.")
            elif kind == "tool_result":
                asked = {b.get("id") for b in blocks_of(previous)
                         if b.get("type") == "tool_use"} if previous and previous["role"] == "assistant" else set()
                if block.get("tool_use_id") not in asked:
                    return Refusal(f"messages.{n}.content.{k}: unexpected `tool_use_id` found in `tool_result` "
                                   f"blocks: {block.get('tool_use_id')}. Each `tool_result` block must have a "
                                   "corresponding `tool_use` block in the previous message.")
            elif (kind == "thinking" and n == last_assistant and block.get("signature")
                  and not block.get("thinking")):
                return Refusal(f"messages.{n}.content.{k}: `thinking` or `redacted_thinking` blocks in the "
                               "latest assistant message cannot be modified. These blocks must remain as they "
                               "were in the original response.")
        if message["role"] == "assistant":
            uses = [b.get("id") for b in blocks if b.get("type") == "tool_use"]
            answered = {b.get("tool_use_id") for b in blocks_of(following) if b.get("type") == "tool_result"} \
                if following and following["role"] == "user" else set()
            missing = [u for u in uses if u not in answered]
            if missing and following is not None:
                return Refusal(f"messages.{n}: `tool_use` ids were found without `tool_result` blocks immediately "
                               f"after: {', '.join(missing)}. Each `tool_use` block must have a corresponding "
                               "`tool_result` block in the next message.")
    return None


# --- the server --------------------------------------------------------------------------------------


@dataclass
class Recorded(stub_server.Recorded):
    """One request the stand-in saw and what it answered."""

    @property
    def messages(self) -> list[Message]:
        return list(self.body.get("messages") or []) if isinstance(self.body, dict) else []

    @property
    def offers_tools(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("tools"))


@dataclass
class MessagesServer(stub_server.StubServer):
    """Threaded HTTP server on 127.0.0.1, port chosen by the OS. Use as a context manager."""

    script: list[ScriptEntry] = field(default_factory=list)
    judge: bool = True
    fallback_text: str = "done"

    thread_name: ClassVar[str] = "messages-api"

    def __post_init__(self) -> None:
        self._set_up()
        self.turns: list[Turn] = [t if isinstance(t, Turn) else Turn(tuple(t)) for t in self.script]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def push(self, *entries: ScriptEntry) -> None:
        with self._lock:
            self.turns.extend(t if isinstance(t, Turn) else Turn(tuple(t)) for t in entries)

    def take_turn(self, scripted: bool) -> Turn:
        with self._lock:
            if scripted and self.turns:
                return self.turns.pop(0)
        return Turn((text(self.fallback_text),))

    @property
    def model_requests(self) -> list[Recorded]:
        """The requests of the conversation itself (they offer tools), refused or answered."""
        return [r for r in self.requests if r.path.split("?", 1)[0].endswith("/messages") and r.offers_tools]


class _Handler(stub_server.RecordingHandler):
    owner: MessagesServer
    recorded = Recorded

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._send_json(self._record(None), 404, Refusal("not served by the loopback Messages API").error_body())

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        rec = self._record(body)
        path = self.path.split("?", 1)[0]
        if path.endswith("/count_tokens"):
            self._send_json(rec, 200, {"input_tokens": 100})
            return
        if not path.endswith("/messages") or not isinstance(body, dict):
            self._send_json(rec, 404, Refusal(f"no route {path}").error_body())
            return
        refusal = judge_messages(rec.messages) if self.owner.judge else None
        if refusal is not None:
            rec.refusal = refusal
            self._send_json(rec, 400, refusal.error_body())
            return
        rec.turn = self.owner.take_turn(rec.offers_tools)
        rec.status = 200
        if body.get("stream"):
            self._stream(rec.turn, body.get("model") or "claude-sonnet-4-5")
        else:
            self._send_json(rec, 200, _message(rec.turn, body.get("model") or "claude-sonnet-4-5"))

    def _stream(self, turn: Turn, model: str) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        start = _message(Turn(()), model)
        start["stop_reason"] = None
        events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
        for index, block in enumerate(turn.blocks):
            if block["type"] == "tool_use":
                events += [{"type": "content_block_start", "index": index,
                            "content_block": {**block, "input": {}}},
                           {"type": "content_block_delta", "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}}]
            else:
                events += [{"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                           {"type": "content_block_delta", "index": index,
                            "delta": {"type": "text_delta", "text": block["text"]}}]
            events.append({"type": "content_block_stop", "index": index})
        events += [{"type": "message_delta", "delta": {"stop_reason": _stop_reason(turn), "stop_sequence": None},
                    "usage": {"output_tokens": 10}},
                   {"type": "message_stop"}]
        for event in events:
            self.wfile.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
        self.wfile.flush()


def _stop_reason(turn: Turn) -> str:
    return "tool_use" if any(b["type"] == "tool_use" for b in turn.blocks) else "end_turn"


def _message(turn: Turn, model: str) -> dict[str, Any]:
    return {"id": f"msg_01{secrets.token_hex(11)}", "type": "message", "role": "assistant", "model": model,
            "content": list(turn.blocks), "stop_reason": _stop_reason(turn), "stop_sequence": None,
            "usage": {"input_tokens": 100, "output_tokens": 10, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0}}


MessagesServer.handler = _Handler
