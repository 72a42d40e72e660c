"""The log (newest first, a page at a time) and an incident's HTML report."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from publisher.web.routing import Visitor, call, route

PAGE = 50
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
              "base-uri 'none'; form-action 'none'")


def _events(app, before: int | None):
    """A page of events, newest first, ending just before `before` (sequence numbers
    have no gaps, so the page is one indexed range)."""
    if before is None:
        return app.store.events(newest_first=True, limit=PAGE)
    start = max(0, before - 1 - PAGE)
    events = app.store.events(after_seq=start, limit=max(0, before - 1 - start))
    return list(reversed(events))


@route("/log", "view")
async def log_page(request: Request, visitor: Visitor) -> Response:
    before = request.query_params.get("before", "")
    events = await call(_events, visitor.console.app, int(before) if before.isdigit() else None)
    older = events[-1].seq if len(events) == PAGE else None
    return visitor.console.page(request, visitor, "log.html", events=events, older=older)


def _report(app, incident_id: str) -> str:
    from publisher.evidence.report import build_report, render

    return render(build_report(app, incident_id), "html")


@route("/incidents/{incident}/report", "view")
async def report_page(request: Request, visitor: Visitor) -> Response:
    html = await call(_report, visitor.console.app, request.path_params["incident"])
    return HTMLResponse(html, headers={"content-security-policy": REPORT_CSP})
