"""The rollback guard: the log heads (sequence number, hash) the workspace's site and
outbox files carry (statement pages, feed entries, outbox files: the log's sightings),
checked against the store before anything is written or sent.

Guarantees: `contradiction()` names the first sighting the store cannot account for,
either a row the store does not have (an older copy was restored, or rows were cut or
emptied, head file and all) or a row whose hash differs (the store was replaced). A
sighting is written after its row is committed, so the store that wrote it always
accounts for it: any contradiction means the store is not the one that wrote it.

Before the first write of every command (before any send, and before any
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
from typing import TYPE_CHECKING, Any, Callable, Iterable

from publisher.errors import BadInput, Refused
from publisher.i18n import _

if TYPE_CHECKING:
    from channels.base import Sighting
    from publisher.log.store import Store


KEEPS_FILES = ("site", "outbox")
"""The channel types that write files of their own and read back the log heads in them
(their classes implement `Channel.log_heads`); no other channel module is imported."""


def contradiction(store: Store, sightings: Iterable[Sighting]) -> str | None:
    """One sentence naming the first sighting ahead of, or at odds with, the store."""
    head_seq, _head_hash = store.head()
    ordered = sorted(sightings, key=lambda sighting: -sighting.seq)
    for sighting in ordered:
        if sighting.seq > head_seq:
            return _("{where} records log row {seq}, but the log ends at row {head}: an older copy of the log was "
                     "restored, or rows were cut; nothing is written or sent until the log that wrote it is back"
                     ).format(where=sighting.where, seq=sighting.seq, head=head_seq)
        rows = store.events(after_seq=sighting.seq - 1, limit=1)
        if not rows or rows[0].seq != sighting.seq or rows[0].hash != sighting.hash:
            return _("{where} records log row {seq} with hash {hash}, but the log's row {seq} differs: the log was "
                     "replaced; nothing is written or sent until the log that wrote it is back").format(
                         where=sighting.where, seq=sighting.seq, hash=sighting.hash[:12])
    return None


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

    def guarded(write: Callable[..., Any]) -> Callable[..., Any]:
        def checked_write(*args: Any, **kwargs: Any) -> Any:
            while True:
                ensure_checked()
                wrote.set()
                try:
                    result = write(*args, **kwargs)
                except _HeadMoved:
                    with lock:
                        checked[0] = None
                    continue
                with lock:
                    checked[0] = ()
                return result
        return checked_write

    store.before_write = before_write
    store.append = guarded(store.append)
    store.append_heard = guarded(store.append_heard)
    store.wrote = wrote
    return store
