"""Telling the cabinet when it is needed.

Guarantees (each notice goes to the people who can act on it, in their own name, and
waits for an acknowledgement, escalating when nobody answers; to the internal channels
when nobody can be reached in person; once per key and step, whatever number of
processes run: see `publisher.delivery.paging`):
- a draft that needs approval was rendered: the incident, case, template, who may
  approve and the link (`rendered:<draft>`);
- the prepare deadline is 2 hours away or less and nothing is approved
  (`prepare:<incident>`);
- the publish deadline is 6 hours away or less and a public channel is still missing
  (`publish:<incident>`);
- a case 2 update is due (`update:<incident>:<deadline>`);
- each day of a case 3 incident, the day's moderation (`moderation:<incident>:<day>`).
All of it is derived from the log and the injected clock; nothing is scheduled apart:
the command that renders a draft announces it at once (`announce_draft`), and any
process runs a round (`tell`): the worker (`REMIND`, every half minute, also inside
`publish serve`) or `publish notices send` from a timer.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Callable

from publisher.delivery.jobs import Task
from publisher.delivery.paging import Notice, escalate, page
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


def rendered_notices(app: App, after_seq: int) -> tuple[list[Notice], int]:
    """Drafts rendered after `after_seq` that wait for approval; and the new position."""
    notices, last = [], after_seq
    for event in app.store.events(kind="draft.rendered", after_seq=after_seq):
        last = event.seq
        found = draft_notice(app, event.draft or "")
        if found is not None:
            notices.append(found)
    return notices, last


def draft_notice(app: App, draft_id: str) -> Notice | None:
    """The notice of a draft that waits for approval (None for any other draft)."""
    record = load_draft(app, draft_id)
    if is_internal_brief(record.draft) or record.status != "awaiting approval":
        return None
    draft = record.draft
    names = tuple(name for name in approvers(app) if name != draft.author or app.config.self_approval)
    link = f"{app.config.console_base_url}/drafts/{draft.id}"
    return Notice(f"rendered:{draft.id}", _("Draft {id} waits for approval").format(id=draft.id),
                  _("Incident {incident} (case {case}): the {template} draft {id} waits for approval by {approvers}. "
                    "{link}").format(incident=draft.incident, case=draft.case, template=draft.template, id=draft.id,
                                     approvers=", ".join(names), link=link), draft.incident, names)


def announce_draft(app: App, draft_id: str) -> bool:
    """Tell the approvers of a just-rendered draft at once, in person; whether this call
    told them (when none of them can be reached in person, the next round tells the
    internal channels)."""
    found = draft_notice(app, draft_id)
    return found is not None and page(app, found, in_person_only=True)


def due_reminders(app: App) -> list[Notice]:
    now, zone = app.clock(), app.config.timezone
    found: list[Notice] = []
    who = tuple(approvers(app))
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
                                    link=link), incident.id, who))
        if published.done_at is None and not published.waived and published.deadline - now <= PUBLISH_BEFORE:
            missing = ", ".join(c.name for c in status.channels if c.state != "delivered") or "-"
            found.append(Notice(f"publish:{incident.id}", _("Incident {id}: publish everywhere").format(id=incident.id),
                                _("Incident {id}: the publish deadline ({deadline}) is less than 6 hours away; still "
                                  "missing: {missing}. {link}").format(id=incident.id, missing=missing, link=link,
                                                                       deadline=for_people(published.deadline, zone)), incident.id,
                                who))
        found.extend(_step_reminders(status, link, who))
    return found


def _step_reminders(status, link: str, who: tuple[str, ...]) -> list[Notice]:
    incident, now, found = status.incident, status.now, []
    for item in status.checklist:
        if item.state not in ("due", "late") or item.deadline is None:
            continue
        if item.id == "update" and item.deadline <= now:
            found.append(Notice(f"update:{incident.id}:{iso(item.deadline)}",
                                _("Incident {id}: an update is due").format(id=incident.id),
                                _("Incident {id}: a progress update was due at {deadline}. {link}").format(
                                    id=incident.id, deadline=for_people(item.deadline, status.zone), link=link), incident.id, who))
        elif item.id.startswith("moderation") and item.deadline - DAY <= now:
            if item.manual:
                text = _("Incident {id}: moderate today's comments and mark it done (publish done "
                         "moderation) before {deadline}. {link}")
            else:
                text = _("Incident {id}: answer or handle today's negative items (publish inbox --incident {id} "
                         "--negative --unanswered) before {deadline}. {link}")
            found.append(Notice(f"moderation:{incident.id}:{iso(item.deadline)}",
                                _("Incident {id}: today's moderation").format(id=incident.id),
                                text.format(id=incident.id, deadline=for_people(item.deadline, status.zone),
                                            link=link), incident.id, who))
    return found


def tell(app: App, after_seq: int) -> tuple[list[str], int]:
    """One round: new drafts and due reminders, each once, then the escalations due;
    return the keys (and "key#step" of escalations) this call sent and the new position
    in the log."""
    notices, position = rendered_notices(app, after_seq)
    sent = [notice.key for notice in notices + due_reminders(app) if page(app, notice)]
    return sent + escalate(app), position


def remind(app: App, stopping: Callable[[], bool]) -> None:
    """The worker's round of notices: new drafts and due reminders, each sent once."""
    tell(app, 0)


REMIND = Task("remind", remind, key=lambda: "remind")
