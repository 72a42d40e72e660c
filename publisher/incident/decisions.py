"""What the cabinet does about an incident outside drafting: mark a step done, decide
not to answer (or to answer after all).

Guarantees: every action is one event in the log with who, when and why
(`step.done`, `incident.decided`); nothing here is stored apart. Marking a
step done is only for steps the tool cannot see (`done = "manual"` in the playbook).
Deciding not to answer is for approvers, in a case whose playbook lets it waive steps.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from publisher.errors import BadInput, Refused
from publisher.incident.authority import require_approver, require_reason, require_role
from publisher.incident.playbooks import get_case
from publisher.incident.identity import append_signed, untrusted
from publisher.incident.incidents import Incident, list_incidents, load_incident
from publisher.timeparse import from_iso
from publisher.i18n import _
from publisher.workspace.inputs import check_text

if TYPE_CHECKING:
    from publisher.log.store import Event
    from publisher.workspace.app import App


def open_incident_for(app: App, incident_id: str | None) -> Incident:
    """`--incident ID`, else the only open incident."""
    if incident_id:
        return load_incident(app, incident_id)
    open_ones = [item for item in list_incidents(app) if item.state == "open"]
    if not open_ones:
        raise BadInput(_("no open incident; open one with `publish incident open --case N --first-seen TIME`."))
    if len(open_ones) > 1:
        listed = ", ".join(f"{item.id} (case {item.case})" for item in open_ones)
        raise BadInput(_("several incidents are open ({listed}); choose one with --incident ID.").format(
                           listed=listed))
    return open_ones[0]


def mark_done(app: App, incident_id: str | None, step_id: str, actor: str, note: str | None) -> tuple[Incident, Event]:
    check_text(note or "", "--note")
    incident = open_incident_for(app, incident_id)
    require_role(app, actor, "done")
    book = get_case(incident.case, app.workspace)
    step = book.step(step_id)
    listening = bool(app.config.sources)
    manual = [item.id for item in book.steps_for(incident.severity) if item.by_hand(listening)]
    if step is None or incident.severity not in step.severity:
        raise BadInput(_("case {case} ({severity}) has no step {step_id!r} to mark; the steps marked by "
                         "hand are {value}.").format(
                           case=incident.case, severity=incident.severity, step_id=step_id,
                           value=', '.join(manual) or 'none'))
    if step.deadline == "authority" and app.config.authority_hours is None:
        raise BadInput(_("step {step_id!r} does not apply in this workspace: [deadlines] authority = false says no "
                         "authority must be notified.").format(step_id=step_id))
    if step.done == "moderated" and listening:
        raise Refused(_("step {step_id!r} is proven by what listening heard: each day is done when its negative "
                        "items are answered or handled (`publish inbox --incident {id} --negative --unanswered`)."
                        ).format(step_id=step_id, id=incident.id))
    if not step.by_hand(listening):
        raise Refused(_("step {step_id!r} is marked done by the tool itself ({done}), not by hand; "
                        "`publish status` shows where it stands.").format(step_id=step_id, done=step.done))
    earlier = app.store.events(kind="step.done", incident=incident.id)
    earlier = [event for event in earlier if event.data.get("step") == step_id]
    now = app.clock()
    if earlier and step.repeat != "daily":
        raise Refused(_("step {step_id!r} of incident {id} was already marked done by {actor} at {ts}.").format(
                          step_id=step_id, id=incident.id, actor=earlier[0].actor, ts=earlier[0].ts))
    if earlier and step.repeat == "daily":
        day = int((now - incident.first_seen).total_seconds() // 86400)
        if any(int((from_iso(e.ts) - incident.first_seen).total_seconds() // 86400) == day for e in earlier):
            raise Refused(_("step {step_id!r} is already done for day {value} of incident {id}.").format(
                              step_id=step_id, value=day + 1, id=incident.id))
    data = {"step": step_id, **({"note": note.strip()} if note and note.strip() else {})}
    return incident, app.store.append("step.done", actor=actor, incident=incident.id, data=data)


def decide(app: App, incident_id: str | None, decision: str, actor: str, reason: str | None,
           signature: dict | None = None, key: Path | None = None) -> tuple[Incident, Event]:
    incident = open_incident_for(app, incident_id)
    reason = require_reason(reason, _("the cabinet decides to {decision}").format(decision=decision))
    require_approver(app, actor, _("record the cabinet's decision"))
    if incident.state == "resolved":
        raise Refused(_("incident {id} is resolved; its decisions can no longer change.").format(id=incident.id))
    book = get_case(incident.case, app.workspace)
    if not book.waivable:
        raise Refused(_("case {case} ({title}) requires an answer: its playbook has no step a decision not "
                        "to answer can waive.").format(case=incident.case, title=book.title))
    current = latest_decision(app, incident.id)
    ignoring = bool(current and current.data.get("decision") == "ignore")
    if decision == "ignore" and ignoring:
        raise Refused(_("the cabinet already decided to ignore incident {id} ({actor}, {ts}).").format(
                          id=incident.id, actor=current.actor, ts=current.ts))  # type: ignore[union-attr]
    if decision == "respond" and not ignoring:
        raise Refused(_("incident {id} has no decision to ignore it; answering is already the plan.").format(
                          id=incident.id))
    data = decision_data(current, decision, reason)
    return incident, append_signed(app, "incident.decided", actor, data, key=key, signature=signature,
                                   incident=incident.id)


def decision_data(current: Event | None, decision: str, reason: str) -> dict:
    """What a decision records and its actor signs: it names the decision it follows."""
    return {"decision": decision, "reason": reason, "previous": current.seq if current else 0}


def counted_decisions(app: App, incident_id: str) -> list[Event]:
    """The decisions that count, oldest first: signed (with signing on) and each naming
    the one before it, so an old signed decision copied to the end of the log does not."""
    return chained([event for event in app.store.events(kind="incident.decided", incident=incident_id)
                    if untrusted(app, event) is None])


def chained(trusted: list[Event]) -> list[Event]:
    """Of `trusted` (events whose signatures were already checked, any kinds, log
    order), the decisions that count: each naming the one counted before it."""
    counted: list[Event] = []
    for event in trusted:
        before = counted[-1].seq if counted else 0
        if event.kind == "incident.decided" and event.data.get("previous", before) == before:
            counted.append(event)
    return counted


def latest_decision(app: App, incident_id: str) -> Event | None:
    counted = counted_decisions(app, incident_id)
    return counted[-1] if counted else None
