"""The PR advisor brief (case 4): rendered for the internal channels only, as a
notification rather than a statement, so it needs no approval."""
from __future__ import annotations

from publisher.drafting.drafts import Draft, DraftRecord, render_draft, save_draft
from publisher.incident.playbooks import get_case
from publisher.incident.incidents import Incident
from publisher.workspace.app import App


def briefs_advisor(app: App, incident: Incident) -> bool:
    book = get_case(incident.case, app.workspace)
    return any(step.done == "delivered:advisor" for step in book.steps_for(incident.severity))


def advisor_brief(app: App, incident: Incident, actor: str) -> tuple[DraftRecord, bool]:
    """Render and store the advisor brief for the internal channels (it needs no approval)."""
    draft: Draft = render_draft(app, incident, "advisor", author=actor)
    return save_draft(app, draft)
