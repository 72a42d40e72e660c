"""The cabinet on the console: its people and roles, the changes waiting for
signatures, and the passkeys waiting for an approver's confirmation (signed by passkey)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from publisher.incident.roster import cabinet
from publisher.web.routing import Visitor, call, json_body, route


@route("/people", "view")
async def people_page(request: Request, visitor: Visitor) -> Response:
    from publisher.incident.membership import describe

    made = await call(cabinet, visitor.console.app)
    waiting = [(change, describe(change)) for change in made.pending.values()]
    return visitor.console.page(request, visitor, "people.html", people=sorted(made.people.values(),
                                key=lambda person: person.name), waiting=waiting,
                                unconfirmed=list(made.unconfirmed.values()))


@route("/people/{name}/confirm/options", "people", ("POST",))
async def confirm_passkey_options(request: Request, visitor: Visitor) -> Response:
    from publisher.delivery.signed_actions import options

    fields = {**await json_body(request), "name": request.path_params["name"]}
    return JSONResponse(await call(options, visitor.console.app, "confirm-passkey", visitor.person, fields))


@route("/people/{name}/confirm", "people", ("POST",))
async def confirm_passkey(request: Request, visitor: Visitor) -> Response:
    from publisher.delivery.signed_actions import act

    body = await json_body(request)
    fields = {"fingerprint": body.get("fingerprint"), "name": request.path_params["name"]}
    await call(act, visitor.console.app, "confirm-passkey", visitor.person, fields,
               credential=body.get("credential") or {})
    return JSONResponse({"redirect": "/people"})
