"""The route table: every console route with the permission it needs, declared next to
its handler with `route(path, action)` (`action` None: open to a visitor), and what a
handler receives about who is asking."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from publisher.errors import Refused
from publisher.i18n import _
from publisher.incident.authority import may

Handler = Callable[[Request, "Visitor"], Awaitable[Response]]


@dataclass(frozen=True)
class RouteSpec:
    path: str
    methods: tuple[str, ...]
    action: str | None
    handler: Handler
    name: str
    csrf: bool = True
    """False only for a route the platform authenticates itself (a signed webhook)."""


ROUTES: list[RouteSpec] = []


def route(path: str, action: str | None, methods: tuple[str, ...] = ("GET",),
          csrf: bool = True) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append(RouteSpec(path, methods, action, handler, handler.__name__, csrf))
        return handler
    return register


@dataclass(frozen=True)
class Visitor:
    """Who is asking: the person and their session (None for a visitor), the console."""
    person: str | None
    session: Any
    console: Any
    language: str

    def may(self, action: str) -> bool:
        return may(self.console.app, self.person, action)


async def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a core function (blocking: SQLite, the network) off the event loop."""
    return await run_in_threadpool(function, *args, **kwargs)


async def json_body(request: Request) -> dict:
    """The request's JSON object; anything else is refused with one sentence (a 4xx)."""
    try:
        body = await request.json()
    except ValueError:
        raise Refused(_("the request body is not JSON.")) from None
    if not isinstance(body, dict):
        raise Refused(_("the request body is not a JSON object."))
    return body
