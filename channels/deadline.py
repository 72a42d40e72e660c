"""One deadline for a whole request, and stopping requests in flight.

Guarantees: inside `with Deadline(total) as deadline:`, every connection or socket handed
to `deadline.watch()` is shut down once `total` seconds have passed since the block
began, or within `POLL` seconds of the abort event set by `abort_on()` (a freeze) being
set. A blocked connect, send or read then fails at once, so a server that trickles its
answer one byte a second cannot hold a run longer than the channel's `timeout`, and a
freeze stops requests already on the wire. `deadline.fired` says which of the two
ended it ("timeout" or "abort"); since the request may have reached the platform, the
caller reports it as an unknown outcome.

The abort event is per thread (`abort_on`), so the delivery engine sets it around one
channel's `send()` without the channel knowing about freezes.
"""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

POLL = 0.2
_local = threading.local()


@contextmanager
def abort_on(event: threading.Event | None) -> Iterator[None]:
    """Requests made by this thread inside the block stop soon after `event` is set."""
    previous = getattr(_local, "abort", None)
    _local.abort = event
    try:
        yield
    finally:
        _local.abort = previous


def current_abort() -> threading.Event | None:
    return getattr(_local, "abort", None)


def current_deadline() -> "Deadline | None":
    return getattr(_local, "deadline", None)


class Deadline:
    def __init__(self, total: float, abort: threading.Event | None = None):
        self.total = total
        self.abort = abort if abort is not None else current_abort()
        self.ends = time.monotonic() + total
        self.fired: str | None = None
        self._targets: list[Any] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._previous: Deadline | None = None

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def watch(self, target: Any) -> None:
        """Shut `target` (a socket, or an object whose `sock` is one) down when the
        deadline passes or the abort is set."""
        with self._lock:
            if all(known is not target for known in self._targets):
                self._targets.append(target)
        if self.fired:
            _shut(target)

    def check(self) -> None:
        """Fire now when the deadline has passed or the abort is set (for loops that
        read in pieces)."""
        if self.fired is None:
            if self.abort is not None and self.abort.is_set():
                self.fired = "abort"
            elif time.monotonic() >= self.ends:
                self.fired = "timeout"

    def __enter__(self) -> "Deadline":
        self._previous = current_deadline()
        _local.deadline = self
        if self.abort is not None and self.abort.is_set():
            self.fired = "abort"
        threading.Thread(target=self._watchdog, name="deadline", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        _local.deadline = self._previous

    def _watchdog(self) -> None:
        while not self._done.wait(POLL if self.fired else min(POLL, max(self.remaining(), 0.01))):
            self.check()
            if self.fired:
                with self._lock:
                    targets = list(self._targets)
                for target in targets:
                    _shut(target)


def _shut(target: Any) -> None:
    sock = target if isinstance(target, socket.socket) else getattr(target, "sock", None)
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
