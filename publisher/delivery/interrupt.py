"""A freeze stops requests already in flight, not only the next attempt.

Guarantees: while a channel's `send()` runs inside `freeze_stops(frozen)`, the log is
asked every `FREEZE_POLL` seconds whether publishing was frozen; once it is, the channel's
request in flight is cut (`channels.deadline`) within a second, and the send ends as an
unknown outcome (the platform may have received it), which the engine then holds.
The polling runs on the process's one deadline watcher thread (`channels.deadline.watcher`),
not on a thread of its own per attempt.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from channels.deadline import abort_on, watcher

FREEZE_POLL = 0.5


@contextmanager
def freeze_stops(frozen: Callable[[], bool], poll: float = FREEZE_POLL) -> Iterator[threading.Event]:
    stop = threading.Event()

    def seen() -> bool:
        if frozen():
            stop.set()
            return True
        return False

    handle = watcher.every(poll, seen)
    try:
        with abort_on(stop):
            yield stop
    finally:
        watcher.cancel(handle)
