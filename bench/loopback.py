"""Loopback HTTP receivers for the benchmarks: each answers a POST after a fixed delay
(or a scripted status first), and records when every request arrived."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, delay: float = 0.0, first_statuses: tuple[int, ...] = (), retry_after: str = "2"):
        self.delay = delay
        self.script = list(first_statuses)
        self.retry_after = retry_after
        self.arrivals: list[float] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with receiver._lock:
                    receiver.arrivals.append(time.monotonic())
                    status = receiver.script.pop(0) if receiver.script else 200
                if receiver.delay:
                    time.sleep(receiver.delay)
                body = json.dumps({"id": f"evt_{len(receiver.arrivals)}", "url": "https://status.example.org/e"}
                                  if status == 200 else {"error": "slow down"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if status == 429:
                    self.send_header("Retry-After", receiver.retry_after)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 64
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/incident"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
