"""The workspace-wide freeze: while one is active, no channel sends anything.

Guarantees: a freeze can be set by anyone and lifted only by an approver, each with a
reason, each one event in the log (`freeze`, `unfreeze`) with who and when. With
signing on, both are signed by the actor (the playbook's automatic freeze excepted), and
an unfreeze lifts only the freeze it names, only when its signature verifies.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from publisher.errors import Refused
from publisher.incident.authority import require_approver, require_reason
from publisher.incident.identity import append_signed, untrusted
from publisher.log.store import Event, Store
from publisher.i18n import _

if TYPE_CHECKING:
    from publisher.workspace.app import App


def active_freeze(app: App) -> Event | None:
    """The `freeze` event in force, or None when it was lifted. A freeze always counts
    (stopping is safe); an unfreeze counts only when it names the freeze in force and its
    signature verifies (`publisher.incident.identity.untrusted`), so every face, the
    engine and the report agree on whether publishing is frozen."""
    current: Event | None = None
    for event in app.store.events(kind=("freeze", "unfreeze")):
        if event.kind == "freeze" and current is None:
            current = event
        elif event.kind == "unfreeze" and current is not None and event.data.get("freeze") == current.seq \
                and untrusted(app, event) is None:
            current = None
    return current


def frozen_after(store: Store, seq: int) -> bool:
    """Whether a `freeze` was recorded after `seq`. For a request in flight that began
    once `active_freeze` found no freeze with the log at `seq`: a freeze always stops,
    so only a new freeze event matters and no signature needs checking (safe to ask
    from another thread: it only reads the store)."""
    return bool(store.events(kind="freeze", after_seq=seq, limit=1))


def freeze(app: App, actor: str, reason: str | None, incident: str | None = None,
           signature: dict | None = None, key: Path | None = None, automatic: bool = False) -> Event:
    """`automatic`: the playbook's own freeze as an incident opens (unsigned: it only stops)."""
    reason = require_reason(reason, _("publishing is frozen"))
    current = active_freeze(app)
    if current:
        raise Refused(_("publishing is already frozen since {ts} by {actor}: {data}.").format(
                          ts=current.ts, actor=current.actor, data=current.data.get('reason')))
    if automatic:
        return app.store.append("freeze", actor=actor, incident=incident, data={"reason": reason, "automatic": True})
    return append_signed(app, "freeze", actor, {"reason": reason}, key=key, signature=signature, incident=incident)


def unfreeze(app: App, actor: str, reason: str | None, signature: dict | None = None,
             key: Path | None = None) -> Event:
    """Lift the freeze; the drafts that waited are drafting's to list (`waiting_drafts`)."""
    reason = require_reason(reason, _("the freeze is lifted"))
    require_approver(app, actor, _("lift a freeze"))
    current = active_freeze(app)
    if not current:
        raise Refused(_("publishing is not frozen; there is nothing to lift."))
    return append_signed(app, "unfreeze", actor, {"reason": reason, "freeze": current.seq}, key=key,
                         signature=signature)
