"""One view of an incident: its events read once from the log, each signature checked
once, and the facts `publish status`, the report in every format, the console's pages
and the reminders all derive from it, so none of them can disagree with another.

Guarantees:
- Building a view reads the incident's events once and the workspace's freezes once
  (`read`); the freeze in force is `freeze_holding`'s answer for the incident. Nothing about the incident
  is read from the log again: its state, its drafts (approvals, rejection, supersession,
  deliveries), decisions, steps done by hand, corrections and the public channels its
  verdict is judged against are folded from those rows.
- Each signed action of the incident is checked once (`split_trusted`); one that does
  not verify never counts and is kept with why (each draft's `unverified`).
- Severity decides what the 48 h proof covers. A `crisis` is published when every
  public channel of the set recorded for the incident (`incident.verdict_set`: when it
  opened and each draft was rendered, never the live config) has one of its drafts; a
  `single` complaint when the reply has reached the public channel(s) of the source
  post's platform. A correction of a statement is never a statement of its own for the
  checklist or the verdicts. A decision not to answer waives the playbook's waivable steps, and
  says who decided it, when and why.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from publisher.drafting.drafts import DraftRecord, draft_record, no_draft
from publisher.evidence.listening import IncidentItems, listens
from publisher.incident.decisions import chained
from publisher.incident.freeze import freeze_holding
from publisher.incident.identity import split_trusted
from publisher.incident.incidents import Incident, incident_from
from publisher.incident.playbooks import Facts, get_case
from publisher.incident.verdict_set import JudgedSet, judged_from
from publisher.log.store import Event
from publisher.timeparse import from_iso
from publisher.workspace.app import App
from publisher.workspace.config import ChannelConfig

FREEZE_KINDS = ("freeze", "unfreeze")


@dataclass(frozen=True)
class Rows:
    """The incident's events and the workspace's freezes, in log order, as read once."""

    incident: list[Event]
    freezes: list[Event]

    @property
    def seqs(self) -> list[int]:
        return [event.seq for event in self.incident + self.freezes]


def read(app: App, incident_id: str) -> Rows:
    return Rows(app.store.events(incident=incident_id), app.store.events(kind=FREEZE_KINDS))


@dataclass
class IncidentView:
    """An incident as its log rows tell it, each signed action judged once."""

    app: App
    rows: Rows
    incident: Incident
    now: datetime
    trusted: list[Event]
    drafts: list[DraftRecord]
    decisions: list[Event]
    judged: JudgedSet
    frozen: Event | None
    _items: IncidentItems | None = None

    @property
    def decision(self) -> Event | None:
        """The decision that counts now (the latest of `decisions`)."""
        return self.decisions[-1] if self.decisions else None

    def required_channels(self) -> tuple[list[ChannelConfig], list[DraftRecord]]:
        """The public channels the 48 h proof covers, and the drafts that count on them."""
        public = list(self.judged.channels)
        if self.incident.severity != "single":
            return public, self.drafts
        from publisher.drafting.targeting import source_platform

        replies = [record for record in self.drafts if record.draft.template == "reply" and not record.rejection]
        platform = source_platform(self.app, self.incident)
        if platform is not None:
            return [channel for channel in public if channel.type == platform], replies
        names = {name for record in replies for name in record.draft.payloads}
        return [channel for channel in public if channel.name in names and channel.type != "site"], replies

    def facts(self, prepared_at: datetime | None, published_at: datetime | None) -> Facts:
        """What the case's checklist is computed from."""
        delivered: dict[str, list[datetime]] = {}
        first_public: list[datetime] = []
        for record in self.drafts:
            if record.draft.corrects:
                continue
            done = _completed(record)
            if done is not None:
                delivered.setdefault(record.draft.template, []).append(done)
            for name, delivery in record.deliveries.items():
                payload = record.draft.payloads.get(name)
                if payload and payload.audience == "public" and delivery.state == "delivered" and delivery.at:
                    first_public.append(from_iso(delivery.at))
        manual: dict[str, list[dict[str, Any]]] = {}
        for event in self.rows.incident:
            if event.kind == "step.done":
                manual.setdefault(event.data.get("step", ""), []).append(
                    {"at": from_iso(event.ts), "by": event.actor, "note": event.data.get("note")})
        config, incident, latest = self.app.config, self.incident, self.decision
        moderation = None
        book = get_case(incident.case, self.app.workspace)
        if listens(self.app) and any(step.done == "moderated" for step in book.steps):
            zone = config.timezone or timezone.utc
            moderation = self.items().moderation(incident.first_seen, self.now, zone)
        return Facts(
            first_seen=incident.first_seen, now=self.now, severity=incident.severity,
            resolved_at=incident.resolved_at, prepared_at=prepared_at, published_at=published_at,
            first_public_at=min(first_public) if first_public else None, delivered=delivered, manual=manual,
            frozen_at=self.frozen_at(), decision=decision_dict(latest) if latest else None,
            decided_at=from_iso(self.decisions[0].ts) if self.decisions else None,
            decisions=[decision_dict(event) for event in self.decisions],
            prepare_hours=config.prepare_hours, publish_hours=config.publish_hours,
            authority_hours=config.authority_hours,
            update_every=float(config.case_setting(incident.case, "update_every", 6)), moderation=moderation)

    def items(self) -> IncidentItems:
        """The incident's heard items, read from the log once per view."""
        if self._items is None:
            self._items = IncidentItems(self.app, self.incident.id)
        return self._items

    def frozen_at(self) -> datetime | None:
        """The first freeze since the first negative message, or the one already in force."""
        active = None
        for event in self.rows.freezes:
            moment = from_iso(event.ts)
            if event.kind == "freeze" and moment >= self.incident.first_seen:
                return moment
            active = moment if event.kind == "freeze" else None
        return active

    def corrections(self) -> list[dict[str, Any]]:
        """Every correction of the incident, one row per field, oldest first."""
        return [{"field": name, "from": change.get("from"), "to": change.get("to"), "by": event.actor,
                 "at": event.ts, "reason": event.data.get("reason")}
                for event in self.rows.incident if event.kind == "incident.edited"
                for name, change in (event.data.get("changes") or {}).items()]

    def draft(self, draft_id: str) -> DraftRecord:
        """One of the incident's drafts; `BadInput` when it has none by that id."""
        found = next((record for record in self.drafts if record.draft.id == draft_id), None)
        if found is None:
            raise no_draft(draft_id)
        return found

    def delivery_event(self, draft: str, channel: str, at: str) -> Event | None:
        """The delivery or confirmation of `draft` on `channel` recorded at `at`."""
        return next((event for event in self.rows.incident
                     if event.draft == draft and event.channel == channel and event.ts == at
                     and event.kind in ("delivery.delivered", "delivery.confirmed")), None)


def view(app: App, incident_id: str, rows: Rows | None = None) -> IncidentView:
    """The incident's view from `rows` (read now when not given); `BadInput` when the
    log has no such incident."""
    rows = rows or read(app, incident_id)
    trusted, unverified = split_trusted(app, [event for event in rows.incident if event.kind not in FREEZE_KINDS])
    incident = incident_from(incident_id, trusted)
    return IncidentView(app, rows, incident, app.clock(), trusted, _drafts(app, trusted, unverified),
                        chained(trusted), judged_from(app, rows.incident),
                        freeze_holding(app, incident_id))


def draft_view(app: App, draft_id: str) -> tuple[IncidentView, DraftRecord]:
    """The view of the incident a draft belongs to, and the draft in it."""
    rendered = app.store.events(draft=draft_id, kind="draft.rendered", limit=1)
    if not rendered:
        raise no_draft(draft_id)
    seen = view(app, rendered[0].incident or "")
    return seen, seen.draft(draft_id)


def _drafts(app: App, trusted: list[Event], unverified: list[tuple[Event, str]]) -> list[DraftRecord]:
    """Each rendered draft, in the order rendered, told by its own trusted events."""
    counted: dict[str, list[Event]] = {}
    for event in trusted:
        if event.draft and (event.draft in counted or event.kind == "draft.rendered"):
            counted.setdefault(event.draft, []).append(event)
    apart: dict[str, list[tuple[Event, str]]] = {}
    for event, why in unverified:
        apart.setdefault(event.draft or "", []).append((event, why))
    return [draft_record(app, counted[event.draft or ""], apart.get(event.draft or "", []))
            for event in trusted if event.kind == "draft.rendered"]


def _completed(record: DraftRecord) -> datetime | None:
    """When every channel of the draft had it (None while one has not)."""
    if record.rejection or not record.deliveries:
        return None
    if any(delivery.state != "delivered" or not delivery.at for delivery in record.deliveries.values()):
        return None
    return max(from_iso(delivery.at) for delivery in record.deliveries.values() if delivery.at)


def decision_dict(event: Event) -> dict[str, Any]:
    return {"decision": event.data.get("decision"), "reason": event.data.get("reason"), "by": event.actor,
            "at": event.ts}
