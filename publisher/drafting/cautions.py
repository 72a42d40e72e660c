"""Warnings where a mistake is likely: nothing is refused, the person is told. A
second open incident of the same case is usually the same crisis typed twice, and
splits its drafts, clocks and report in two; rendering for a resolved incident speaks
about a crisis that is over; approving while another draft of the same kind for the
same incident waits sends both."""
from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.drafting.drafts import DraftRecord, list_drafts
from publisher.i18n import _
from publisher.incident.incidents import Incident, list_incidents
from publisher.timeparse import iso

if TYPE_CHECKING:
    from publisher.workspace.app import App

WAITING = ("awaiting approval", "approved, not sent")


def opening_cautions(app: App, opened: Incident) -> list[str]:
    others = [item for item in list_incidents(app)
              if item.case == opened.case and item.state == "open" and item.id != opened.id]
    if not others:
        return []
    ids = ", ".join(item.id for item in others)
    return [_("case {case} already has an open incident ({ids}); this opened another one. If it is the same crisis, "
              "keep working on {first} (--incident {first}) and resolve this one: publish incident resolve {id} "
              "--note \"duplicate of {first}\"").format(case=opened.case, ids=ids, first=others[0].id, id=opened.id)]


def rendering_cautions(incident: Incident) -> list[str]:
    if incident.state != "resolved" or incident.resolved_at is None:
        return []
    return [_("incident {id} was resolved at {at}: this draft speaks about a crisis that is over. Check it is "
              "meant for this incident (--incident ID).").format(id=incident.id, at=iso(incident.resolved_at))]


def approval_cautions(app: App, approved: DraftRecord) -> list[str]:
    draft = approved.draft
    others = [record for record in list_drafts(app, draft.incident)
              if record.draft.id != draft.id and record.draft.template == draft.template and record.status in WAITING]
    return [_("draft {other} ({template}) for incident {id} is also waiting ({status}); both will be sent. If only "
              "one should go out: publish reject {other} --reason TEXT").format(
        other=record.draft.id, template=draft.template, id=draft.incident, status=record.status)
        for record in others]
