"""A loopback stand-in for the model API that real Codex binaries talk to in tests.

It answers `POST /v1/responses` (Responses wire, server-sent events) and
`POST /v1/chat/completions` (Chat wire, `data:` chunks) from a per-test script of turns,
records every request, and refuses a request whose history breaks the API's pairing rules
with the same 400 the real API sends (see `judge.py`).

    with LoopbackServer([[function_call("exec_command", {"cmd": "echo hi"})], [say("done")]]) as server:
        run codex with base_url=server.base_url ...
        server.requests[1].input   # what Codex sent on the second request
"""

from __future__ import annotations

import gzip
import json
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tests.support import stub_server
from tests.support.judge import (  # re-exported: tests import everything from here
    Refusal,
    broker_contract_violations,
    chat_refusal,
    judge_chat_messages,
    judge_responses_input,
    responses_refusal,
)

__all__ = [
    "LoopbackServer",
    "Recorded",
    "Turn",
    "broker_contract_violations",
    "custom_call",
    "function_call",
    "interrupted",
    "judge_chat_messages",
    "judge_responses_input",
    "say",
]

Item = dict[str, Any]
_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """An id shaped like the API's (`call_` + 24 letters and digits, `fc_` + 48 hex ...)."""
    if prefix in ("fc", "ctc", "msg", "resp"):
        return f"{prefix}_{secrets.token_hex(24)}"
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"


def function_call(name: str, arguments: Mapping[str, Any] | str, call_id: str | None = None) -> Item:
    """A function_call the model makes; `arguments` goes on the wire as a JSON string, like the API's."""
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"type": "function_call", "name": name, "arguments": args, "call_id": call_id or new_id("call")}


def custom_call(name: str, input: str, call_id: str | None = None) -> Item:
    """A free-form (custom) tool call such as apply_patch in its grammar form."""
    return {"type": "custom_tool_call", "name": name, "input": input, "call_id": call_id or new_id("call")}


def say(text: str) -> Item:
    """A final assistant message."""
    return {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


@dataclass(frozen=True)
class Turn:
    """One model response. `interrupt` closes the stream after the items, before it completes."""

    items: tuple[Item, ...]
    interrupt: bool = False


def interrupted(*items: Item) -> Turn:
    return Turn(tuple(items), interrupt=True)


ScriptEntry = Turn | Sequence[Item]


@dataclass
class Recorded(stub_server.Recorded):
    """One request the server saw and what it answered."""

    @property
    def input(self) -> list[Item]:
        """The history: `input` on the Responses wire, `messages` on the Chat wire."""
        if not isinstance(self.body, dict):
            return []
        return list(self.body.get("input") or self.body.get("messages") or [])

    @property
    def tool_names(self) -> list[str]:
        """Names of the tools Codex offered (both wires)."""
        names = []
        for tool in (self.body or {}).get("tools") or []:
            names.append(tool.get("name") or (tool.get("function") or {}).get("name") or tool.get("type"))
        return names


@dataclass
class LoopbackServer(stub_server.StubServer):
    """Threaded HTTP server on 127.0.0.1, port chosen by the OS. Use as a context manager."""

    script: list[ScriptEntry] = field(default_factory=list)
    judge: bool = True
    fallback_text: str = "done"

    thread_name: ClassVar[str] = "loopback"

    def __post_init__(self) -> None:
        self._set_up()
        self.turns: list[Turn] = [t if isinstance(t, Turn) else Turn(tuple(t)) for t in self.script]
        self.unscripted = 0  # model requests answered with the fallback message

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # script --------------------------------------------------------------------------------
    def push(self, *entries: ScriptEntry) -> None:
        """Add turns to the script (e.g. for a resume after a first run)."""
        with self._lock:
            self.turns.extend(t if isinstance(t, Turn) else Turn(tuple(t)) for t in entries)

    def _take_turn(self) -> Turn:
        with self._lock:
            if self.turns:
                return self.turns.pop(0)
            self.unscripted += 1
            return Turn((say(self.fallback_text),))

    @property
    def model_requests(self) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.method == "POST" and r.path.endswith(("/responses", "/chat/completions"))
        ]


def _decode_body(raw: bytes, encoding: str) -> Any:
    # Newer Codex may compress request bodies; accept what it might send.
    if encoding == "gzip":
        raw = gzip.decompress(raw)
    elif encoding == "zstd":
        import zstandard  # only needed when Codex actually compresses

        raw = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


class _Handler(stub_server.RecordingHandler):
    owner: LoopbackServer
    recorded = Recorded
    close_after_json = True

    def do_GET(self) -> None:
        self._send_json(self._record(None), 404, Refusal("not served by loopback", None).error_body())

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = _decode_body(self.rfile.read(length), (self.headers.get("content-encoding") or "").lower())
        rec = self._record(body)
        path = self.path.split("?", 1)[0]
        if path.endswith("/responses"):
            refusal = responses_refusal(rec.input) if self.owner.judge else None
            streamer = self._stream_responses
        elif path.endswith("/chat/completions"):
            refusal = chat_refusal(rec.input) if self.owner.judge else None
            streamer = self._stream_chat
        else:
            self._send_json(rec, 404, Refusal(f"no route {path}", None).error_body())
            return
        if refusal is not None:
            rec.refusal = refusal
            self._send_json(rec, 400, refusal.error_body())
            return
        rec.turn = self.owner._take_turn()
        rec.status = 200
        streamer(rec.turn)

        self.close_connection = True

    def _start_stream(self) -> None:
        # No content-length and connection: close, so the end of the stream is the end of the body
        # and closing early is an interrupted turn, as with a dropped upstream connection.
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True

    def _event(self, data: Mapping[str, Any] | str, event: str | None = None) -> None:
        text = data if isinstance(data, str) else json.dumps(data)
        chunk = (f"event: {event}\n" if event else "") + f"data: {text}\n\n"
        self.wfile.write(chunk.encode())
        self.wfile.flush()

    def _stream_responses(self, turn: Turn) -> None:
        self._start_stream()
        response_id = new_id("resp")
        self._event({"type": "response.created", "response": {"id": response_id}}, "response.created")
        for index, item in enumerate(turn.items):
            self._event(
                {"type": "response.output_item.done", "output_index": index, "item": _with_item_id(item)},
                "response.output_item.done",
            )
        if turn.interrupt:
            return
        usage = {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 5,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 15,
        }
        self._event(
            {"type": "response.completed", "response": {"id": response_id, "usage": usage}},
            "response.completed",
        )

    def _stream_chat(self, turn: Turn) -> None:
        self._start_stream()
        chunk_id = new_id("chatcmpl")

        def chunk(delta: Mapping[str, Any], finish: str | None = None) -> None:
            self._event(
                {
                    "id": chunk_id,
                    "object": "chat.completion.chunk",
                    "model": "gpt-5",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
            )

        calls = [item for item in turn.items if item["type"] == "function_call"]
        for item in turn.items:
            if item["type"] == "message":
                text = "".join(part.get("text", "") for part in item["content"])
                chunk({"role": "assistant", "content": text})
            elif item["type"] != "function_call":
                raise ValueError(f"the Chat wire has no {item['type']}")
        for index, call in enumerate(calls):
            chunk(
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call["call_id"],
                            "type": "function",
                            "function": {"name": call["name"], "arguments": call["arguments"]},
                        }
                    ],
                }
            )
        if turn.interrupt:
            return
        chunk({}, "tool_calls" if calls else "stop")
        self._event("[DONE]")


def _with_item_id(item: Item) -> Item:
    # The real API gives every output item an id (fc_, ctc_, msg_); 0.169.0 keeps it in the rollout.
    if "id" in item:
        return item
    prefix = {"function_call": "fc", "custom_tool_call": "ctc", "message": "msg"}.get(item["type"], "item")
    return {"id": new_id(prefix), **item, "status": "completed"}


LoopbackServer.handler = _Handler
