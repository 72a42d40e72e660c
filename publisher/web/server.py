"""The console's frame: one `Console` per server over one workspace `App`, the route
table with each route's permission, the session lookup and the page rendering.

Every route is declared with `route(path, action)`: `action` is what `authority.may`
must allow (None: open to a visitor). The guard runs before the handler: CSRF for
every state change, a live session, the permission (from the log's cabinet; a state
change is refused while the config's lists of people differ from it). Handlers are thin: they call one
core function and map its named errors (`BadInput`, `Refused`) to a page or a JSON
`{"error": ...}` with status 400/409.

The console's language is `?lang=es|en` (kept in a cookie), else the organisation's;
the translations are the interface's one catalogue (`publisher.i18n`), and a string
with no translation is shown in English, never dropped."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Awaitable, Callable

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from channels.heard_text import clean_line, clean_text
from publisher.errors import PublishError
from publisher.evidence.awaiting import time_left
from publisher.evidence.report_words import verdict_word
from publisher.evidence.state_words import state_word
from publisher.incident import people, roster
from publisher.incident.authority import roles_of
from publisher.timeparse import for_people, from_iso
from publisher.web import security
from publisher.web.routing import ROUTES, RouteSpec, Visitor
from publisher.i18n import LANGUAGES, _, speaking, translator

HERE = Path(__file__).resolve().parent
LANG_COOKIE = "publish_lang"


class SessionIndex:
    """Sessions from the log, read incrementally (one indexed query per request); each
    one found is alive only while the log's cabinet still counts its passkey and person
    (`people.session_alive`), so a revocation on any server ends it here at once."""

    def __init__(self) -> None:
        self.after = 0
        self.by_hash: dict[str, people.ConsoleSession] = {}
        self._lock = threading.Lock()

    def refresh(self, app: Any) -> None:
        with self._lock:
            for event in people.sessions(app, self.after):
                self.after = max(self.after, event.seq)
                data = event.data
                if event.kind == "console.login":
                    self.by_hash[data["session_hash"]] = people.ConsoleSession(
                        event.actor or "", data["session_hash"], from_iso(data["expires"]),
                        str(data.get("credential_id")))
                else:
                    self.by_hash.pop(str(data.get("session_hash")), None)

    def find(self, app: Any, token: str | None) -> people.ConsoleSession | None:
        if not token:
            return None
        self.refresh(app)
        return people.session_alive(app, self.by_hash.get(people.digest(token)))


class Console:
    def __init__(self, app: Any, on_approved: Callable[[str, str], None] | None = None):
        self.app = app
        self.sessions = SessionIndex()
        self.logins = security.RateLimit(app)
        self.on_approved = on_approved
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                                     autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
        self.templates.filters["local"] = self.local_time
        self.templates.filters["state"] = state_word
        self.templates.filters["verdict"] = verdict_word
        self.templates.globals["time_left"] = time_left
        self.templates.filters["line"] = clean_line
        self.templates.filters["text"] = clean_text
        self.templates.filters["href"] = web_address
        self.templates.filters["heard_time"] = self.heard_time

    def local_time(self, moment: Any) -> str:
        """A time in the organisation's time zone (UTC when none is configured)."""
        return for_people(moment, self.app.config.timezone)

    def heard_time(self, moment: Any) -> str:
        """A source's time like `local_time`; one no parser reads is shown as text, as sent."""
        try:
            return self.local_time(moment)
        except (ValueError, TypeError, OverflowError):
            return clean_line(str(moment), 60)

    async def visitor(self, request: Request) -> Visitor:
        token = request.cookies.get(security.SESSION_COOKIE)
        found = await run_in_threadpool(self.sessions.find, self.app, token) if token else None
        language = choose_language(request, self.app.config.language)
        return Visitor(found.person if found else None, found, self, language)

    def page(self, request: Request, visitor: Visitor, template: str, status_code: int = 200, **context: Any) -> Response:
        gettext = translator(visitor.language)
        html = self.templates.get_template(template).render(
            _=gettext, request=request, visitor=visitor, csrf=security.csrf_token(request),
            roles=roles_of(self.app, visitor.person), organisation=self.app.config.organisation,
            language=visitor.language, path=request.url.path, practice=self.practice(), **context)
        response = HTMLResponse(html, status_code=status_code)
        if request.query_params.get("lang") == visitor.language:
            response.set_cookie(LANG_COOKIE, visitor.language, max_age=365 * 86400, secure=True, httponly=True,
                                samesite="strict")
        return response

    def practice(self) -> str | None:
        """The practice line every page shows above its header, in a practice workspace."""
        from publisher.workspace.practice import notice

        return notice() if self.app.config.practice else None

    def guarded(self, spec: RouteSpec) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if spec.csrf and not await security.csrf_ok(request):
                return security.refused(403, _("Refused: this request has no valid CSRF token (reload the page)."))
            visitor = await self.visitor(request)
            speaking(visitor.language)
            if spec.action is not None:
                if visitor.person is None:
                    if request.method in ("GET", "HEAD"):
                        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
                    return security.refused(401, _("Log in first."))
                if not visitor.may(spec.action):
                    return self.page(request, visitor, "refused.html", status_code=403, action=spec.action)
            try:
                if spec.action is not None and request.method == "POST":
                    await run_in_threadpool(roster.checked, self.app)
                return await spec.handler(request, visitor)
            except PublishError as error:
                return self.failure(request, visitor, str(error), error)
        return endpoint

    def failure(self, request: Request, visitor: Visitor, message: str, error: PublishError) -> Response:
        status = 400 if type(error).__name__ == "BadInput" else 409
        message = self.app.redact(message)
        if "application/json" in request.headers.get("accept", "") or \
                request.headers.get("content-type", "").startswith("application/json"):
            return JSONResponse({"error": message}, status_code=status)
        return self.page(request, visitor, "refused.html", status_code=status, message=message)


def web_address(url: object) -> str | None:
    """A source's address when it is one a link may point to (http or https), else None."""
    text = str(url or "").strip()
    return text if text.lower().startswith(("https://", "http://")) and not any(
        ord(char) < 33 for char in text) else None


def choose_language(request: Request, default: str) -> str:
    for wanted in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if wanted is not None and wanted in LANGUAGES:
            return wanted
    return default if default in LANGUAGES else "en"


def create_app(app: Any, on_approved: Callable[[str, str], None] | None = None) -> Starlette:
    """The ASGI application of the console over an opened workspace `App` (telling the
    internal channels about new drafts and reminders is the worker's job)."""
    from publisher.web import (auth_pages, draft_pages, hook_pages, inbox_pages, incident_pages,  # noqa: F401
                               log_pages, notice_pages, people_pages, phone_pages)

    console = Console(app, on_approved)
    routes: list[Any] = [Route(spec.path, console.guarded(spec), methods=list(spec.methods), name=spec.name)
                         for spec in ROUTES]
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))
    web = Starlette(routes=routes)
    web.state.console = console
    return security.SecurityHeaders(web)  # type: ignore[return-value]
