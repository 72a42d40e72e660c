"""What the checklist of an incident is computed from, gathered from the log, and the
warnings it gives rise to.

Guarantees: severity decides what the proof covers. A `crisis` is published when every
public channel of the set recorded for the incident (`incident.verdict_set`: when it
opened and each draft was rendered, never the live config) has one of its drafts; a
`single` complaint when the reply has reached the public channel(s) of the source
post's platform. A decision not
to answer waives the playbook's waivable steps, and says who decided it, when and why.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from publisher.incident.decisions import counted_decisions
from publisher.incident.playbooks import Facts
from publisher.incident.verdict_set import judged_set
from publisher.log.store import Event
from publisher.timeparse import from_iso
from publisher.workspace.config import ChannelConfig

if TYPE_CHECKING:
    from publisher.drafting.drafts import DraftRecord
    from publisher.incident.incidents import Incident
    from publisher.workspace.app import App

def is_public(record: DraftRecord) -> bool:
    return any(payload.audience == "public" for payload in record.draft.payloads.values())


def required_channels(app: App, incident: Incident,
                      records: list[DraftRecord]) -> tuple[list[ChannelConfig], list[DraftRecord]]:
    """The public channels the 48 h proof covers, and the drafts that count on them."""
    public = list(judged_set(app, incident.id).channels)
    if incident.severity != "single":
        return public, records
    from publisher.drafting.targeting import source_platform

    replies = [record for record in records if record.draft.template == "reply" and not record.rejection]
    platform = source_platform(app, incident)
    if platform is not None:
        return [channel for channel in public if channel.type == platform], replies
    names = {name for record in replies for name in record.draft.payloads}
    return [channel for channel in public if channel.name in names and channel.type != "site"], replies


def _completed(record: DraftRecord) -> datetime | None:
    """When every channel of the draft had it (None while one has not)."""
    if record.rejection or not record.deliveries:
        return None
    if any(delivery.state != "delivered" or not delivery.at for delivery in record.deliveries.values()):
        return None
    return max(from_iso(delivery.at) for delivery in record.deliveries.values() if delivery.at)


def case_facts(app: App, incident: Incident, records: list[DraftRecord], now: datetime,
               prepared_at: datetime | None, published_at: datetime | None) -> Facts:
    delivered: dict[str, list[datetime]] = {}
    first_public: list[datetime] = []
    for record in records:
        done = _completed(record)
        if done is not None:
            delivered.setdefault(record.draft.template, []).append(done)
        for name, delivery in record.deliveries.items():
            payload = record.draft.payloads.get(name)
            if payload and payload.audience == "public" and delivery.state == "delivered" and delivery.at:
                first_public.append(from_iso(delivery.at))
    manual: dict[str, list[dict[str, Any]]] = {}
    for event in app.store.events(kind="step.done", incident=incident.id):
        manual.setdefault(event.data.get("step", ""), []).append(
            {"at": from_iso(event.ts), "by": event.actor, "note": event.data.get("note")})
    decisions = counted_decisions(app, incident.id)
    latest = decisions[-1] if decisions else None
    return Facts(
        first_seen=incident.first_seen, now=now, severity=incident.severity, resolved_at=incident.resolved_at,
        prepared_at=prepared_at, published_at=published_at,
        first_public_at=min(first_public) if first_public else None, delivered=delivered, manual=manual,
        frozen_at=_frozen_at(app, incident),
        decision=({"decision": latest.data.get("decision"), "reason": latest.data.get("reason"),
                   "by": latest.actor, "at": latest.ts} if latest else None),
        decided_at=from_iso(decisions[0].ts) if decisions else None,
        decisions=[decision_dict(event) for event in decisions],
        prepare_hours=app.config.prepare_hours, publish_hours=app.config.publish_hours,
        update_every=float(app.config.case_setting(incident.case, "update_every", 6)))


def _frozen_at(app: App, incident: Incident) -> datetime | None:
    """The first freeze since the first negative message, or the one already in force."""
    active = None
    for event in app.store.events(kind=("freeze", "unfreeze")):
        moment = from_iso(event.ts)
        if event.kind == "freeze" and moment >= incident.first_seen:
            return moment
        active = moment if event.kind == "freeze" else None
    return active


def decision_dict(event: Event) -> dict[str, Any]:
    return {"decision": event.data.get("decision"), "reason": event.data.get("reason"), "by": event.actor,
            "at": event.ts}


def waiver(facts: Facts) -> dict[str, Any]:
    decision = facts.decision or {}
    return {"by": decision.get("by"), "at": decision.get("at"), "reason": decision.get("reason")}


def event_dict(event: Event | None) -> dict[str, Any] | None:
    if event is None:
        return None
    return {"kind": event.kind, "at": event.ts, "by": event.actor, **event.data}

