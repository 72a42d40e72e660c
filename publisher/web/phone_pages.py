"""The console on a phone: its web app manifest, its service worker (which shows a Web
Push notice and opens its link), and `/phone`, where a signed-in member subscribes this
phone to notices or ends a subscription (thin: `publisher.incident.push_subscriptions`
keeps them in the log; `publisher.delivery.webpush` holds the VAPID key)."""
from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from publisher.delivery import webpush
from publisher.i18n import _
from publisher.incident import push_subscriptions
from publisher.web.routing import Visitor, call, json_body, route

STATIC = Path(__file__).resolve().parent / "static"


@route("/manifest.webmanifest", None)
async def manifest(request: Request, visitor: Visitor) -> Response:
    app = visitor.console.app
    body = {"name": _("Crisis console · {organisation}").format(organisation=app.config.organisation),
            "short_name": _("Crisis console"), "start_url": "/", "scope": "/", "display": "standalone",
            "lang": visitor.language, "background_color": "#ffffff", "theme_color": "#1d3557",
            "icons": [{"src": "/static/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"}]}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json")


@route("/sw.js", None)
async def service_worker(request: Request, visitor: Visitor) -> Response:
    return Response((STATIC / "sw.js").read_text(encoding="utf-8"), media_type="text/javascript",
                    headers={"service-worker-allowed": "/"})


@route("/phone", "view")
async def phone_page(request: Request, visitor: Visitor) -> Response:
    app = visitor.console.app
    key = await call(webpush.public_key, app)
    mine = await call(push_subscriptions.current, app, visitor.person)
    return visitor.console.page(request, visitor, "phone.html", vapid_key=key, subscriptions=mine)


@route("/phone/subscribe", "view", ("POST",))
async def subscribe(request: Request, visitor: Visitor) -> Response:
    body = await json_body(request)
    await call(push_subscriptions.subscribe, visitor.console.app, visitor.person, body.get("subscription"),
               str(body.get("device") or ""))
    return JSONResponse({"redirect": "/phone"})


@route("/phone/unsubscribe", "view", ("POST",))
async def unsubscribe(request: Request, visitor: Visitor) -> Response:
    form = await request.form()
    await call(push_subscriptions.unsubscribe, visitor.console.app, str(form.get("endpoint") or ""),
               "ended by its person", visitor.person)
    return RedirectResponse("/phone", status_code=303)
