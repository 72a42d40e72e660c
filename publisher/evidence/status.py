"""The clocks of an incident: prepared (approved) and published (delivered on every
enabled public channel), each against its deadline from `first_seen`; a void incident's
clocks do not run: every verdict of it is VOID.

Guarantees: the figures come only from the log. A verdict counts only the statement
the case's playbook names as the response (`Playbook.kinds`): "prepared" is the first
moment a public draft of a prepared kind had all its required approvals (approvals
whose signature does not verify never count; one held by a freeze counts); "published"
is the first moment by which every required public channel had received a draft of a
published kind whose approvals count. A superseded or rejected draft never counts for
either. Each clock names the drafts it rests on (`Basis`: the draft, its kind and the
approvals that made it count, with their signatures) and the kinds that would satisfy it.
Every delivery whose last attempt has an unknown outcome on a channel where a resend is
not safe is listed as unconfirmed (and warned about) until a person confirms or resends it.

Verdicts rest on proof, not on one machine's clock: a deadline met by the local clock is
PASS only when no time witness bounds it after the deadline. The bound is the TSA's time
in the first time-stamp covering the approval or delivery row (`witness_of`); where it is
after the deadline, or a witness was attempted, none covers the row yet and the deadline
has passed (any later time-stamp can only be later still), the verdict is NOT PROVEN, and
both times are kept (`done_at`, `witnessed_at`). Tokens in the log count whether or not
the config still names a witness, so removing `[store] witness` does not restore a PASS;
a token that cannot be verified (no certificates configured to check it) can make a
verdict NOT PROVEN, never a PASS.
It reads only the incident's view (`publisher.evidence.view`), as the report and the
console do.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any, NamedTuple

from publisher.delivery.next_steps import next_step
from publisher.drafting.drafts import DraftRecord
from publisher.errors import BadInput
from publisher.evidence.changes import statement_changes
from publisher.evidence.view import IncidentView, view
from publisher.i18n import _
from publisher.incident.incidents import Incident
from publisher.incident.playbooks import Facts, Item, checklist, get_case
from publisher.log.store import Event
from publisher.timeparse import for_people, from_iso, hours, human_hours, iso
from publisher.workspace.app import App
from publisher.workspace.witness import trust, unwitnessed_note, witness_of

WARN_BEFORE = timedelta(hours=2)
PAGE = 10


class Basis(NamedTuple):
    """A draft a verdict rests on: its kind, and the counted approvals of its hash (each
    kept with its signature, so who approved it is stated as proven or self-declared)."""

    draft: str
    template: str
    approvals: tuple[Event, ...]
    required: int

    def as_dict(self) -> dict[str, Any]:
        return {"draft": self.draft, "template": self.template, "approvals_required": self.required,
                "approvals": [{"by": event.actor, "at": event.ts, "scheme": scheme(event)}
                              for event in self.approvals]}


class Clock(NamedTuple):
    """One of the two deadlines (prepare, publish) of an incident and when it was met."""

    name: str
    limit_hours: float
    deadline: datetime
    done_at: datetime | None
    now: datetime
    waived: dict[str, Any] | None = None
    void: bool = False
    witnessed_at: datetime | None = None
    """The TSA's time in the first time-stamp covering the row `done_at` comes from."""
    owed: bool = False
    """A witness was attempted for that row and no verified one covers it."""
    kinds: tuple[str, ...] = ()
    """The template kinds that are the response this clock counts."""
    basis: tuple[Basis, ...] = ()
    """The drafts `done_at` rests on (none while the clock is not met)."""
    row: int | None = None
    """The approval or delivery row `done_at` comes from."""

    @property
    def after_hours(self) -> float | None:
        return None if self.done_at is None else hours(self.done_at - (self.deadline - timedelta(hours=self.limit_hours)))

    @property
    def verdict(self) -> str:
        if self.void:
            return "VOID"
        if self.done_at is not None:
            if self.done_at > self.deadline:
                return "FAIL"
            if self.witnessed_at is not None and self.witnessed_at > self.deadline:
                return "NOT PROVEN"
            if self.owed and self.now > self.deadline:
                return "NOT PROVEN"
            return "PASS"
        if self.waived:
            return "WAIVED"
        return "LATE" if self.now > self.deadline else "DUE"

    @property
    def hours_left(self) -> float:
        return hours(self.deadline - self.now)

    def as_dict(self) -> dict[str, Any]:
        return {"limit_hours": self.limit_hours, "deadline": iso(self.deadline),
                "done_at": iso(self.done_at) if self.done_at else None, "after_hours": self.after_hours,
                "verdict": self.verdict, "hours_left": None if self.done_at or self.void else self.hours_left,
                "waived": self.waived, "witnessed_at": iso(self.witnessed_at) if self.witnessed_at else None,
                "kinds": list(self.kinds), "rests_on": [basis.as_dict() for basis in self.basis]}


class ChannelState(NamedTuple):
    """Where one public channel stands for an incident."""

    name: str
    type: str
    state: str
    at: str | None = None
    url: str | None = None
    draft: str | None = None


class Unconfirmed(NamedTuple):
    """A delivery whose last attempt has no known outcome."""

    draft: str
    channel: str
    attempts: int
    at: str | None

    @property
    def hint(self) -> str:
        return _("draft {draft} on {channel}: the outcome of attempt {attempts} is unknown; check the platform, then "
                 "`publish confirm {draft} {channel} --url URL` or `publish send {draft} --resend {channel}`").format(
                     draft=self.draft, channel=self.channel, attempts=self.attempts)


class Undelivered(NamedTuple):
    """A channel an approved draft has not reached, and why."""

    draft: str
    template: str
    channel: str
    state: str
    reason: str | None
    attempts: int
    at: str | None
    held: bool
    next: str

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


@dataclass
class Status:
    """Everything `publish status` shows for one incident."""

    incident: Incident
    now: datetime
    prepared: Clock
    published: Clock
    channels: list[ChannelState] = field(default_factory=list)
    drafts: list[DraftRecord] = field(default_factory=list)
    unconfirmed: list[Unconfirmed] = field(default_factory=list)
    checklist: list[Item] = field(default_factory=list)
    decision: Event | None = None
    frozen: Event | None = None
    undelivered: list[Undelivered] = field(default_factory=list)
    unwitnessed: str | None = None
    zone: tzinfo | None = None
    """The organisation's time zone: the times in the warnings are shown in it."""
    changes: list[dict[str, Any]] = field(default_factory=list)
    """The corrections and withdrawals of its statements (`evidence.changes`)."""

    @property
    def warnings(self) -> list[str]:
        return self._warnings(console=False)

    @property
    def console_warnings(self) -> list[str]:
        """The warnings as the console says them: what to do is a button there, not a command."""
        return self._warnings(console=True)

    def _warnings(self, console: bool) -> list[str]:
        unconfirmed = [_("UNCONFIRMED: draft {draft} on {channel}: the outcome of attempt {attempts} is unknown; check "
                         "the platform, then confirm it with the post's address on the draft's page").format(
                           draft=item.draft, channel=item.channel, attempts=item.attempts)
                       if console else _("UNCONFIRMED {hint}").format(hint=item.hint) for item in self.unconfirmed]
        notes = unconfirmed + single_proof_warnings(self)
        notes += [self.unwitnessed] if self.unwitnessed else []
        if self.incident.void is not None:
            return [void_sentence(self.incident, self.zone)] + notes
        notes += [words for words in (unproven_words(clock, self.zone) for clock in (self.prepared, self.published))
                  if words]
        for clock in (self.prepared, self.published):
            if clock.done_at is None and not clock.waived and timedelta(0) < clock.deadline - self.now < WARN_BEFORE:
                notes.append(_("the {name} deadline is less than 2 h away ({deadline})").format(
                    name=clock.name, deadline=for_people(clock.deadline, self.zone)))
        return notes + checklist_warnings(self, console)

    def as_dict(self) -> dict[str, Any]:
        return {"incident": self.incident.as_dict(), "now": iso(self.now),
                "hours_since_first_seen": hours(self.now - self.incident.first_seen),
                "prepared": self.prepared.as_dict(), "published": self.published.as_dict(),
                "channels": [channel._asdict() for channel in self.channels], "warnings": self.warnings,
                "unconfirmed": [item._asdict() for item in self.unconfirmed],
                "drafts": [{"id": record.draft.id, "template": record.draft.template, "status": record.status,
                            "corrects": record.draft.corrects} for record in self.drafts],
                "changes": self.changes,
                "checklist": [item.as_dict() for item in self.checklist],
                "decision": event_dict(self.decision), "frozen": event_dict(self.frozen),
                "undelivered": [item.as_dict() for item in self.undelivered]}


def _ready(app: App, record: DraftRecord) -> tuple[datetime, Event | None] | None:
    """When the draft reached its required approvals and the approval that completed them
    (none with no approval required); None for a draft that is not, or can never be, ready."""
    if not counts(record):
        return None
    required = record.required
    if required == 0:
        return record.created_at, None
    approvers: set[str] = set()
    for event in counted_approvals(record):
        approvers.add(event.actor or "")
        if len(approvers) >= required:
            return from_iso(event.ts), event
    return None


def counts(record: DraftRecord) -> bool:
    """Whether a draft can be the response at all: a superseded or rejected one never is,
    nor a correction (the statement it corrects is the one that counts)."""
    return record.rejection is None and not record.superseded_by and not record.draft.corrects


def counted_approvals(record: DraftRecord) -> list[Event]:
    """The approvals of the draft's current hash; only those whose signature verifies are
    in `record.approvals` (`publisher.incident.identity.split_trusted`)."""
    return [event for event in record.approvals if event.data.get("hash") == record.draft.hash]


def basis_of(record: DraftRecord) -> Basis:
    return Basis(record.draft.id, record.draft.template, tuple(counted_approvals(record)), record.required)


def scheme(event: Event) -> str | None:
    """The scheme of an approval's signature (ssh, webauthn), None when it is unsigned."""
    signature = event.data.get("signature")
    return str(signature.get("scheme")) if isinstance(signature, dict) and signature.get("scheme") else None


def unproven_words(clock: Clock, zone: tzinfo | None) -> str | None:
    """Why a deadline met by the local clock is NOT PROVEN, with both times."""
    if clock.verdict != "NOT PROVEN" or clock.done_at is None:
        return None
    label = _("prepared") if clock.name == "prepare" else _("published")
    if clock.witnessed_at is not None and clock.witnessed_at > clock.deadline:
        return _("{label} NOT PROVEN: done at {done} by this machine's clock, but the first time-stamp that covers it "
                 "is from {witnessed}, after the deadline {deadline}").format(
                     label=label, done=for_people(clock.done_at, zone), witnessed=for_people(clock.witnessed_at, zone),
                     deadline=for_people(clock.deadline, zone))
    return _("{label} NOT PROVEN: done at {done} by this machine's clock, but no time-stamp that verifies covers "
             "it and the deadline {deadline} has passed").format(label=label, done=for_people(clock.done_at, zone),
                                                      deadline=for_people(clock.deadline, zone))


def incident_status(app: App, incident_id: str) -> Status:
    return status_of(view(app, incident_id))


def status_of(seen: IncidentView) -> Status:
    """What `publish status` shows, from the incident's view."""
    app, incident, now, records = seen.app, seen.incident, seen.now, seen.drafts
    book = get_case(incident.case, app.workspace)
    prepared_kinds = book.kinds("prepared", incident.severity)
    published_kinds = book.kinds("published", incident.severity)
    prepared = prepared_by(app, records, prepared_kinds)
    public, required = seen.required_channels()
    counted = [record for record in required if record.draft.template in published_kinds
               and _ready(app, record) is not None]
    publish_deadline = incident.first_seen + timedelta(hours=app.config.publish_hours)
    states = [_channel_state(channel.name, channel.type, counted, publish_deadline) for channel in public]
    delivered = [from_iso(state.at) for state in states if state.state == "delivered" and state.at]
    published_at = max(delivered) if public and len(delivered) == len(public) else None
    start = incident.first_seen
    facts = seen.facts(prepared[0] if prepared else None, published_at)
    prepared_row = prepared[1].seq if prepared and prepared[1] else None
    published_row = published_seq(seen, states, published_at)
    prepared_proof = witness_bound(app, prepared_row)
    published_proof = witness_bound(app, published_row)
    waived = {step.done: waiver(facts) for step in book.steps_for(incident.severity)
              if step.waivable and facts.ignored}
    void = incident.void is not None
    items = [replace(item, state="void") if void and item.state in ("due", "late") else item
             for item in checklist(book, facts)]
    published_basis = tuple(basis_of(record) for record in counted
                            if published_at and any(state.draft == record.draft.id for state in states))
    return Status(
        incident, now,
        Clock("prepare", app.config.prepare_hours, start + timedelta(hours=app.config.prepare_hours),
              facts.prepared_at, now, waived.get("prepared"), void, *prepared_proof, prepared_kinds,
              (basis_of(prepared[2]),) if prepared else (), prepared_row),
        Clock("publish", app.config.publish_hours, start + timedelta(hours=app.config.publish_hours),
              published_at, now, waived.get("published"), void, *published_proof, published_kinds,
              published_basis, published_row),
        states, records, checklist=items, decision=seen.decision,
        frozen=seen.frozen, unconfirmed=unconfirmed_deliveries(app, records),
        undelivered=undelivered(app, records, seen.frozen is not None), unwitnessed=unwitnessed_note(app),
        zone=app.config.timezone, changes=statement_changes(seen))


def prepared_by(app: App, records: list[DraftRecord],
                kinds: tuple[str, ...]) -> tuple[datetime, Event | None, DraftRecord] | None:
    """The first moment a public draft of a response kind was ready, the approval row that
    made it so, and the draft: the statement "prepared" rests on."""
    found = []
    for record in records:
        if record.draft.template not in kinds or not is_public(record):
            continue
        ready = _ready(app, record)
        if ready is not None:
            found.append((ready[0], ready[1].seq if ready[1] else 0, ready[1], record))
    if not found:
        return None
    moment, _seq, event, record = min(found, key=lambda item: (item[0], item[1]))
    return moment, event, record


def published_seq(seen: IncidentView, states: list[ChannelState], done: datetime | None) -> int | None:
    """The delivery row "published" comes from (the last public channel reached)."""
    if done is None:
        return None
    for state in states:
        if state.at and from_iso(state.at) == done and state.draft:
            event = seen.delivery_event(state.draft, state.name, state.at)
            if event is not None:
                return event.seq
    return None


def witness_bound(app: App, seq: int | None) -> tuple[datetime | None, bool]:
    """The TSA's time of the first time-stamp covering row `seq` that holds, and whether
    no verified one covers it though a witness was attempted (a miss, a token that does
    not verify, or one there are no certificates to verify)."""
    if seq is None:
        return None, False
    try:
        checker = trust(app)
    except BadInput:
        checker = None
    token, why = witness_of(app.store, checker, seq)
    if token is not None:
        return token.time, checker is None
    return None, why is not None


def incident_page(app: App, below: int | None = None, size: int = PAGE) -> tuple[list[Status], int | None]:
    """The console's incident list: statuses of the `size` newest incidents numbered
    below `below`, read by id (incident ids are consecutive numbers), so the page costs
    the same with ten incidents or ten thousand in the log; and where the next page
    starts (None when this is the last)."""
    top = min(below - 1, _newest_incident(app)) if below else _newest_incident(app)
    numbers = range(top, max(0, top - size), -1)
    statuses = [incident_status(app, str(number)) for number in numbers]
    return statuses, (numbers[-1] if numbers and numbers[-1] > 1 else None)


def _newest_incident(app: App) -> int:
    newest = app.store.events(kind="incident.opened", newest_first=True, limit=1)
    number = str(newest[0].incident) if newest else ""
    return int(number) if number.isdigit() else 0


def _channel_state(name: str, type_name: str, records: list[DraftRecord], deadline: datetime) -> ChannelState:
    """The best delivery of a response on the channel. A delivery withdrawn before the
    publish deadline does not count from the moment it was withdrawn (the channel shows
    "withdrawn" unless another draft reached it); one withdrawn after the deadline
    still proves the verdict it made, which never changes."""
    best = ChannelState(name, type_name, "not sent")
    rank = {"not sent": 0, "withdrawn": 1, "pending": 2, "failed-permanent": 3, "failed-retryable": 4, "sending": 5,
            "unknown": 6}
    for record in records:
        delivery = record.deliveries.get(name)
        if delivery is None or not counts(record):
            continue
        withdrawn = delivery.withdrawn
        if delivery.state == "delivered" and withdrawn and from_iso(withdrawn["at"]) <= deadline:
            if best.state != "delivered" and rank.get(best.state, 0) < rank["withdrawn"]:
                best = ChannelState(name, type_name, "withdrawn", withdrawn["at"],
                                    (delivery.receipt or {}).get("url"), record.draft.id)
            continue
        if delivery.state == "delivered":
            at = delivery.at
            if best.state != "delivered" or (at and best.at and at < best.at):
                best = ChannelState(name, type_name, "delivered", at, (delivery.receipt or {}).get("url"),
                                    record.draft.id)
        elif best.state != "delivered" and rank.get(delivery.state, 0) > rank.get(best.state, 0):
            best = ChannelState(name, type_name, delivery.state, delivery.at, None, record.draft.id)
    return best


def unconfirmed_deliveries(app: App, records: list[DraftRecord]) -> list[Unconfirmed]:
    """Deliveries whose last attempt has no known outcome (a crash, a timeout after
    sending) on a channel where `publish send` may not resend by itself; an attempt a
    running process still holds is in progress, not unconfirmed."""
    found = []
    for record in records:
        for name, delivery in record.deliveries.items():
            if delivery.state not in ("unknown", "sending") or record.rejection:
                continue
            from publisher.delivery.engine import channel_busy

            if _resend_safe(app, name) or (delivery.state == "sending" and channel_busy(app, record.draft.id, name)):
                continue
            found.append(Unconfirmed(record.draft.id, name, delivery.attempts, delivery.at))
    return found


def undelivered(app: App, records: list[DraftRecord], frozen: bool) -> list[Undelivered]:
    """Every approved draft that has not reached all of its channels, channel by
    channel: nothing approved and undelivered is hidden behind another draft's success
    (the public-channel table shows the best delivery per channel for the 48 h proof;
    this list shows each draft's own). Each entry says the channel's state and what to
    run, in the words `publish send` uses (`delivery.next_steps`). Rejected and
    superseded drafts are not listed: they will never be sent."""
    found = []
    for record in records:
        if not record.approved or record.rejection or record.superseded_by:
            continue
        for name, delivery in record.deliveries.items():
            if delivery.state == "delivered":
                continue
            state = "not sent" if delivery.state == "pending" else delivery.state
            step = next_step(record.draft.id, name, state, frozen=frozen, resend_safe=_resend_safe(app, name))
            found.append(Undelivered(record.draft.id, record.draft.template, name, state, delivery.reason,
                                     delivery.attempts, delivery.at, frozen, step))
    return found


def _resend_safe(app: App, name: str) -> bool:
    """Whether the channel's platform makes a resend safe (an idempotency key, a
    duplicate rejection, our own files)."""
    from channels import channel_class

    configured = app.config.channels.get(name)
    try:
        return configured is not None and channel_class(configured.type).idempotent
    except KeyError:
        return False


def is_public(record: DraftRecord) -> bool:
    return any(payload.audience == "public" for payload in record.draft.payloads.values())


def waiver(facts: Facts) -> dict[str, Any]:
    decision = facts.decision or {}
    return {"by": decision.get("by"), "at": decision.get("at"), "reason": decision.get("reason")}


def event_dict(event: Event | None) -> dict[str, Any] | None:
    if event is None:
        return None
    return {"kind": event.kind, "at": event.ts, "by": event.actor, **event.data}


def void_sentence(incident: Incident, zone: tzinfo | None) -> str:
    """What every face says about a void incident."""
    void = incident.void or {}
    return _("VOID: {by} voided incident {id} at {at} ({reason}); it has no verdict, its deadlines do not run, "
             "and it gets no new draft or send.").format(by=void.get("by"), id=incident.id,
                                                         at=for_people(void.get("at"), zone), reason=void.get("reason"))


def single_proof_warnings(status: Status) -> list[str]:
    from publisher.i18n import _

    if status.incident.severity != "single" or status.channels:
        return []
    return [_("severity single: the 48 h proof is the reply on the source post's platform, and no enabled public "
              "channel is on it (or the platform is unknown: open the incident with --platform NAME); add that "
              "platform's channel to config/publisher.toml")]


def checklist_warnings(status: Status, console: bool = False) -> list[str]:
    notes = []
    if status.frozen:
        frozen = status.frozen
        said = _("publishing is frozen since {ts} by {actor} ({reason}); nothing is sent until an approver lifts "
                 "the freeze") if console else _("publishing is frozen since {ts} by {actor} ({reason}); nothing is "
                                                 "sent until an approver runs `publish unfreeze --reason TEXT`")
        notes.append(said.format(ts=for_people(frozen.ts, status.zone), actor=frozen.actor,
                                 reason=frozen.data.get("reason")))
    if status.incident.state == "resolved":
        return notes
    for item in status.checklist:
        if item.id in ("prepare", "publish") or item.deadline is None:
            continue
        left = item.deadline - status.now
        if item.state == "due" and timedelta(0) < left < WARN_BEFORE:
            notes.append(_("step {id} is due in {left} ({deadline}): {title}").format(
                id=item.id, left=human_hours(hours(left)), deadline=for_people(item.deadline, status.zone), title=item.title))
        elif item.state == "late" and item.id == "update":
            age = hours(status.now - (item.done_at or item.deadline))
            every = item.title.rsplit(" ", 2)[-2] + " h"
            what = _("the last update is {age} old").format(age=human_hours(age)) if item.done_at \
                else _("no update yet")
            said = _("{what}, more than {every} ([cases.{case}] update_every): render an update below") if console \
                else _("{what}, more than {every} ([cases.{case}] update_every): publish --case {case} "
                       "--template update")
            notes.append(said.format(what=what, every=every, case=status.incident.case))
    return notes
