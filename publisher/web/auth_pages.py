"""Enrolment (from a one-time link, naming the device), what became of an enrolled
passkey, login and logout by passkey."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from publisher.errors import Refused
from publisher.incident import people
from publisher.web import security
from publisher.web.routing import Visitor, call, json_body, route
from publisher.i18n import _


@route("/login", None)
async def login_page(request: Request, visitor: Visitor) -> Response:
    if visitor.person:
        return RedirectResponse("/", status_code=303)
    return visitor.console.page(request, visitor, "login.html", next=_next(request))


@route("/login/options", None, ("POST",))
async def login_options(request: Request, visitor: Visitor) -> Response:
    return JSONResponse(await call(people.login_options, visitor.console.app))


@route("/login", None, ("POST",))
async def login(request: Request, visitor: Visitor) -> Response:
    client = request.client.host if request.client else "?"
    if not await call(visitor.console.logins.allow, client):
        return JSONResponse({"error": _("Too many login attempts; wait 10 minutes.")}, status_code=429)
    token, opened = await call(people.login, visitor.console.app, await json_body(request))
    response = JSONResponse({"redirect": _next(request), "person": opened.person})
    max_age = int(visitor.console.app.config.console_session_hours * 3600)
    security.set_cookie(response, security.SESSION_COOKIE, token, max_age)
    response.delete_cookie(security.PRE_COOKIE, path="/")
    return response


@route("/logout", "view", ("POST",))
async def logout(request: Request, visitor: Visitor) -> Response:
    if visitor.session:
        await call(people.logout, visitor.console.app, visitor.session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(security.SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@route("/enrol/{token}", None)
async def enrol_page(request: Request, visitor: Visitor) -> Response:
    invitation = await call(people.open_invite, visitor.console.app, request.path_params["token"])
    return visitor.console.page(request, visitor, "enrol.html", invited=invitation.name,
                                token=request.path_params["token"])


@route("/enrol/{token}/options", None, ("POST",))
async def enrol_options(request: Request, visitor: Visitor) -> Response:
    return JSONResponse(await call(people.enrolment_options, visitor.console.app, request.path_params["token"]))


@route("/enrol/{token}", None, ("POST",))
async def enrol(request: Request, visitor: Visitor) -> Response:
    body = await json_body(request)
    credential = body.get("credential")
    if not isinstance(credential, dict):
        raise Refused(_("the passkey answer is malformed."))
    key = await call(people.enrol, visitor.console.app, request.path_params["token"], credential, body.get("device"))
    return JSONResponse({"redirect": f"/enrolled/{key.credential_id}", "person": key.person,
                         "fingerprint": key.fingerprint})


@route("/enrolled/{credential}", None)
async def enrolled_page(request: Request, visitor: Visitor) -> Response:
    found = await call(people.enrolled, visitor.console.app, request.path_params["credential"])
    if found is None:
        raise Refused(_("this passkey is not enrolled here (or was revoked)."))
    key, counts = found
    return visitor.console.page(request, visitor, "enrolled.html", key=key, counts=counts)


def _next(request: Request) -> str:
    return security.console_path(request.query_params.get("next"))
