"""Freezes: while one holds, nothing it holds is sent, statement or notice.

Guarantees: a freeze can be set by anyone and lifted only by an approver, each with a
reason, each one event in the log (`freeze`, `unfreeze`) with who and when. A freeze
names what it holds: `scope` "all" (every incident; also what an older freeze without
a scope means) or "incident" (only the drafts and notices of the incident it names), and
the channels it never holds (`allow`, with the config's `[freeze] allow`), all of it in
the signed data. With signing on, both are signed by the actor (the playbook's automatic
freeze excepted: it counts only next to the opening of an incident whose case freezes on
open, see `publisher.incident.identity`), and an unfreeze lifts only the freeze it names,
only when its signature verifies. Several freezes may hold at once (one for everything,
one per incident); each is lifted on its own.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from publisher.errors import BadInput, Refused
from publisher.incident.authority import require_approver, require_reason
from publisher.incident.identity import append_signed, untrusted
from publisher.log.store import Event, Store
from publisher.i18n import _

if TYPE_CHECKING:
    from publisher.workspace.app import App


ALL = "all"
INCIDENT = "incident"


def active_freezes(app: App) -> list[Event]:
    """The `freeze` events in force, oldest first. A freeze always counts (stopping is
    safe); an unfreeze counts only when it names a freeze in force and its signature
    verifies (`publisher.incident.identity.untrusted`), so every face, the engine and
    the report agree on what is frozen."""
    current: dict[int, Event] = {}
    for event in app.store.events(kind=("freeze", "unfreeze")):
        if event.kind == "freeze":
            current[event.seq] = event
        elif event.data.get("freeze") in current and untrusted(app, event) is None:
            del current[event.data["freeze"]]
    return list(current.values())


def active_freeze(app: App) -> Event | None:
    """The oldest freeze in force, or None when nothing is frozen."""
    found = active_freezes(app)
    return found[0] if found else None


def scope_of(event: Event) -> str:
    return INCIDENT if event.data.get("scope") == INCIDENT and event.incident else ALL


def holds_incident(event: Event, incident: str | None) -> bool:
    """Whether the freeze `event` holds `incident`'s drafts and notices (None: a notice
    about no incident, held only by a freeze of everything)."""
    return scope_of(event) == ALL or event.incident == incident


def allowed_channels(app: App, event: Event) -> tuple[str, ...]:
    extra = event.data.get("allow")
    return tuple(dict.fromkeys([*app.config.freeze_allow, *(extra if isinstance(extra, list) else [])]))


def freeze_holding(app: App, incident: str | None, channel: str | None = None) -> Event | None:
    """The freeze in force that holds `incident` (on `channel`, when one is named: an
    allowed channel is never held), or None."""
    for event in active_freezes(app):
        if holds_incident(event, incident) and (channel is None or channel not in allowed_channels(app, event)):
            return event
    return None


def frozen_after(store: Store, seq: int, incident: str | None = None) -> bool:
    """Whether a `freeze` holding `incident` was recorded after `seq`. For a request in
    flight that began once no freeze held it with the log at `seq`: a freeze always
    stops, so only a new freeze event matters and no signature needs checking (safe to
    ask from another thread: it only reads the store)."""
    return any(holds_incident(event, incident) for event in store.events(kind="freeze", after_seq=seq))


def what_it_holds(event: Event) -> str:
    """The freeze's scope in words."""
    if scope_of(event) == INCIDENT:
        return _("the drafts and notices of incident {incident}").format(incident=event.incident)
    return _("every incident's drafts and notices")


def freeze_data(app: App, reason: str | None, incident: str | None, everything: bool,
                allow: tuple[str, ...] = ()) -> dict[str, object]:
    """The data a freeze records and its actor signs; refused when a freeze in force
    already holds the same."""
    data: dict[str, object] = {"reason": require_reason(reason, _("publishing is frozen")),
                               "scope": ALL if everything or not incident else INCIDENT}
    unknown = [name for name in allow if name not in app.config.channels]
    if unknown:
        raise BadInput(_("--allow {value}: no such channel in the config; its channels are {names}.").format(
            value=unknown[0], names=", ".join(app.config.channels) or "-"))
    if allow:
        data["allow"] = list(dict.fromkeys(allow))
    for current in active_freezes(app):
        if scope_of(current) == ALL or (data["scope"] == INCIDENT and current.incident == incident):
            raise Refused(_("publishing is already frozen since {ts} by {actor} (it holds {holds}): {data}.").format(
                holds=what_it_holds(current), ts=current.ts, actor=current.actor, data=current.data.get("reason")))
    return data


def freeze(app: App, actor: str, reason: str | None, incident: str | None = None,
           signature: dict | None = None, key: Path | None = None, automatic: bool = False,
           everything: bool = False, allow: tuple[str, ...] = ()) -> Event:
    """Freeze `incident` only, or everything (`everything`, or when no incident is
    named). `automatic`: the playbook's own freeze as an incident opens (unsigned: it
    only stops)."""
    data = freeze_data(app, reason, incident, everything, allow)
    if automatic:
        return app.store.append("freeze", actor=actor, incident=incident, data={**data, "automatic": True})
    return append_signed(app, "freeze", actor, data, key=key, signature=signature, incident=incident)


def freeze_to_lift(app: App, seq: int | None = None) -> Event:
    """The freeze an unfreeze names: `seq`, or the only one in force."""
    found = active_freezes(app)
    if not found:
        raise Refused(_("publishing is not frozen; there is nothing to lift."))
    if seq is None:
        if len(found) > 1:
            raise BadInput(_("{count} freezes are in force ({seqs}); name the one to lift with --freeze.").format(
                count=len(found), seqs=", ".join(str(event.seq) for event in found)))
        return found[0]
    for event in found:
        if event.seq == seq:
            return event
    raise BadInput(_("--freeze {value}: no freeze in force has that number; the freezes in force are {seqs}.").format(
        value=seq, seqs=", ".join(str(event.seq) for event in found)))


def unfreeze(app: App, actor: str, reason: str | None, signature: dict | None = None,
             key: Path | None = None, freeze_seq: int | None = None) -> Event:
    """Lift one freeze; the drafts that waited are drafting's to list (`waiting_drafts`)."""
    reason = require_reason(reason, _("the freeze is lifted"))
    require_approver(app, actor, _("lift a freeze"))
    current = freeze_to_lift(app, freeze_seq)
    return append_signed(app, "unfreeze", actor, {"reason": reason, "freeze": current.seq}, key=key,
                         signature=signature)
