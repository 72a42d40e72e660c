"""The workspace-wide freeze: while one is active, no channel sends anything.

Guarantees: a freeze can be set by anyone and lifted only by an approver, each with a
reason, each one event in the log (`freeze`, `unfreeze`) with who and when.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.errors import Refused
from publisher.incident.authority import require_approver, require_reason
from publisher.log.store import Event, Store

if TYPE_CHECKING:
    from publisher.workspace.app import App


def active_freeze(store: Store) -> Event | None:
    """The `freeze` event in force, or None when the last one was lifted."""
    last = store.events(kind=("freeze", "unfreeze"), newest_first=True, limit=1)
    return last[0] if last and last[0].kind == "freeze" else None


def freeze(app: App, actor: str, reason: str | None, incident: str | None = None) -> Event:
    reason = require_reason(reason, "publishing is frozen")
    current = active_freeze(app.store)
    if current:
        raise Refused(f"publishing is already frozen since {current.ts} by {current.actor}: "
                      f"{current.data.get('reason')}.")
    return app.store.append("freeze", actor=actor, incident=incident, data={"reason": reason})


def unfreeze(app: App, actor: str, reason: str | None) -> Event:
    """Lift the freeze; the drafts that waited are drafting's to list (`waiting_drafts`)."""
    reason = require_reason(reason, "the freeze is lifted")
    require_approver(app, actor, "lift a freeze")
    current = active_freeze(app.store)
    if not current:
        raise Refused("publishing is not frozen; there is nothing to lift.")
    event = app.store.append("unfreeze", actor=actor, data={"reason": reason, "freeze": current.seq})
    return event

