"""What awaits one person ("Awaiting me"): the one list the console opens on and
`publish awaiting` prints, computed here once for both.

Guarantees: the person's role comes from the cabinet at the log's head
(`publisher.incident.roster`), never from a config or a cookie; everything else from
the log and the injected clock; only open incidents count (not resolved, not void).
- An approver sees the drafts they may approve (awaiting approval, not rejected or
  superseded, not approved by them already, and not their own when `[approvals]
  self_approval = false`), oldest deadline first, each with
  its incident, case, template, the time left before the 12 h and 48 h deadlines and
  who else may approve it; the approved drafts not yet sent everywhere (to send once no
  freeze holds); the due or late steps of open incidents (an approver may approve,
  decide, freeze or mark any of them done); and the freeze they can lift.
- An operator sees the due or late steps they can mark done (the playbook's manual
  steps) and their own drafts waiting for approval or rejected.
- A viewer, or someone not in the cabinet, is awaited for nothing.
The JSON keeps English tokens and UTC times; what people read is said by the faces.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from publisher.drafting.drafts import DraftRecord, is_internal_brief
from publisher.evidence.status import status_of
from publisher.evidence.view import FREEZE_KINDS, Rows, view
from publisher.incident.freeze import active_freeze
from publisher.incident.incidents import Incident, list_incidents
from publisher.incident.roster import cabinet
from publisher.log.store import Event
from publisher.timeparse import hours, iso
from publisher.workspace.app import App

AWAITING = "awaiting approval"
REJECTED = "rejected"
OWED = ("due", "late")


@dataclass(frozen=True)
class DraftToApprove:
    draft: str
    incident: str
    case: int
    template: str
    rendered_at: datetime
    prepare_deadline: datetime
    publish_deadline: datetime
    prepare_left: float
    publish_left: float
    others: tuple[str, ...]
    approvals: int
    required: int

    def as_dict(self) -> dict[str, Any]:
        return {"draft": self.draft, "incident": self.incident, "case": self.case, "template": self.template,
                "rendered_at": iso(self.rendered_at), "prepare_deadline": iso(self.prepare_deadline),
                "publish_deadline": iso(self.publish_deadline), "prepare_hours_left": self.prepare_left,
                "publish_hours_left": self.publish_left, "others_who_may_approve": list(self.others),
                "approvals": self.approvals, "approvals_required": self.required}


@dataclass(frozen=True)
class DraftToSend:
    draft: str
    incident: str
    template: str
    not_delivered: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"draft": self.draft, "incident": self.incident, "template": self.template,
                "not_delivered": list(self.not_delivered)}


@dataclass(frozen=True)
class StepOwed:
    incident: str
    case: int
    step: str
    title: str
    state: str
    deadline: datetime | None
    manual: bool

    def as_dict(self) -> dict[str, Any]:
        return {"incident": self.incident, "case": self.case, "step": self.step, "title": self.title,
                "state": self.state, "deadline": iso(self.deadline) if self.deadline else None,
                "manual": self.manual}


@dataclass(frozen=True)
class FreezeToLift:
    seq: int
    by: str
    at: str
    reason: str
    incident: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "by": self.by, "at": self.at, "reason": self.reason, "incident": self.incident}


@dataclass(frozen=True)
class DraftOfMine:
    draft: str
    incident: str
    template: str
    status: str
    rejected_by: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"draft": self.draft, "incident": self.incident, "template": self.template, "status": self.status,
                "rejected_by": self.rejected_by, "reason": self.reason}


@dataclass
class Awaiting:
    person: str
    role: str | None
    now: datetime
    to_approve: list[DraftToApprove] = field(default_factory=list)
    to_send: list[DraftToSend] = field(default_factory=list)
    steps: list[StepOwed] = field(default_factory=list)
    freeze: FreezeToLift | None = None
    mine: list[DraftOfMine] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.to_approve or self.to_send or self.steps or self.freeze or self.mine)

    def as_dict(self) -> dict[str, Any]:
        return {"person": self.person, "role": self.role, "now": iso(self.now),
                "to_approve": [item.as_dict() for item in self.to_approve],
                "to_send": [item.as_dict() for item in self.to_send],
                "steps": [item.as_dict() for item in self.steps],
                "freeze": self.freeze.as_dict() if self.freeze else None,
                "mine": [item.as_dict() for item in self.mine]}


def awaiting(app: App, person: str) -> Awaiting:
    """What awaits `person` now (see the module's guarantees): one view of each open
    incident (`publisher.evidence.view`), so the cost grows with the open incidents and
    their drafts, never with the log. The log is read as one snapshot (`Store.snapshot`):
    the open incidents' events in a few indexed queries, the freezes, the cabinet and the
    witnesses once for all of them."""
    with app.store.snapshot():
        return _awaiting(app, person)


def _awaiting(app: App, person: str) -> Awaiting:
    made = cabinet(app)
    found = made.people.get(person)
    role = found.role if found else None
    result = Awaiting(person, role, app.clock())
    if role not in ("approver", "operator"):
        return result
    frozen = active_freeze(app)
    approvers = made.approvers()
    opened = [incident for incident in list_incidents(app) if incident.state == "open" and incident.void is None]
    rows = app.store.events_of([incident.id for incident in opened])
    freezes = app.store.events(kind=FREEZE_KINDS)
    for incident in opened:
        seen = view(app, incident.id, Rows(rows[incident.id], freezes))
        records = [record for record in seen.drafts if not is_internal_brief(record.draft)]
        if role == "approver":
            result.to_approve += [_to_approve(app, record, incident, person, approvers, result.now)
                                  for record in records if _may_approve(app, record, person)]
            result.to_send += [_to_send(record) for record in records if frozen is None and _waiting(record)]
        else:
            result.mine += [_mine(record) for record in records if record.draft.author == person
                            and record.status in (AWAITING, REJECTED)]
        result.steps += [StepOwed(incident.id, incident.case, item.id, item.title, item.state, item.deadline,
                                  item.manual)
                         for item in status_of(seen).checklist
                         if item.state in OWED and (item.manual or role == "approver")]
    result.to_approve.sort(key=lambda item: (item.prepare_deadline, item.rendered_at, item.draft))
    far = datetime.max.replace(tzinfo=timezone.utc)
    result.steps.sort(key=lambda step: (step.state != "late", step.deadline or far, step.incident))
    if role == "approver" and frozen is not None:
        result.freeze = _freeze(frozen)
    return result


def _may_approve(app: App, record: DraftRecord, person: str) -> bool:
    if record.status != AWAITING or person in record.valid_approvers():
        return False
    return person != record.draft.author or app.config.self_approval


def _to_approve(app: App, record: DraftRecord, incident: Incident, person: str, approvers: list[str],
                now: datetime) -> DraftToApprove:
    prepare = incident.first_seen + timedelta(hours=app.config.prepare_hours)
    publish = incident.first_seen + timedelta(hours=app.config.publish_hours)
    done = set(record.valid_approvers())
    others = tuple(name for name in approvers if name != person and name not in done
                   and (name != record.draft.author or app.config.self_approval))
    return DraftToApprove(record.draft.id, incident.id, incident.case, record.draft.template, record.created_at,
                          prepare, publish, hours(prepare - now), hours(publish - now), others, len(done),
                          record.required)


def _waiting(record: DraftRecord) -> bool:
    return record.approved and record.rejection is None and not record.superseded_by \
        and any(delivery.state == "pending" for delivery in record.deliveries.values())


def _to_send(record: DraftRecord) -> DraftToSend:
    left = tuple(name for name, delivery in record.deliveries.items() if delivery.state != "delivered")
    return DraftToSend(record.draft.id, record.draft.incident, record.draft.template, left)


def _freeze(event: Event) -> FreezeToLift:
    return FreezeToLift(event.seq, event.actor or "", event.ts, str(event.data.get("reason") or ""), event.incident)


def _mine(record: DraftRecord) -> DraftOfMine:
    rejection = record.rejection
    return DraftOfMine(record.draft.id, record.draft.incident, record.draft.template, record.status,
                       rejection.actor if rejection else None,
                       str(rejection.data.get("reason")) if rejection else None)


def time_left(value: float) -> str:
    """Hours left before a deadline as people read them ("3 h 05 min left", "1 h 10 min late")."""
    from publisher.i18n import _
    from publisher.timeparse import human_hours

    if value < 0:
        return _("{time} late").format(time=human_hours(-value))
    return _("{time} left").format(time=human_hours(value))
