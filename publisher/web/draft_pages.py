"""A draft: per-platform previews, changes, approvals, signing by passkey, delivery progress."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

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
    """POST /drafts/{draft}/<action>/options and /<action>: signed by passkey."""
    async def options(request: Request, visitor: Visitor) -> Response:
        from publisher.delivery.signed_actions import options as make_options

        fields = {**await json_body(request), "draft": request.path_params["draft"]}
        return JSONResponse(await call(make_options, visitor.console.app, action, visitor.person, fields))

    async def submit(request: Request, visitor: Visitor) -> Response:
        from publisher.delivery.signed_actions import act

        body = await json_body(request)
        draft_id = request.path_params["draft"]
        fields = {key: body.get(key) for key in ("reason", "channel", "url")} | {"draft": draft_id}
        if action == "approve":
            return await approve_and_send(visitor.console, visitor.person or "", fields,
                                          body.get("credential") or {})
        from publisher.delivery.resume import in_background

        done = await call(act, visitor.console.app, action, visitor.person, fields,
                          credential=body.get("credential") or {}, run=in_background)
        return JSONResponse({"redirect": f"/drafts/{draft_id}"} | ({"status": done.status} if action == "reject" else {}))

    options.__name__, submit.__name__ = f"{action}_options", action
    route(f"/drafts/{{draft}}/{action}/options", action, ("POST",))(options)
    route(f"/drafts/{{draft}}/{action}", action, ("POST",))(submit)


async def approve_and_send(console: Any, actor: str, fields: dict[str, Any], credential: dict[str, Any]) -> Response:
    """Approve with a passkey, then send unless frozen (`publisher.delivery.approve`):
    the answer says what was decided (a refusal to send is an error the page shows);
    the channels are sent in the background while the page polls their progress."""
    from publisher.delivery.approve import decided_then_in_background, decision_sentence
    from publisher.delivery.signed_actions import act

    draft_id = fields["draft"]

    def then(approval: Any) -> None:
        if console.on_approved and approval.outcomes is not None:
            console.on_approved(draft_id, actor)

    approval = await call(decided_then_in_background,
                          lambda announce: act(console.app, "approve", actor, fields, credential=credential, announce=announce),
                          then, f"deliver-{draft_id}")
    said = decision_sentence(approval, console.app.config.timezone)
    if approval.refused is not None:
        return JSONResponse({"error": said, "result": approval.result, "status": approval.record.status},
                            status_code=409)
    return JSONResponse({"redirect": f"/drafts/{draft_id}", "status": approval.record.status,
                         "result": approval.result, "message": said})


for _action in ("approve", "reject", "confirm", "send", "retry"):
    _signing_routes(_action)
