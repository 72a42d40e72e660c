"""The compliance report of one incident: the evidence that the playbook was followed.

Guarantees:
- Everything in it comes from the log (and the config's list of public channels), read
  once through the incident's view (`publisher.evidence.view`), the same view `publish
  status` and the console read: the timeline is the incident's events in log order,
  with the workspace's freezes; each delivery carries the platform's id, URL, time and
  the number of attempts.
- Verdicts: prepared PASS when a public draft of the case's response (`[cases.N.response]`)
  had its approvals by the prepare deadline, each required public channel PASS when it
  had a delivery of such a draft by the publish deadline; superseded and rejected drafts
  never count, and each verdict names the draft it rests on with its kind and signature
  state, or the kinds that would satisfy it;
  NOT PROVEN instead where the time witness bounds that approval or delivery only after
  the deadline (`publisher.evidence.status`),
  FAIL when the deadline passed without it, PENDING while it has not passed, WAIVED
  when the cabinet decided not to answer (with who, when and why).
- A void incident (`incident.voided`, counted only when its signature verifies) has no
  verdict: the clocks and every channel say VOID, and every format says who voided it,
  when and why.
- The log's head hash and a verification are part of it (the incident's rows, their
  links and the head anchor by default, the whole chain with `--verify full`); a broken
  chain is stated in the report, never hidden.
- Corrections and withdrawals of a statement (`evidence.changes`) are listed with the
  statement they changed (each draft's `changes`, a section of their own and the
  timeline), with how each reached the platform and the platform's answer; a statement
  withdrawn before the publish deadline no longer counts from that moment.
- The report is the same data in every format: JSON is `build_report()` as is; Markdown
  and HTML render it (the HTML is one self-contained file, its timeline an inline SVG).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from publisher.drafting.integrity import mismatch
from publisher.evidence.report_words import confirmation, how_words, proof
from publisher.evidence.view import decision_dict
from publisher.incident.freeze import what_it_holds
from publisher.timeparse import from_iso, hours, iso
from publisher.i18n import _

if TYPE_CHECKING:
    from publisher.evidence.status import Clock, Status
    from publisher.evidence.view import IncidentView
    from publisher.log.store import Event
    from publisher.workspace.app import App

REPORT_VERSION = 1


def build_report(app: App, incident_id: str, scope: str = "incident") -> dict[str, Any]:
    """`scope` "incident" checks the incident's rows (and the freezes), their links to
    their neighbours and the head anchor; "full" walks the whole chain."""
    from publisher.delivery.durability import unsafe_commit
    from publisher.errors import BadInput, CheckFailed
    from publisher.evidence.report_trust import trust_facts
    from publisher.evidence.status import status_of
    from publisher.evidence.view import read, view
    from publisher.incident.playbooks import get_case

    rows = read(app, incident_id)
    verified = app.store.verify() if scope == "full" else app.store.verify_rows(rows.seqs)
    try:
        seen = view(app, incident_id, rows)
        status = status_of(seen)
    except (BadInput, KeyError, TypeError, ValueError) as error:
        if verified.ok:
            raise
        raise CheckFailed(_("the log does not verify: {problem}; the incident cannot be reported from it "
                            "({value}).").format(
                              problem=verified.problem,
                              value=error if isinstance(error, BadInput) else type(error).__name__)) from None
    incident = status.incident
    return {
        **({"practice": True} if app.config.practice else {}),
        **({"unsafe_commit": unsafe} if (unsafe := unsafe_commit(app)) else {}),
        "report_version": REPORT_VERSION,
        "organisation": app.config.organisation,
        "timezone": app.config.timezone.key if app.config.timezone else "UTC",
        "generated_at": iso(status.now),
        "incident": incident.as_dict(),
        "case_title": get_case(incident.case, app.workspace).title,
        "hours_since_first_seen": round(hours(status.now - incident.first_seen), 2),
        "prepared": _clock(status.prepared),
        "published": _clock(status.published),
        "channels": _channels(status, seen),
        "drafts": [{**_draft(record), "corrects": record.draft.corrects,
                    "changes": [change for change in status.changes if change["draft"] == record.draft.id]}
                   for record in status.drafts],
        "statement_changes": status.changes,
        "timeline": timeline(seen),
        "checklist": [item.as_dict() for item in status.checklist],
        "decision": decision_dict(status.decision) if status.decision else None,
        "decisions": [decision_dict(event) for event in seen.decisions],
        "corrections": seen.corrections(),
        "warnings": status.warnings,
        **_listening(seen, status),
        **trust_facts(seen, status),
        "log": {"ok": verified.ok, "scope": scope, "rows": verified.rows, "head": app.store.head()[1],
                "verified_head": verified.head, "problem": verified.problem},
    }


def _listening(seen: IncidentView, status: Status) -> dict[str, Any]:
    """`listening` (`evidence.listening`), when the workspace listens or heard this incident."""
    from publisher.evidence.listening import incident_listening

    facts = incident_listening(seen.app, seen.incident, status.now, seen.items())
    return {"listening": facts} if facts is not None else {}


def _verdict(clock: Clock) -> str:
    return {"LATE": "FAIL", "DUE": "PENDING"}.get(clock.verdict, clock.verdict)


def _clock(clock: Clock) -> dict[str, Any]:
    return {**clock.as_dict(), "verdict": _verdict(clock), "status_verdict": clock.verdict}


def _channels(status: Status, seen: IncidentView) -> list[dict[str, Any]]:
    by_draft = {record.draft.id: record for record in status.drafts}
    rows = []
    for channel in status.channels:
        row: dict[str, Any] = {"channel": channel.name, "type": channel.type, "state": channel.state,
                               "draft": channel.draft, "delivered_at": None, "url": None, "platform_id": None,
                               "platform_time": None, "attempts": 0}
        record = by_draft.get(channel.draft or "")
        delivery = record.deliveries.get(channel.name) if record else None
        if delivery is not None:
            row["attempts"] = delivery.attempts
        payload = record.draft.payloads.get(channel.name) if record else None
        if payload is not None:
            row.update(title=payload.title, text=list(payload.parts))
        if channel.state == "delivered" and channel.at:
            receipt = (delivery.receipt if delivery else None) or {}
            row.update(delivered_at=channel.at, url=receipt.get("url"), platform_id=receipt.get("id"),
                       platform_time=receipt.get("platform_time"))
            row.update(confirmation(receipt))
        row["verdict"] = _channel_verdict(status, seen, channel, row["delivered_at"])
        rows.append(row)
    return rows


def _channel_verdict(status: Status, seen: IncidentView, channel: Any, delivered_at: str | None) -> str:
    """One channel's 48 h verdict: its delivery judged like the published clock, on the
    time witness's bound for that delivery's row (NOT PROVEN when it came after)."""
    from publisher.evidence.status import witness_bound

    deadline = status.published.deadline
    if status.published.void:
        return "VOID"
    if delivered_at:
        event = seen.delivery_event(channel.draft, channel.name, channel.at) if channel.draft else None
        proof = witness_bound(seen.app, event.seq if event else None)
        return status.published._replace(done_at=from_iso(delivered_at), witnessed_at=proof[0],
                                         owed=proof[1]).verdict
    if status.published.waived:
        return "WAIVED"
    return "FAIL" if status.now > deadline else "PENDING"


def _draft(record: Any) -> dict[str, Any]:
    draft = record.draft
    return {"id": draft.id, "template": draft.template, "language": draft.language, "author": draft.author,
            "created_at": iso(record.created_at), "status": record.status, "reply_to": draft.reply_to,
            "hash": draft.hash, "channels": list(draft.payloads), "approvals_required": record.required,
            "approvals": [{"by": event.actor, "at": event.ts, "proof": proof(event)} for event in record.approvals
                          if event.data.get("hash") == draft.hash],
            "not_counted": [{"seq": event.seq, "kind": event.kind, "by": event.actor, "reason": reason}
                            for event, reason in record.unverified],
            "payloads_match_hash": mismatch(record) is None,
            "rejected": ({"by": record.rejection.actor, "at": record.rejection.ts,
                          "reason": record.rejection.data.get("reason")} if record.rejection else None),
            "deliveries": [{"channel": name, "state": delivery.state, "attempts": delivery.attempts,
                            "at": delivery.at, "platform_id": (delivery.receipt or {}).get("id"),
                            "url": (delivery.receipt or {}).get("url"),
                            "platform_time": (delivery.receipt or {}).get("platform_time"),
                            "reason": delivery.reason} | confirmation(delivery.receipt or {})
                           | _sent_text(draft, name, delivery.state)
                           for name, delivery in record.deliveries.items()]}


def _sent_text(draft: Any, channel: str, state: str) -> dict[str, Any]:
    """The text as it went out on `channel` (its title and parts, byte for byte as
    approved: the hash check before sending guarantees it), for a delivered channel."""
    payload = draft.payloads.get(channel)
    if state != "delivered" or payload is None:
        return {}
    return {"title": payload.title, "text": list(payload.parts)}


# --- the timeline ---------------------------------------------------------------------------------------

def timeline(seen: IncidentView) -> list[dict[str, Any]]:
    incident = seen.incident
    source = ", ".join(part for part in (incident.platform, incident.author, incident.source) if part)
    entries = [{"at": iso(incident.first_seen), "category": "message", "actor": incident.author,
                "text": _("First negative message ({source})").format(source=source) if source
                else _("First negative message"), "seq": 0}]
    end = incident.resolved_at or seen.now
    freezes = [event for event in seen.rows.freezes
               if event.incident != incident.id and incident.first_seen <= from_iso(event.ts) <= end]
    for event in sorted(seen.rows.incident + freezes, key=lambda item: item.seq):
        entry = _entry(event)
        if entry is not None:
            entries.append(entry)
    return entries


def _told(data: dict[str, Any]) -> str:
    """Who a notice reached, and what a freeze held, in words."""
    found = data.get("reached")
    reached: dict[str, Any] = found if isinstance(found, dict) else {}
    told = [f"{_named(item)} ({_route(reached[item])})" if isinstance(item, str) and item in reached else _named(item)
            for item in (*(data.get("to") or []), *(data.get("channels") or []))]
    text = ", ".join(told) or _("nobody")
    if data.get("held"):
        text += " " + _("(held by a freeze: {channels})").format(channels=", ".join(map(_named, data["held"])))
    return text


def _route(channel: Any) -> str:
    """The way a person was reached: Web Push to their phone, or the channel's name."""
    return _("Web Push to their phone") if channel == "webpush" else str(channel)


def _named(item: Any) -> str:
    """A recipient or channel as a notice recorded it: a name, or a record naming one."""
    if isinstance(item, dict):
        return str(item.get("channel") or item.get("name") or item.get("to") or "?")
    return str(item)


def _entry(event: Event) -> dict[str, Any] | None:
    data, who = event.data, event.actor
    draft, channel = event.draft, event.channel
    note = data.get("note")
    checked = _("checked with the platform") if data.get("checked") else _("not checked with the platform")
    changes = ", ".join(f"{field}: {change.get('from')} -> {change.get('to')}"
                        for field, change in (data.get("changes") or {}).items())
    texts = {
        "incident.opened": ("incident", _("Incident opened: case {case}, severity {severity}").format(
            case=data.get("case"), severity=data.get("severity", "crisis"))),
        "incident.resolved": ("incident", _("Incident resolved: {note}").format(note=note) if note
                              else _("Incident resolved")),
        "incident.edited": ("incident", _("Incident corrected ({changes}): {why}").format(
            changes=changes, why=data.get("reason"))),
        "incident.voided": ("incident", _("Incident voided: {why}").format(why=data.get("reason"))),
        "delivery.retry": ("delivery", _("Retry of draft {draft} on {channel} authorised: {why}").format(
            draft=draft, channel=channel, why=data.get("reason"))),
        "incident.decided": ("decision", _("Decided not to answer") if data.get("decision") == "ignore"
                             else _("Decided to answer after all")),
        "draft.rendered": ("draft", _("Draft {draft} rendered: {template} for {channels}").format(
            draft=draft, template=data.get("template"), channels=", ".join(data.get("payloads", {})))),
        "draft.approved": ("approval", _("Draft {draft} approved").format(draft=draft)),
        "draft.rejected": ("draft", _("Draft {draft} rejected: {why}").format(draft=draft, why=data.get("reason"))),
        "draft.superseded": ("draft", _("Draft {draft} superseded by {by}").format(draft=draft, by=data.get("by"))),
        "delivery.delivered": ("delivery", _("Draft {draft} delivered on {channel} (attempt {attempt})").format(
            draft=draft, channel=channel, attempt=data.get("attempt"))),
        "delivery.confirmed": ("delivery", _("Draft {draft} on {channel} confirmed by a person ({who}, {checked}) "
                                             "at {url}").format(draft=draft, channel=channel, who=who,
                                                                checked=checked, url=data.get("url"))),
        "delivery.failed": ("failure", _("Draft {draft} on {channel}: attempt {attempt} failed ({error}): "
                                         "{why}").format(draft=draft, channel=channel, attempt=data.get("attempt"),
                                                         error=data.get("error"), why=data.get("reason"))),
        "freeze": ("freeze", _("Publishing frozen ({holds}): {why}").format(
            holds=what_it_holds(event), why=data.get("reason"))),
        "notice.sent": ("notice", _("Notice {key} sent to {to}").format(key=data.get("key"), to=_told(data))),
        "notice.escalated": ("notice", _("Notice {key} not acknowledged: escalated (step {level}) to {to}").format(
            key=data.get("key"), level=data.get("level"), to=_told(data))),
        "notice.acknowledged": ("notice", _("Notice {key} acknowledged by {who} ({via})").format(
            key=data.get("key"), who=who,
            via=_("the link it carried") if data.get("via") == "link" else _("the command line"))),
        "unfreeze": ("freeze", _("Freeze lifted: {why}").format(why=data.get("reason"))),
        "statement.corrected": ("delivery", _(
            "Draft {draft} corrected on {channel} ({how}), correction {correction}").format(
            draft=data.get("corrects"), channel=channel, how=how_words(data.get("how")), correction=draft)),
        "withdrawal.requested": ("delivery", _("Withdrawal of draft {draft} asked ({channels}): {why}").format(
            draft=draft, channels=", ".join(str(name) for name in data.get("channels") or []), why=data.get("reason"))),
        "statement.withdrawn": ("delivery", _("Draft {draft} withdrawn on {channel} ({how})").format(
            draft=draft, channel=channel, how=how_words(data.get("how")))),
        "withdrawal.failed": ("failure", _("Withdrawal of draft {draft} on {channel} failed: {why}").format(
            draft=draft, channel=channel, why=data.get("reason"))),
        "step.done": ("step", _("Step {step} done: {note}").format(step=data.get("step"), note=note) if note
                      else _("Step {step} done").format(step=data.get("step"))),
    }
    if event.kind not in texts:
        return None
    category, text = texts[event.kind]
    if event.kind == "incident.decided":
        text += f": {data.get('reason')}"
    entry: dict[str, Any] = {"at": event.ts, "category": category, "actor": who, "text": text,
                             "kind": event.kind, "seq": event.seq}
    if event.kind == "delivery.delivered":
        entry.update(platform_id=data.get("id"), url=data.get("url"), platform_time=data.get("platform_time"),
                     attempts=data.get("attempt"))
    return entry


# --- rendering ------------------------------------------------------------------------------------------

def render(data: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        from publisher.evidence.report_html import html_report

        return html_report(data)
    from publisher.evidence.report_markdown import markdown_report

    return markdown_report(data)

