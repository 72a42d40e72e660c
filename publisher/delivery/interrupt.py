"""A freeze stops requests already in flight, not only the next attempt.

Guarantees: while a channel's `send()` runs inside `freeze_stops(frozen)`, the log is
asked every `FREEZE_POLL` seconds whether publishing was frozen; once it is, the channel's
request in flight is cut (`channels.deadline`) within a second, and the send ends as an
unknown outcome (the platform may have received it), which the engine then holds.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from channels.deadline import abort_on

FREEZE_POLL = 0.5


@contextmanager
def freeze_stops(frozen: Callable[[], bool], poll: float = FREEZE_POLL) -> Iterator[threading.Event]:
    stop, done = threading.Event(), threading.Event()

    def watch() -> None:
        while not done.wait(poll):
            if frozen():
                stop.set()
                return

    threading.Thread(target=watch, name="freeze-watch", daemon=True).start()
    try:
        with abort_on(stop):
            yield stop
    finally:
        done.set()
