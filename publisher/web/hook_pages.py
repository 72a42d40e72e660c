"""Webhooks platforms push to: `/hooks/facebook`, Facebook's `feed` webhook.

No login and no CSRF token: Facebook has neither. Served by the console and by
`publish serve --public` (`publisher.web.public`). The check instead is the platform's
own: the subscription challenge needs the configured verify token, and a delivery is
stored only when `X-Hub-Signature-256` proves the app secret signed its exact bytes
(`channels.facebook_hook`, `publisher.delivery.hooked`). The body is read up to
`MAX_BODY` bytes and refused (413) past that; a refusal is one sentence and stores nothing.
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from publisher.i18n import N_, _
from publisher.web import security
from publisher.web.routing import Visitor, call, route

REFUSALS = {
    "not-subscribe": N_("This is not a webhook subscription check (hub.mode must be subscribe)."),
    "no-token": N_("No Facebook source here sets a verify_token, so no subscription is confirmed."),
    "wrong-token": N_("The hub.verify_token does not match the configured verify_token."),
    "bad-challenge": N_("The hub.challenge is missing or is not a short plain token."),
    "no-secret": N_("No Facebook source here sets an app_secret, so no delivery can be checked."),
    "unsigned": N_("The request has no valid X-Hub-Signature-256 header; nothing was stored."),
    "forged": N_("The X-Hub-Signature-256 signature does not match the body; nothing was stored."),
    "not-json": N_("The delivery is not JSON; nothing was stored."),
    "not-notification": N_("The delivery is not a webhook notification; nothing was stored."),
}


@route("/hooks/facebook", None, methods=("GET", "POST"), csrf=False)
async def facebook_hook(request: Request, visitor: Visitor) -> Response:
    return await answer_facebook(visitor.console.app, request)


async def answer_facebook(app: Any, request: Request) -> Response:
    """Facebook's challenge or delivery answered for the opened workspace `app` (the
    console's route, and `publish serve --public`'s)."""
    from channels.facebook_hook import MAX_BODY, SIGNATURE_HEADER, HookRefused
    from publisher.delivery.hooked import facebook_challenge, receive_facebook

    try:
        if request.method == "GET":
            answer = await call(facebook_challenge, app, dict(request.query_params))
            return PlainTextResponse(answer)
        body = await _bounded(request, MAX_BODY)
        if body is None:
            return security.refused(413, _("The delivery is larger than {size} bytes; nothing was stored.").format(
                size=MAX_BODY))
        new = await call(receive_facebook, app, body, request.headers.get(SIGNATURE_HEADER))
    except HookRefused as refused:
        return security.refused(refused.status, _(REFUSALS[refused.code]))
    return PlainTextResponse(_("Received: {count} new item(s).").format(count=new))


async def _bounded(request: Request, limit: int) -> bytes | None:
    """The request body, or None once it passes `limit` bytes (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
