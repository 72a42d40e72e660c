"""The cabinet on the console: its people and roles, the changes waiting for
signatures, and the passkeys waiting for an approver's confirmation; an approver adds,
changes and removes people, co-signs a waiting change and sets the quorum there, each
signed by passkey through the same core functions as `publish people` (thin: the checks
and the records are `publisher.delivery.signed_actions` and `membership`'s)."""
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
                                unconfirmed=list(made.unconfirmed.values()), quorum=made.required)


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


CABINET_FIELDS = ("name", "role", "email", "telegram", "slack", "change", "required")


def _cabinet_signing(action: str, path: str) -> None:
    """POST <path>/options and <path>: a change of the cabinet signed by passkey; the
    path's own parameters (a person's name, a change) win over the form's."""
    async def options(request: Request, visitor: Visitor) -> Response:
        from publisher.delivery.signed_actions import options as make_options

        fields = {**await json_body(request), **request.path_params}
        return JSONResponse(await call(make_options, visitor.console.app, action, visitor.person, fields))

    async def submit(request: Request, visitor: Visitor) -> Response:
        from publisher.delivery.signed_actions import act

        body = await json_body(request)
        fields = {key: body.get(key) for key in CABINET_FIELDS} | dict(request.path_params)
        await call(act, visitor.console.app, action, visitor.person, fields, credential=body.get("credential") or {})
        return JSONResponse({"redirect": "/people"})

    options.__name__, submit.__name__ = f"{action.replace('-', '_')}_options", action.replace("-", "_")
    route(f"{path}/options", "people", ("POST",))(options)
    route(path, "people", ("POST",))(submit)


_cabinet_signing("people-add", "/people/add")
_cabinet_signing("people-quorum", "/people/quorum")
_cabinet_signing("people-remove", "/people/{name}/remove")
_cabinet_signing("people-approve", "/people/changes/{change}/approve")
