"""A small synchronous LSP client that drives a pto-lsp process over stdio, as an editor does:
for the tests and the latency benchmark (bench/lsp.py), and for scripting the server.

It speaks JSON-RPC with Content-Length frames; a reader thread queues what the server sends,
answers the server's own requests (showDocument, configuration) with null, and keeps every
notification for `wait_for`.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Message = dict[str, Any]
PUBLISH = "textDocument/publishDiagnostics"


class ServerError(Exception):
    pass


class Client:
    def __init__(self, argv: Sequence[str] | None = None,
                 init_options: dict[str, Any] | None = None, root: Path | None = None) -> None:
        self.proc = subprocess.Popen(list(argv or [sys.executable, "-m", "pto_dsl.lsp"]),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self._inbox: queue.Queue[Message | None] = queue.Queue()
        self.notifications: list[Message] = []
        self.server_requests: list[Message] = []
        self._next = 0
        self._errors: list[bytes] = []
        self.last_published: list[Message] = []  # the publications `checked` went through
        self._threads = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=self._drain, daemon=True)]
        for thread in self._threads:
            thread.start()
        self.capabilities = self.request("initialize", {
            "processId": None, "rootUri": root.as_uri() if root else None,
            "capabilities": {"window": {"showDocument": {"support": True}},
                             "textDocument": {"publishDiagnostics": {
                                 "relatedInformation": True, "versionSupport": True}}},
            "initializationOptions": init_options or {}})["capabilities"]
        self.notify("initialized", {})

    # ---- the wire ----------------------------------------------------------------------
    def _send(self, message: Message) -> None:
        body = json.dumps(message).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self._inbox.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            assert length is not None, "a frame without Content-Length"
            message = json.loads(out.read(length))
            if "id" not in message and isinstance(message.get("params"), dict):
                # a notification: when it arrived (not part of LSP)
                message["params"]["received"] = time.monotonic()
            if "method" in message and "id" in message:  # a request from the server
                self.server_requests.append(message)
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            else:
                self._inbox.put(message)

    def _drain(self) -> None:  # standard error, read so that the server never blocks on it
        err = self.proc.stderr
        assert err is not None
        for line in iter(err.readline, b""):
            self._errors.append(line)

    def _pump(self, deadline: float) -> Message:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the server did not answer in time")
        try:
            message = self._inbox.get(timeout=left)
        except queue.Empty:
            raise TimeoutError("the server did not answer in time") from None
        if message is None:
            raise ServerError("the server closed its output; stderr:\n" + self.stderr())
        if "method" in message:
            self.notifications.append(message)
        return message

    # ---- requests and notifications ------------------------------------------------------
    def request(self, method: str, params: Any, timeout: float = 30.0) -> Any:
        self._next += 1
        ident = self._next
        self._send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            message = self._pump(deadline)
            if message.get("id") == ident and "method" not in message:
                if "error" in message:
                    raise ServerError(message["error"].get("message", str(message["error"])))
                return message.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_for(self, method: str, match: Callable[[Any], bool] = lambda p: True,
                 timeout: float = 30.0) -> Any:
        """The params of the first notification (kept or coming) that matches; it is
        consumed, so the next call waits for a later one."""
        deadline = time.monotonic() + timeout
        while True:
            for i, n in enumerate(self.notifications):
                if n["method"] == method and match(n["params"]):
                    del self.notifications[i]
                    return n["params"]
            self._pump(deadline)

    # ---- documents ---------------------------------------------------------------------
    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "pto", "version": version, "text": text}})

    def change(self, uri: str, text: str, version: int) -> None:
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                               "contentChanges": [{"text": text}]})

    def checked(self, uri: str, version: int, timeout: float = 30.0
                ) -> tuple[list[Message], Message]:
        """The diagnostics of a version once its checks ended (pto-lsp's `pto/checked`
        notification follows its last publication), and that notification's params."""
        done = self.wait_for("pto/checked", lambda p: p["uri"] == uri
                             and p["version"] == version, timeout)
        published = [n for n in self.notifications if n["method"] == PUBLISH
                     and n["params"]["uri"] == uri
                     and n["params"].get("version", version) <= version]
        for n in published:
            self.notifications.remove(n)
        assert published, "pto/checked without diagnostics before it"
        self.last_published = published
        return published[-1]["params"]["diagnostics"], done

    def stderr(self) -> str:
        """What the server wrote to standard error so far."""
        return b"".join(self._errors).decode(errors="replace")

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except (TimeoutError, ServerError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        for thread in self._threads:  # they end at the end of the server's output
            thread.join(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


