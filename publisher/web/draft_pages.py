"""A draft: per-platform previews, changes, approvals, signing by passkey, delivery progress."""
from __future__ import annotations

import threading

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from publisher.errors import PublishError
from publisher.evidence.draft_facts import draft_facts, progress
from publisher.web.routing import Visitor, call, json_body, route




@route("/drafts/{draft}", "view")
async def draft_page(request: Request, visitor: Visitor) -> Response:
    facts = await call(draft_facts, visitor.console.app, request.path_params["draft"])
    shown = await call(progress, visitor.console.app, facts.record.draft.id)
    return visitor.console.page(request, visitor, "draft.html", facts=facts, draft=facts.record.draft,
                                progress=shown)


@route("/drafts/{draft}/progress", "view")
async def draft_progress(request: Request, visitor: Visitor) -> Response:
    shown = await call(progress, visitor.console.app, request.path_params["draft"])
    return visitor.console.page(request, visitor, "progress.html", progress=shown,
                                draft_id=request.path_params["draft"])


def _signing_routes(action: str) -> None:
    async def options(request: Request, visitor: Visitor) -> Response:
        from publisher.drafting.signed_actions import options as make_options

        body = await json_body(request)
        found = await call(make_options, visitor.console.app, action, request.path_params["draft"],
                           visitor.person, body.get("reason"))
        return JSONResponse(found)

    async def submit(request: Request, visitor: Visitor) -> Response:
        from publisher.drafting.signed_actions import act

        body = await json_body(request)
        draft_id = request.path_params["draft"]
        record = await call(act, visitor.console.app, action, draft_id, visitor.person,
                            body.get("credential") or {}, body.get("reason"))
        if action == "approve" and record.approved:
            start_delivery(visitor.console, draft_id, visitor.person or "")
        return JSONResponse({"redirect": f"/drafts/{draft_id}", "status": record.status})

    options.__name__, submit.__name__ = f"{action}_options", action
    route(f"/drafts/{{draft}}/{action}/options", action, ("POST",))(options)
    route(f"/drafts/{{draft}}/{action}", action, ("POST",))(submit)


def start_delivery(console, draft_id: str, actor: str) -> None:
    """Send an approved draft in the background (the page polls its progress); a freeze
    holds it exactly as on the command line."""
    from publisher.delivery.engine import send_draft
    from publisher.incident.freeze import active_freeze

    if active_freeze(console.app.store):
        return

    def run() -> None:
        try:
            send_draft(console.app, draft_id, actor)
        except PublishError:
            pass
        if console.on_approved:
            console.on_approved(draft_id, actor)

    threading.Thread(target=run, name=f"deliver-{draft_id}", daemon=True).start()


for _action in ("approve", "reject"):
    _signing_routes(_action)


@route("/drafts/{draft}/confirm/options", "confirm", ("POST",))
async def confirm_options(request: Request, visitor: Visitor) -> Response:
    from publisher.delivery.signed_confirm import options

    body = await json_body(request)
    return JSONResponse(await call(options, visitor.console.app, request.path_params["draft"],
                                   str(body.get("channel", "")), visitor.person, str(body.get("url", ""))))


@route("/drafts/{draft}/confirm", "confirm", ("POST",))
async def confirm(request: Request, visitor: Visitor) -> Response:
    from publisher.delivery.signed_confirm import act

    body = await json_body(request)
    draft_id = request.path_params["draft"]
    await call(act, visitor.console.app, draft_id, str(body.get("channel", "")), visitor.person,
               str(body.get("url", "")), body.get("credential") or {})
    return JSONResponse({"redirect": f"/drafts/{draft_id}"})
