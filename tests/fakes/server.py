"""A loopback HTTP server that platform fakes build on.

A fake answers every request through `handler(request) -> Reply`; a test can also queue
replies (`fake.queue(...)`) that are used, in order, before the handler. Every request
is recorded with its method, path, query, headers and body, so tests assert on what the
platform really received.
"""
from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict | list | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reset: bool = False
    trickle: float = 0.0
    cut_after: int | None = None

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, (dict, list)):
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
            return json.dumps(self.body).encode(), headers
        if isinstance(self.body, str):
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            return self.body.encode(), headers
        return self.body or b"", headers


class FakeServer:
    def __init__(self, handler: Callable[[Request], Reply] | None = None):
        self.handler = handler or (lambda request: Reply(404, {"error": "not found"}))
        self.requests: list[Request] = []
        self._queued: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._make_handler())
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, address: None
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    scheme = "http"

    def use_tls(self, context: ssl.SSLContext) -> "FakeServer":
        """Speak HTTPS with `context`'s certificate (call before `start`); a client that
        refuses the certificate ends its connection in the handshake."""
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https"
        return self

    def reset(self) -> None:
        """Forget recorded requests and queued replies (fakes shared across tests)."""
        with self._lock:
            self.requests.clear()
            self._queued.clear()

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self._queued.extend(replies)

    def start(self) -> "FakeServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_reply(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._queued:
                return self._queued.popleft()
        return self.handler(request)

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path, parse_qs(parts.query),
                                  dict(self.headers.items()), body)
                reply = fake._next_reply(request)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                if reply.trickle or reply.cut_after is not None:
                    self._misbehave(reply)
                    return
                payload, headers = reply.encoded()
                self.send_response(reply.status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload and self.command != "HEAD":
                    self.wfile.write(payload)

            def _misbehave(self, reply: Reply) -> None:
                """Send the answer one byte every `trickle` seconds, or cut it with a
                connection reset after `cut_after` bytes of its body."""
                payload, headers = reply.encoded()
                head = f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}\r\n"
                head += "".join(f"{key}: {value}\r\n" for key, value in headers.items())
                head += f"Content-Length: {len(payload)}\r\n\r\n"
                data = head.encode() + (payload if reply.cut_after is None else payload[:reply.cut_after])
                self.close_connection = True
                try:
                    if reply.trickle:
                        for index in range(len(data)):
                            self.wfile.write(data[index:index + 1])
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                    else:
                        self.wfile.write(data)
                        self.wfile.flush()
                        time.sleep(0.05)
                except OSError:
                    return
                if reply.cut_after is not None:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

        return Handler
