"""Enrolment (from a one-time link), login and logout by passkey."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

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
    return visitor.console.page(request, visitor, "enrol.html", invited=invitation.person,
                                token=request.path_params["token"])


@route("/enrol/{token}/options", None, ("POST",))
async def enrol_options(request: Request, visitor: Visitor) -> Response:
    return JSONResponse(await call(people.enrolment_options, visitor.console.app, request.path_params["token"]))


@route("/enrol/{token}", None, ("POST",))
async def enrol(request: Request, visitor: Visitor) -> Response:
    key = await call(people.enrol, visitor.console.app, request.path_params["token"], await json_body(request))
    return JSONResponse({"redirect": "/login", "person": key.person})


def _next(request: Request) -> str:
    return security.console_path(request.query_params.get("next"))
