"""The console's security choices, in one place.

- Sessions: a random token in a cookie `publish_session` that is `HttpOnly` (no script
  reads it), `SameSite=Strict` (no other site's page sends it) and `Secure` (only over
  TLS; run the console behind a TLS proxy). The log keeps only its sha256, with the
  expiry (`[console] session_hours`); every server of one store sees the same sessions.
- CSRF: every state-changing request (any method but GET/HEAD) must carry the token
  `X-CSRF-Token` (htmx and the passkey script send it as a header; plain forms as the
  `csrf` field) equal to sha256("csrf" + the session token), or for a visitor not yet
  logged in, of the pre-session cookie. Another site can neither read the page that
  holds it nor send our cookies (SameSite=Strict): a forged request is refused 403.
  The one exception is a route declared `csrf=False`: a platform's webhook, which has no
  cookie and is authenticated by the platform's signature instead (`web.hook_pages`).
- Login: at most `LOGIN_ATTEMPTS` passkey answers per client address per 10 minutes,
  then 429. The attempts are counted in the store (`Store.attempt`: a table outside the
  chain), so every console server of one log shares the count and a restart does not
  reset it.
- After login the browser goes to `next` only when it is a path on the console itself
  (`console_path`); anything else goes to the home page.
- Headers: a Content-Security-Policy allowing only this origin's scripts and styles (no
  inline script, no eval, no framing), `X-Content-Type-Options: nosniff`,
  `Referrer-Policy: no-referrer` (enrolment links carry their token), no caching.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any, MutableMapping
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

SESSION_COOKIE = "publish_session"
PRE_COOKIE = "publish_pre"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_ATTEMPTS = 10
LOGIN_WINDOW = timedelta(minutes=10)

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def csrf_token(request: Request) -> str:
    basis = request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRE_COOKIE) or request.state.pre
    return hashlib.sha256(f"csrf\n{basis}".encode()).hexdigest()


async def csrf_ok(request: Request) -> bool:
    if request.method in SAFE_METHODS:
        return True
    if not (request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRE_COOKIE)):
        return False
    sent: str | None = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = str((await request.form()).get("csrf", ""))
    return bool(sent and hmac.compare_digest(sent, csrf_token(request)))


def set_cookie(response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict")


class SecurityHeaders:
    """ASGI middleware: the headers above on every answer, and a pre-session cookie for
    a visitor who has none (the CSRF basis before login)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        pre = None
        if not request.cookies.get(SESSION_COOKIE) and not request.cookies.get(PRE_COOKIE):
            pre = secrets.token_urlsafe(24)
        scope.setdefault("state", {})["pre"] = pre

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.decode().lower() for k, _ in headers}
                headers += [(key.encode(), value.encode()) for key, value in HEADERS.items() if key not in present]
                if pre:
                    cookie = Response()
                    set_cookie(cookie, PRE_COOKIE, pre, None)
                    headers += [(k, v) for k, v in cookie.raw_headers if k == b"set-cookie"]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RateLimit:
    """At most `limit` attempts per key in a sliding window, counted in the workspace's
    store: every server of one log, and every restart, sees the same count."""

    def __init__(self, app: Any, limit: int = LOGIN_ATTEMPTS, window: timedelta = LOGIN_WINDOW):
        self.app, self.limit, self.window = app, limit, window

    def allow(self, key: str) -> bool:
        """Count one attempt under `key`; False (nothing counted) when the limit is reached."""
        return bool(self.app.store.attempt(f"login\n{key}", self.limit, self.window))


def console_path(wanted: str | None) -> str:
    """`wanted` when it is a path on the console itself, else the home page `/`.

    A path on the console: printable ASCII without spaces (no control character, no
    look-alike letter), starting with `/`, with no `//` and no backslash anywhere (a
    browser reads `/\\host` as `//host`), and with neither a scheme nor a host once
    parsed; the same holds for its percent-decoded form, so an encoded `//` or `\\`
    cannot pass either."""
    if not wanted:
        return "/"
    for form in (wanted, unquote(wanted)):
        if not all("!" <= char <= "~" for char in form) or "\\" in form:
            return "/"
        if not form.startswith("/") or "//" in form:
            return "/"
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return "/"
    return wanted


def refused(status: int, text: str) -> Response:
    return PlainTextResponse(text, status_code=status)
