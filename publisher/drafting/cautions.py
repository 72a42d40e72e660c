"""Warnings where a drafting mistake is likely: nothing is refused, the person is told.
Rendering for a resolved incident speaks about a crisis that is over; approving while
another draft of the same kind for the same incident waits sends both."""
from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.drafting.drafts import DraftRecord, list_drafts
from publisher.i18n import _
from publisher.incident.incidents import Incident
from publisher.timeparse import iso

if TYPE_CHECKING:
    from publisher.workspace.app import App

WAITING = ("awaiting approval", "approved, not sent")


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
