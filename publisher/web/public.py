"""The public face of `publish serve --public`: what anyone may read, without a login.

Guarantees:
- `PUBLIC_ROUTES` is the one list of what is served to the public; nothing else is
  (every other path is a 404: no console page, no login page, no static file). A route
  for the public (a platform's webhook, say) is one more line in that list.
- The statements page and its feed are rendered from the log (`site_build.site_files`),
  the same bytes as `publish site build` writes on any machine of the cabinet, rendered
  again only when the log's head moved.
- Answers carry no cookie and a strict Content-Security-Policy (the pages' own inline
  style, nothing else), and are never framed.
"""
from __future__ import annotations

import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from publisher.web.routing import call

HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                                      "frame-ancestors 'none'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
           "Cache-Control": "no-cache"}
TYPES = {".html": "text/html; charset=utf-8", ".xml": "application/atom+xml; charset=utf-8"}


class Site:
    """One site channel's files from the log, rendered again when the head moves."""

    def __init__(self, app: Any, channel: str | None):
        from publisher.delivery.site_build import channel_of_type

        self.app = app
        self.channel = channel_of_type(app, "site", channel)
        self._lock = threading.Lock()
        self._head: tuple[int, str] | None = None
        self._files: dict[str, str] = {}

    def file(self, relative: str) -> str | None:
        from publisher.delivery.site_build import site_files

        with self._lock:
            head = self.app.store.head()
            if head != self._head:
                self._files = site_files(self.app, self.channel)[1]
                self._head = head
            return self._files.get(relative)


async def _serve(request: Request, relative: str) -> Response:
    site: Site = request.app.state.site
    content = await call(site.file, relative)
    if content is None:
        return PlainTextResponse("Not Found", status_code=404, headers=HEADERS)
    kind = TYPES[relative[relative.rfind("."):]]
    return Response(content.encode("utf-8"), media_type=kind, headers=HEADERS)


async def statements_index(request: Request) -> Response:
    return await _serve(request, "index.html")


async def statements_feed(request: Request) -> Response:
    return await _serve(request, "feed.xml")


async def statement_page(request: Request) -> Response:
    page = str(request.path_params["page"])
    if not page.endswith(".html") or "/" in page:
        return PlainTextResponse("Not Found", status_code=404, headers=HEADERS)
    return await _serve(request, f"statements/{page}")


async def facebook_hook(request: Request) -> Response:
    from publisher.web.hook_pages import answer_facebook

    return await answer_facebook(request.app.state.workspace, request)


PUBLIC_ROUTES = [
    Route("/hooks/facebook", facebook_hook, methods=["GET", "POST"]),
    Route("/statements/", statements_index, methods=["GET", "HEAD"]),
    Route("/statements/feed.xml", statements_feed, methods=["GET", "HEAD"]),
    Route("/statements/statements/{page}", statement_page, methods=["GET", "HEAD"]),
]


async def _not_found(request: Request, error: Exception) -> Response:
    return PlainTextResponse("Not Found", status_code=404, headers=HEADERS)


def create_public_app(app: Any, channel: str | None = None) -> Starlette:
    """The ASGI application serving `PUBLIC_ROUTES` over an opened workspace `App`; the
    statements are those of site channel `channel` (default the only one)."""
    web = Starlette(routes=PUBLIC_ROUTES, exception_handlers={404: _not_found, 405: _not_found})
    web.state.workspace = app
    web.state.site = Site(app, channel)
    return web
