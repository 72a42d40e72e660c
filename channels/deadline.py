"""One deadline for a whole request, and stopping requests in flight.

Guarantees: inside `with Deadline(total) as deadline:`, every connection or socket handed
to `deadline.watch()` is shut down once `total` seconds have passed since the block
began, or within `POLL` seconds of the abort event set by `abort_on()` (a freeze) being
set. A blocked connect, send or read then fails at once, so a server that trickles its
answer one byte a second cannot hold a run longer than the channel's `timeout`, and a
freeze stops requests already on the wire. `deadline.fired` says which of the two
ended it ("timeout" or "abort"); since the request may have reached the platform, the
caller reports it as an unknown outcome. `deadline.sent` says whether the transport began
to send a request under it (what a failure means for the outcome depends on it).

The abort event is per thread (`abort_on`), so the delivery engine sets it around one
channel's `send()` without the channel knowing about freezes.

One watcher thread per process (`watcher`) serves every deadline and every periodic check
(`watcher.every`, used for freeze checks): no thread is started per request or attempt.
A connection is only shut by the deadline that last watched it, so a pooled connection
reused by another request is not cut by the previous request's deadline.
"""
from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

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
        self.sent = False
        self._targets: list[Any] = []
        self._lock = threading.Lock()
        self._closed = False
        self._previous: Deadline | None = None

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def watch(self, target: Any) -> None:
        """Shut `target` (a socket, or an object whose `sock` is one) down when the
        deadline passes or the abort is set."""
        try:
            target._publish_deadline = self
        except AttributeError:
            pass
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
        watcher.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._closed = True
        watcher.remove(self)
        _local.deadline = self._previous

    def needs_polling(self) -> bool:
        return self.abort is not None or self.fired is not None

    def tick(self) -> None:
        """Called by the watcher: fire when due and shut what this deadline still owns."""
        with self._lock:
            if self._closed:
                return
            self.check()
            if self.fired:
                for target in self._targets:
                    if getattr(target, "_publish_deadline", self) is self:
                        _shut(target)


class Watcher:
    """The one thread that ticks every live deadline when it ends (a heap of end times),
    every `POLL` seconds while one has an abort event or has fired, and runs the
    registered periodic checks."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._live: dict[Deadline, None] = {}
        self._heap: list[tuple[float, int, Deadline]] = []
        self._checks: dict[int, list[Any]] = {}
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._wakes_at: float | None = None
        self.registrations = 0
        self.threads_started = 0

    def add(self, deadline: Deadline) -> None:
        with self._cond:
            self._live[deadline] = None
            heapq.heappush(self._heap, (deadline.ends, next(self._order), deadline))
            self.registrations += 1
            self._wake(min(deadline.ends, time.monotonic() + POLL) if deadline.needs_polling() else deadline.ends)

    def remove(self, deadline: Deadline) -> None:
        with self._cond:
            self._live.pop(deadline, None)

    def every(self, interval: float, check: Callable[[], bool]) -> int:
        """Call `check()` on the watcher thread every `interval` seconds until it returns
        True or `cancel(handle)`; an exception counts as False."""
        handle = next(self._order)
        with self._cond:
            self._checks[handle] = [time.monotonic() + interval, interval, check]
            self.registrations += 1
            self._wake(self._checks[handle][0])
        return handle

    def cancel(self, handle: int) -> None:
        with self._cond:
            self._checks.pop(handle, None)

    def _wake(self, needed_at: float) -> None:
        """Have the watcher look again by `needed_at`: it is woken only when it would
        otherwise sleep past that (a fan-out registers hundreds of later deadlines, each
        of which would otherwise wake it to find nothing due)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="deadline-watcher", daemon=True)
            self._thread.start()
            self.threads_started += 1
        if self._wakes_at is None or needed_at < self._wakes_at:
            self._wakes_at = needed_at
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                wait = self._wait()
                self._wakes_at = None if wait is None else time.monotonic() + wait
                self._cond.wait(wait)
                now = time.monotonic()
                due = [(handle, entry[2]) for handle, entry in self._checks.items() if entry[0] <= now]
                for handle, _check in due:
                    self._checks[handle][0] = now + self._checks[handle][1]
                while self._heap and (self._heap[0][0] <= now or self._heap[0][2] not in self._live):
                    heapq.heappop(self._heap)
                live = list(self._live)
            for handle, check in due:
                if _safely(check):
                    self.cancel(handle)
            for deadline in live:
                deadline.tick()

    def _wait(self) -> float | None:
        now = time.monotonic()
        waits = [entry[0] - now for entry in self._checks.values()]
        if self._heap:
            waits.append(self._heap[0][0] - now)
        if any(deadline.needs_polling() for deadline in self._live):
            waits.append(POLL)
        return max(0.0, min(waits)) if waits else None


def _safely(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception:
        return False


watcher = Watcher()


def _shut(target: Any) -> None:
    sock = target if isinstance(target, socket.socket) else getattr(target, "sock", None)
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
