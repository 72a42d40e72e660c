"""The rollback guard: the log heads the workspace's site and outbox files carry, checked
against the store before anything is written or sent.

Guarantees: before the first write of every command (before any send, and before any
write that does not follow this process's own last one), every head
the workspace's site and outbox folders carry is compared with the store; when one is
ahead of it or at odds with it (an older copy restored, with or without its head file;
an emptied or replaced log), the command is refused (exit 2) with one sentence naming
the file, and nothing is written. `app` is the workspace's `App` (typed loosely: the
App builds its store through `guard_writes`).
"""
from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from publisher.errors import BadInput, Refused
from publisher.log.sightings import contradiction

if TYPE_CHECKING:
    from channels.base import Sighting


KEEPS_FILES = ("site", "outbox")
"""The channel types that write files of their own and read back the log heads in them
(their classes implement `Channel.log_heads`); no other channel module is imported."""


def sightings(app: Any) -> list[Sighting]:
    """Every log head the workspace's own channel files carry (site and outbox, enabled or not)."""
    found = []
    for name, configured in app.config.channels.items():
        if configured.type not in KEEPS_FILES:
            continue
        try:
            channel = app.channel(name)
        except BadInput:
            continue
        found += [replace(sighting, where=_shown(app, sighting.where)) for sighting in channel.log_heads()]
    return found


def _shown(app: Any, where: str) -> str:
    try:
        return str(Path(where).relative_to(app.workspace))
    except ValueError:
        return where


def refuse_if_rolled_back(app: Any, store: Any = None) -> None:
    """Refuse (exit 2) when a witness in the workspace is ahead of the store or at odds with it."""
    problem = contradiction(store if store is not None else app.store, sightings(app))
    if problem:
        raise Refused(problem + ".")


class _HeadMoved(Exception):
    """The log's head is neither the one checked nor one this process wrote: check again."""


def guard_writes(app: Any, store: Any) -> Any:
    """Make `store` check the workspace's witnesses before its first write, and again
    only when the log's head, as the append's own transaction finds it, is neither the
    head just checked (until the next write succeeds) nor the row this process (any of
    its threads) last made: another process wrote since, or the log was swapped under a
    long-running process such as the console. The check itself runs outside the
    transaction; the row is retried after it."""
    append: Callable[..., Any] = store.append
    wrote = threading.Event()
    lock = threading.Lock()
    checked: list[Any] = [None]  # None: check before the next write; a head: the one checked; (): wrote since

    def ensure_checked() -> None:
        with lock:
            if checked[0] is None:
                head = tuple(store.head())
                refuse_if_rolled_back(app, store)
                checked[0] = head

    def before_write(tail: tuple[int, str]) -> None:
        if tail != checked[0] and tail != store.made_here:
            raise _HeadMoved()

    def checked_append(*args: Any, **kwargs: Any) -> Any:
        while True:
            ensure_checked()
            wrote.set()
            try:
                event = append(*args, **kwargs)
            except _HeadMoved:
                with lock:
                    checked[0] = None
                continue
            with lock:
                checked[0] = ()
            return event

    store.before_write = before_write
    store.append = checked_append
    store.wrote = wrote
    return store
