"""Drafts: one rendered payload per target channel, identified by their hash.

Guarantees:
- A draft's id is the first 12 hex digits of `sha256` over the canonical JSON of its
  incident, template, language, reply target and every channel's exact payload
  (title and parts). The same text rendered twice is the same draft; any change is a
  new draft, and a newer draft for the same incident and template supersedes the
  older one still awaiting approval.
- Each payload has already passed its channel's length rule (rejected, or split into
  the numbered parts that will be sent); nothing is re-rendered or cut after this.
- A draft's state (approvals, rejection, supersession, deliveries, withdrawals) is
  derived from its events in the log, never stored apart; a `statement.withdrawn` outcome
  counts only when the signed `withdrawal.requested` it answers counts; a signed action whose signature does not
  verify (`publisher.incident.identity`) is kept apart in `unverified` and never counts.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Mapping

from publisher.errors import BadInput
from publisher.i18n import _
from publisher.incident import roster
from publisher.incident.authority import require_role
from publisher.incident.identity import split_trusted
from publisher.incident.incidents import Incident, refuse_void
from publisher.incident.verdict_set import record_public_channels
from publisher.log.store import Event, canonical_bytes
from publisher.timeparse import from_iso
from publisher.workspace.app import App

if TYPE_CHECKING:
    from channels.base import Channel


@dataclass(frozen=True)
class Payload:
    """What one channel is given to publish: its text in parts, title and measured length."""

    channel: str
    type: str
    audience: str
    variant: str
    title: str
    parts: tuple[str, ...]
    length: int
    limit: int | None
    counting: str

    @property
    def text(self) -> str:
        return "\n\n".join(self.parts)


@dataclass(frozen=True)
class Draft:
    """A rendered draft: one payload per target channel, identified by its content hash."""

    id: str
    hash: str
    incident: str
    case: int
    template: str
    language: str
    author: str
    variables: dict[str, Any]
    reply_to: str | None
    payloads: dict[str, Payload]
    corrects: str | None = None
    """The delivered draft this one corrects (`publish correct`), else None."""
    promises: str | None = None
    """When its text promises the next update (ISO 8601), else None (`drafting.promises`)."""

    def computed_hash(self) -> str:
        return draft_hash(self.incident, self.template, self.language, self.reply_to, self.payloads, self.corrects)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["payloads"] = {name: {**asdict(payload), "parts": list(payload.parts)}
                            for name, payload in self.payloads.items()}
        for optional in ("corrects", "promises"):
            if data[optional] is None:
                del data[optional]
        return data


@dataclass
class Delivery:
    """One channel's delivery of a draft as the log tells it."""

    channel: str
    state: str = "pending"
    attempts: int = 0
    receipt: dict[str, Any] | None = None
    reason: str | None = None
    retry_after: float | None = None
    sent_parts: list[dict[str, Any]] = field(default_factory=list)
    at: str | None = None
    first_attempt: str | None = None
    withdrawn: dict[str, Any] | None = None
    """The `statement.withdrawn` outcome on this channel ({at, how, reason, platform_time}), else None."""


@dataclass
class DraftRecord:
    """A draft with what the log says about it since: approvals, rejection, deliveries."""

    draft: Draft
    created_at: datetime
    required: int
    approvals: list[Event] = field(default_factory=list)
    rejection: Event | None = None
    superseded_by: str | None = None
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    signed_only: bool = False
    unverified: list[tuple[Event, str]] = field(default_factory=list)

    def valid_approvers(self) -> list[str]:
        """Approvers of the current hash; with signing on, only signed approvals count."""
        return [event.actor or "" for event in self.approvals if event.data.get("hash") == self.draft.hash
                and (event.data.get("signature") or not self.signed_only)]

    @property
    def approved(self) -> bool:
        return len(set(self.valid_approvers())) >= self.required

    @property
    def status(self) -> str:
        if self.rejection:
            return "rejected"
        if self.superseded_by:
            return f"superseded by {self.superseded_by}"
        states = [delivery.state for delivery in self.deliveries.values()]
        if states and all(state == "delivered" for state in states):
            return "delivered"
        if any(state != "pending" for state in states):
            return "sending" if any(state == "sending" for state in states) else "partly delivered"
        if self.approved:
            return "approved, not sent"
        return "awaiting approval"


def draft_hash(incident: str, template: str, language: str, reply_to: str | None,
               payloads: Mapping[str, Payload | Mapping[str, Any]], corrects: str | None = None) -> str:
    """A draft's hash, defined here once: rendering, editing, the check before a send and
    `publish log verify` all call this. sha256 over the canonical JSON (`canonical_bytes`) of
    the incident, template, language, reply target, the draft a correction corrects (only
    when it is one, so other drafts hash as they always did) and each channel's payload
    type, title and parts. A payload is a `Payload`, or as stored in a draft.rendered event."""
    import hashlib

    hashed = {name: {"type": payload.type, "title": payload.title, "parts": payload.parts}
              if isinstance(payload, Payload) else
              {"type": payload["type"], "title": payload["title"], "parts": tuple(payload["parts"])}
              for name, payload in payloads.items()}
    content: dict[str, Any] = {"incident": incident, "template": template, "language": language,
                               "reply_to": reply_to, "payloads": hashed}
    if corrects is not None:
        content["corrects"] = corrects
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


def build_context(app: App, incident: Incident, variables: dict[str, Any]) -> dict[str, Any]:
    zone = app.config.timezone
    first_seen = incident.first_seen.astimezone(zone) if zone else incident.first_seen
    context: dict[str, Any] = {
        "organisation": app.config.organisation,
        "website": app.config.website,
        "case": incident.case,
        "incident_id": incident.id,
        "language": incident.language,
        "first_seen": first_seen.strftime("%Y-%m-%d %H:%M %Z").strip(),
        "summary": incident.summary,
        "source": incident.source,
        "author": incident.author,
        "platform": incident.platform,
    }
    context = {key: value for key, value in context.items() if value is not None}
    context.update(variables)
    return context


def render_draft(app: App, incident: Incident, template: str, *, author: str, language: str | None = None,
                 variables: dict[str, Any] | None = None, channel_names: tuple[str, ...] = (),
                 reply_to: str | None = None, allow_language: bool = False) -> Draft:
    from publisher.drafting.phrasing import incident_phrases
    from publisher.drafting.promises import next_update_moment, phrase
    from publisher.drafting.values import check_language, check_used, given_values
    from publisher.drafting.rendering import workspace_renderer
    from publisher.drafting.targeting import check_solutions, default_targets
    from publisher.drafting.variables import check_variables
    from publisher.incident.playbooks import check_template, get_case

    refuse_void(incident)
    check_template(get_case(incident.case, app.workspace), template)
    language = language or incident.language
    variables = dict(variables or {})
    check_solutions(template, variables)
    channel_names, reply_to = default_targets(app, incident, template, channel_names, reply_to)
    context = build_context(app, incident, variables)
    context.update(incident_phrases(app, incident, template, language, context, lambda: [
        record.status for record in list_drafts(app, incident.id) if record.draft.template == "update"]))
    zone = app.config.timezone
    promised = next_update_moment(app.clock(), float(app.config.case_setting(incident.case, "update_every", 6)),
                                  zone, variables.get("next_update"))
    context["next_update"] = phrase(promised.astimezone(zone or timezone.utc), language, zone is None)
    check_variables(app.workspace, language, incident.case, template, variables, context)
    given = given_values(variables, context, list(variables))
    check_language(language, {name: value for name, value in given.items() if name != "next_update"},
                   allow_language)
    renderer = workspace_renderer(app.workspace)
    texts: dict[str, str] = {}

    def text_of(variant: str) -> str:
        if variant not in texts:
            texts[variant] = renderer.render(language, incident.case, template, variant, context).text
            if not texts[variant]:
                raise BadInput(_("the {variant} {template} template rendered an empty text.").format(
                                   variant=variant, template=template))
            if variant != "title":
                check_used(texts[variant], variant, template, given)
        return texts[variant]

    payloads = {channel.name: _payload(channel, text_of(channel.variant), text_of("title"), template)
                for channel in app.targets(channel_names)}
    digest = draft_hash(incident.id, template, language, reply_to, payloads)
    kept = {key: [str(item) for item in value] if isinstance(value, (list, tuple)) else str(value)
            for key, value in variables.items()}
    promises = promised.isoformat() if any(context["next_update"] in text for text in texts.values()) else None
    return Draft(digest[:12], digest, incident.id, incident.case, template, language, author,
                 kept, reply_to, payloads, promises=promises)


def is_internal_brief(draft: Draft) -> bool:
    """The PR advisor brief to internal channels only: a notification, not a statement,
    so it needs no approval."""
    return draft.template == "advisor" and all(p.audience == "internal" for p in draft.payloads.values())


def _payload(channel: Channel, text: str, title: str, template: str) -> Payload:
    from publisher.drafting.lengths import DESCRIPTIONS, check_accepted, measure
    from publisher.drafting.splitting import fit

    counting = channel.counting
    what = _("channel {name!r}: the {variant} {template} text ({unit})").format(
        name=channel.name, variant=channel.variant, template=template, unit=_(DESCRIPTIONS[counting]))
    check_accepted(text, counting, what)
    parts = fit(text, channel.max_length, lambda value: measure(value, counting), channel.overflow, what)
    return Payload(channel.name, channel.type, channel.audience, channel.variant, title.splitlines()[0],
                   parts, measure(text, counting), channel.max_length, counting)


def save_draft(app: App, draft: Draft) -> tuple[DraftRecord, bool]:
    """Record a rendered draft; return its record and whether it is new."""
    existing = app.store.events(draft=draft.id, kind="draft.rendered", limit=1)
    if existing:
        return load_draft(app, draft.id), False
    require_role(app, draft.author, "render")
    previous = [record for record in list_drafts(app, draft.incident)
                if record.draft.template == draft.template and record.status == "awaiting approval"
                and not record.draft.corrects]
    data = draft.as_dict()
    app.store.append("draft.rendered", actor=draft.author, incident=draft.incident, draft=draft.id, data=data)
    record_public_channels(app, draft.incident, draft.author)
    for record in previous:
        app.store.append("draft.superseded", actor=draft.author, incident=draft.incident,
                         draft=record.draft.id, data={"by": draft.id})
    return load_draft(app, draft.id), True


def load_draft(app: App, draft_id: str) -> DraftRecord:
    """The draft as its events tell it, each signed action's signature checked here."""
    events = app.store.events(draft=draft_id)
    if not events or events[0].kind != "draft.rendered":
        raise no_draft(draft_id)
    return draft_record(app, *split_trusted(app, events))


def no_draft(draft_id: str) -> BadInput:
    return BadInput(_("no draft {draft_id!r}; `publish drafts list` shows them.").format(draft_id=draft_id))


def draft_record(app: App, counted: list[Event], unverified: list[tuple[Event, str]]) -> DraftRecord:
    """The draft told by `counted`, its events whose signatures were already checked
    (the first one its `draft.rendered`), and `unverified`, its signed actions that do
    not count (with why); no signature is checked again here."""
    required = roster.cabinet(app).required_at(counted[0].seq)
    if is_internal_brief(_draft_from(counted[0].data)):
        required = 0
    record = _record(counted, required)
    record.signed_only = app.config.signing == "ssh"
    record.unverified = unverified
    return record


def list_drafts(app: App, incident: str | None = None) -> list[DraftRecord]:
    rendered = app.store.events(kind="draft.rendered", incident=incident)
    return [load_draft(app, event.draft or "") for event in rendered]


def waiting_drafts(app: App) -> list[DraftRecord]:
    """Approved drafts not yet delivered everywhere (what a freeze held back)."""
    return [record for record in list_drafts(app) if record.approved and not record.rejection
            and not record.superseded_by
            and any(delivery.state != "delivered" for delivery in record.deliveries.values())]


def _draft_from(data: dict[str, Any]) -> Draft:
    payloads = {name: Payload(**{**payload, "parts": tuple(payload["parts"])})
                for name, payload in data["payloads"].items()}
    return Draft(**{**data, "payloads": payloads})


def _record(events: list[Event], required: int) -> DraftRecord:
    rendered = events[0]
    draft = _draft_from(rendered.data)
    record = DraftRecord(draft, from_iso(rendered.ts), required,
                         deliveries={name: Delivery(name) for name in draft.payloads})
    requests: dict[int, Event] = {}
    for event in events[1:]:
        if event.kind == "draft.approved":
            record.approvals.append(event)
        elif event.kind == "draft.rejected":
            record.rejection = event
        elif event.kind == "draft.superseded":
            record.superseded_by = event.data.get("by")
        elif event.kind == "withdrawal.requested":
            requests[event.seq] = event
        elif event.kind == "statement.withdrawn" and event.channel in record.deliveries \
                and event.data.get("request") in requests and not record.deliveries[event.channel].withdrawn:
            record.deliveries[event.channel].withdrawn = withdrawal(event, requests[event.data["request"]])
        elif event.kind.startswith("delivery.") and event.channel in record.deliveries:
            apply_delivery(record.deliveries[event.channel], event)
    return record


def withdrawal(event: Event, request: Event) -> dict[str, Any]:
    """A `statement.withdrawn` outcome as the draft's record keeps it, with who asked."""
    data = event.data
    return {"at": event.ts, "how": data.get("how"), "reason": data.get("reason"),
            "platform_time": data.get("platform_time"), "by": request.actor, "answer": data.get("answer")}


def apply_delivery(delivery: Delivery, event: Event) -> None:
    data = event.data
    delivery.at = event.ts
    if event.kind == "delivery.started":
        delivery.state = "sending"
        delivery.first_attempt = delivery.first_attempt or event.ts
        delivery.attempts = max(delivery.attempts, int(data.get("attempt", delivery.attempts + 1)))
    elif event.kind in ("delivery.delivered", "delivery.confirmed"):
        delivery.state = "delivered"
        delivery.receipt = data
        delivery.reason = None
    elif event.kind == "delivery.retry" and delivery.state == "failed-permanent":
        delivery.state = "failed-retryable"
        delivery.reason = f"{delivery.reason}; a retry was authorised by {event.actor}: {data.get('reason')}"
    elif event.kind == "delivery.failed":
        delivery.reason = data.get("reason")
        delivery.retry_after = data.get("retry_after")
        delivery.sent_parts = data.get("sent_parts") or delivery.sent_parts
        if data.get("error") == "permanent":
            delivery.state = "failed-permanent"
        elif data.get("maybe_delivered"):
            delivery.state = "unknown"
        else:
            delivery.state = "failed-retryable"


def describe_length(payload: Payload) -> str:
    from publisher.drafting.lengths import DESCRIPTIONS

    limit = f"/{payload.limit}" if payload.limit else ""
    unit = _(DESCRIPTIONS[payload.counting])
    if len(payload.parts) > 1:
        return _("{length}{limit} {unit}, {parts} parts").format(
            length=payload.length, limit=limit, unit=unit, parts=len(payload.parts))
    return f"{payload.length}{limit} {unit}"

