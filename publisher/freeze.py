"""The workspace-wide freeze: while one is active, no channel sends anything."""
from __future__ import annotations

from publisher.store import Event, Store


def active_freeze(store: Store) -> Event | None:
    """The `freeze` event in force, or None when the last one was lifted."""
    last = store.events(kind=("freeze", "unfreeze"), newest_first=True, limit=1)
    return last[0] if last and last[0].kind == "freeze" else None
