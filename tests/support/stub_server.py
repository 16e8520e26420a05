"""What the loopback model APIs share (loopback.py: OpenAI's Responses and Chat wires, for Codex;
messages_api.py: Anthropic's Messages API, for Claude Code): a threaded HTTP server on 127.0.0.1 on a
port the OS chooses, the record of every request it saw, and a handler that answers JSON. Each API
brings its own routes, script of turns, refusals and streaming."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from typing import Self  # 3.11+, and the project supports 3.10


@dataclass
class Recorded:
    """One request the server saw and what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0
    refusal: Any = None  # the API's Refusal, when the history was refused
    turn: Any = None  # the scripted turn it answered with


class StubServer:
    """The server's life and its record; a dataclass subclass calls ``_set_up`` from ``__post_init__``."""

    handler: ClassVar[type[RecordingHandler]]
    thread_name: ClassVar[str]

    def _set_up(self) -> None:
        self.requests: list[Any] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    def start(self) -> Self:
        handler = type("Handler", (self.handler,), {"owner": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        # A short poll interval: shutdown() waits for the loop to notice, and tests start many servers.
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name=self.thread_name,
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def refusals(self) -> list[Any]:
        return [r for r in self.requests if r.refusal is not None]


class RecordingHandler(BaseHTTPRequestHandler):
    owner: Any  # the StubServer, set on the class start() makes
    protocol_version = "HTTP/1.1"
    recorded: ClassVar[type[Recorded]] = Recorded
    close_after_json: ClassVar[bool] = False  # say "connection: close" with a JSON answer

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def _record(self, body: Any) -> Any:
        rec = self.recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        with self.owner._lock:
            self.owner.requests.append(rec)
        return rec

    def _send_json(self, rec: Recorded, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        rec.status = status
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        if self.close_after_json:
            self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(data)
