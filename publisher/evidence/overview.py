"""The console's incident list: the newest incidents with their two clocks, a page at
a time, read by id (incident ids are consecutive numbers), so the page costs the same
with ten incidents or ten thousand in the log."""
from __future__ import annotations

from publisher.evidence.status import Status, incident_status
from publisher.workspace.app import App

PAGE = 10


def newest_incident(app: App) -> int:
    newest = app.store.events(kind="incident.opened", newest_first=True, limit=1)
    return int(newest[0].incident) if newest and str(newest[0].incident).isdigit() else 0


def incident_page(app: App, below: int | None = None, size: int = PAGE) -> tuple[list[Status], int | None]:
    """Statuses of the `size` newest incidents numbered below `below`; and where the
    next page starts (None when this is the last)."""
    top = min(below - 1, newest_incident(app)) if below else newest_incident(app)
    numbers = range(top, max(0, top - size), -1)
    statuses = [incident_status(app, str(number)) for number in numbers]
    return statuses, (numbers[-1] if numbers and numbers[-1] > 1 else None)
