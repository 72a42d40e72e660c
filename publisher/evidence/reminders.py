"""Telling the cabinet when it is needed.

Guarantees (each notice goes to every enabled internal channel, once per key, whatever
number of servers run: see `publisher.delivery.notify`):
- a draft that needs approval was rendered: the incident, case, template, who may
  approve and the link (`rendered:<draft>`);
- the prepare deadline is 2 hours away or less and nothing is approved
  (`prepare:<incident>`);
- the publish deadline is 6 hours away or less and a public channel is still missing
  (`publish:<incident>`);
- a case 2 update is due (`update:<incident>:<deadline>`);
- each day of a case 3 incident, the day's moderation (`moderation:<incident>:<day>`).
All of it is derived from the log and the injected clock; nothing is scheduled apart:
the worker runs a round (`REMIND`) every half minute.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from publisher.delivery.jobs import Task
from publisher.delivery.notify import notify
from publisher.drafting.drafts import is_internal_brief, load_draft
from publisher.evidence.status import incident_status
from publisher.i18n import _
from publisher.incident.authority import approvers
from publisher.incident.incidents import list_incidents
from publisher.timeparse import for_people, iso
from publisher.workspace.app import App

PREPARE_BEFORE = timedelta(hours=2)
PUBLISH_BEFORE = timedelta(hours=6)
DAY = timedelta(hours=24)


@dataclass(frozen=True)
class Notice:
    key: str
    title: str
    text: str
    incident: str | None


def rendered_notices(app: App, after_seq: int) -> tuple[list[Notice], int]:
    """Drafts rendered after `after_seq` that wait for approval; and the new position."""
    notices, last = [], after_seq
    for event in app.store.events(kind="draft.rendered", after_seq=after_seq):
        last = event.seq
        record = load_draft(app, event.draft or "")
        if is_internal_brief(record.draft) or record.status != "awaiting approval":
            continue
        draft = record.draft
        names = ", ".join(name for name in approvers(app) if name != draft.author or app.config.self_approval)
        link = f"{app.config.console_base_url}/drafts/{draft.id}"
        notices.append(Notice(
            f"rendered:{draft.id}", _("Draft {id} waits for approval").format(id=draft.id),
            _("Incident {incident} (case {case}): the {template} draft {id} waits for approval by {approvers}. "
              "{link}").format(incident=draft.incident, case=draft.case, template=draft.template, id=draft.id,
                               approvers=names, link=link), draft.incident))
    return notices, last


def due_reminders(app: App) -> list[Notice]:
    now, zone = app.clock(), app.config.timezone
    found: list[Notice] = []
    for incident in list_incidents(app):
        if incident.state != "open":
            continue
        status = incident_status(app, incident.id)
        link = f"{app.config.console_base_url}/incidents/{incident.id}"
        prepared, published = status.prepared, status.published
        if prepared.done_at is None and not prepared.waived and prepared.deadline - now <= PREPARE_BEFORE:
            found.append(Notice(f"prepare:{incident.id}", _("Incident {id}: approve a response").format(id=incident.id),
                                _("Incident {id}: the prepare deadline ({deadline}) is less than 2 hours away and "
                                  "no draft of the response ({kinds}) is approved. {link}").format(
                                    id=incident.id, deadline=for_people(prepared.deadline, zone), kinds=", ".join(prepared.kinds),
                                    link=link), incident.id))
        if published.done_at is None and not published.waived and published.deadline - now <= PUBLISH_BEFORE:
            missing = ", ".join(c.name for c in status.channels if c.state != "delivered") or "-"
            found.append(Notice(f"publish:{incident.id}", _("Incident {id}: publish everywhere").format(id=incident.id),
                                _("Incident {id}: the publish deadline ({deadline}) is less than 6 hours away; still "
                                  "missing: {missing}. {link}").format(id=incident.id, missing=missing, link=link,
                                                                       deadline=for_people(published.deadline, zone)), incident.id))
        found.extend(_step_reminders(status, link))
    return found


def _step_reminders(status, link: str) -> list[Notice]:
    incident, now, found = status.incident, status.now, []
    for item in status.checklist:
        if item.state not in ("due", "late") or item.deadline is None:
            continue
        if item.id == "update" and item.deadline <= now:
            found.append(Notice(f"update:{incident.id}:{iso(item.deadline)}",
                                _("Incident {id}: an update is due").format(id=incident.id),
                                _("Incident {id}: a progress update was due at {deadline}. {link}").format(
                                    id=incident.id, deadline=for_people(item.deadline, status.zone), link=link), incident.id))
        elif item.id.startswith("moderation") and item.deadline - DAY <= now:
            found.append(Notice(f"moderation:{incident.id}:{iso(item.deadline)}",
                                _("Incident {id}: today's moderation").format(id=incident.id),
                                _("Incident {id}: moderate today's comments and mark it done (publish done "
                                  "moderation) before {deadline}. {link}").format(
                                    id=incident.id, deadline=for_people(item.deadline, status.zone), link=link), incident.id))
    return found


def tell(app: App, after_seq: int) -> tuple[list[str], int]:
    """One round: notify new drafts and due reminders, each once; return the keys this
    call sent and the new position in the log."""
    notices, position = rendered_notices(app, after_seq)
    sent = [notice.key for notice in notices + due_reminders(app)
            if notify(app, notice.key, notice.title, notice.text, incident=notice.incident)]
    return sent, position


def remind(app: App, stopping: Callable[[], bool]) -> None:
    """The worker's round of notices: new drafts and due reminders, each sent once."""
    tell(app, 0)


REMIND = Task("remind", remind, key=lambda: "remind")
