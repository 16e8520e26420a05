"""Drive `codex app-server` (JSON-RPC over stdio) from a test: what the desktop app and IDEs use, and the
only way to reach 0.171.0's `thread/revert` (how it edits an earlier prompt) from a script.

    with AppServer(home, "0.171.0") as app:
        app.request("thread/resume", {"threadId": thread, "excludeTurns": True})
        app.request("thread/revert", {"threadId": thread, "beforeTurnId": turn})
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from typing import Any

from tests.support.codex_bin import codex_binary
from tests.support.codex_run import CodexHome


class AppServerError(RuntimeError):
    pass


class AppServer:
    def __init__(self, home: CodexHome, release: str) -> None:
        self.process = subprocess.Popen([str(codex_binary(release)), "app-server"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=home.env(),
                                        cwd=home.workdir)
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.stderr: list[str] = []
        self.next_id = 1
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self.messages.put(json.loads(line))
            except ValueError:
                continue

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line.decode("utf-8", "replace"))

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()

    def request(self, method: str, params: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        """Send a request and wait for its answer; notifications meanwhile are dropped, server requests
        (approvals) declined. Raises AppServerError with the server's words on an error answer."""
        ident = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        return self._wait(lambda m: m.get("id") == ident and ("result" in m or "error" in m), timeout, method)

    def wait_for(self, method: str, timeout: float = 60) -> dict[str, Any]:
        return self._wait(lambda m: m.get("method") == method and "id" not in m, timeout, method)

    def _wait(self, wanted: Any, timeout: float, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.messages.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    raise AppServerError(f"app-server exited {self.process.returncode}: {''.join(self.stderr)[-2000:]}")
                continue
            if "method" in message and "id" in message and "result" not in message:
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": {"decision": "decline"}})
                continue
            if wanted(message):
                if "error" in message:
                    raise AppServerError(f"{what}: {message['error']}")
                return message
        raise AppServerError(f"no answer to {what} within {timeout} s")

    def __enter__(self) -> AppServer:
        self.request("initialize", {"clientInfo": {"name": "rollout-doctor-tests", "version": "0"}})
        self.send({"jsonrpc": "2.0", "method": "initialized"})
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
