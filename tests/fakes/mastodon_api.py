"""A fake Mastodon server on loopback, answering like Mastodon's REST API.

`POST /api/v1/statuses` takes form or JSON fields, needs `Authorization: Bearer`, and
honours `Idempotency-Key` the way Mastodon does (PostStatusService): a key already used
by the account returns the status it created, with 200, without posting again. Text
over the server's limit is a 422, an unknown `in_reply_to_id` a 404, a bad token a 401,
with Mastodon's `{"error": ...}` bodies. `GET /api/v1/accounts/verify_credentials`
returns the account. Rate-limit headers carry an ISO 8601 reset time, as Rack::Attack
and RateLimitHeaders send it. Canned replies for forced cases are at the bottom.
"""
from __future__ import annotations

import itertools
import re
import threading
import time
from datetime import datetime, timedelta, timezone

from tests.fakes.server import FakeServer, Reply, Request

JSON = {"Content-Type": "application/json; charset=utf-8"}
URL_IN_TEXT = re.compile(r"https?://\S+")


def iso(moment: datetime, digits: int = 3) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")[: 20 + digits].rstrip(".") + "Z"


class FakeMastodon(FakeServer):
    def __init__(self, token: str, username: str = "acme", max_characters: int = 500):
        super().__init__(self._answer)
        self.token = token
        self.username = username
        self.max_characters = max_characters
        self.statuses: dict[str, dict] = {}
        self.keys: dict[str, str] = {}
        self.slow_next = 0.0
        self._ids = itertools.count(int(time.time() * 1000) << 16)
        self._state = threading.Lock()

    def slow_once(self, seconds: float) -> None:
        """Create the next status normally but answer only after `seconds`."""
        self.slow_next = seconds

    def seed(self, text: str = "an earlier post") -> str:
        status = self._store(text, None, "public")
        return status["id"]

    def _answer(self, request: Request) -> Reply:
        if request.header("Authorization") != f"Bearer {self.token}":
            return Reply(401, {"error": "The access token is invalid"}, headers=dict(JSON))
        if request.method == "POST" and request.path == "/api/v1/statuses":
            return self._post(request)
        if request.method == "GET" and request.path.startswith("/api/v1/statuses/"):
            found = self.statuses.get(request.path.rsplit("/", 1)[-1])
            if found is not None:
                return Reply(200, found, headers=dict(JSON))
        if request.method == "GET" and request.path == "/api/v1/accounts/verify_credentials":
            return Reply(200, self._account(), headers={**JSON, **rate_headers(299)})
        return Reply(404, {"error": "Record not found"}, headers=dict(JSON))

    def _post(self, request: Request) -> Reply:
        fields = request.json() if "json" in (request.header("Content-Type") or "") else request.form()
        text = str(fields.get("status") or "")
        key = request.header("Idempotency-Key")
        with self._state:
            if key and key in self.keys:
                return Reply(200, self.statuses[self.keys[key]], headers={**JSON, **rate_headers(298)})
            if not text.strip():
                return Reply(422, {"error": "Validation failed: Text can't be blank"}, headers=dict(JSON))
            if len(URL_IN_TEXT.sub("x" * 23, text)) > self.max_characters:
                return Reply(422, {"error": f"Validation failed: Text character limit of {self.max_characters} "
                                            "exceeded"}, headers=dict(JSON))
            reply_to = fields.get("in_reply_to_id")
            if reply_to and str(reply_to) not in self.statuses:
                return Reply(404, {"error": "Record not found"}, headers=dict(JSON))
            status = self._store(text, str(reply_to) if reply_to else None, fields.get("visibility") or "public")
            if key:
                self.keys[key] = status["id"]
            delay, self.slow_next = self.slow_next, 0.0
        return Reply(200, status, headers={**JSON, **rate_headers(298)}, delay=delay)

    def _store(self, text: str, reply_to: str | None, visibility: str) -> dict:
        status_id = str(next(self._ids))
        base = self.url
        status = {
            "id": status_id,
            "created_at": iso(datetime.now(timezone.utc)),
            "in_reply_to_id": reply_to,
            "in_reply_to_account_id": self._account()["id"] if reply_to else None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": visibility,
            "language": "es",
            "uri": f"{base}/users/{self.username}/statuses/{status_id}",
            "url": f"{base}/@{self.username}/{status_id}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "content": f"<p>{text}</p>",
            "reblog": None,
            "account": self._account(),
            "media_attachments": [],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        self.statuses[status_id] = status
        return status

    def _account(self) -> dict:
        return {"id": "109302436954721982", "username": self.username, "acct": self.username,
                "display_name": "Acme", "url": f"{self.url}/@{self.username}"}


def rate_headers(remaining: int, limit: int = 300, period: int = 300) -> dict[str, str]:
    now = datetime.now(timezone.utc)
    reset = now + timedelta(seconds=period - int(now.timestamp()) % period)
    return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": iso(reset.replace(microsecond=now.microsecond), 6)}


def too_many_requests(reset_in: float = 90) -> Reply:
    reset = datetime.now(timezone.utc) + timedelta(seconds=reset_in)
    return Reply(429, {"error": "Too many requests"},
                 headers={**JSON, "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                          "X-RateLimit-Reset": iso(reset, 6)})


def not_allowed() -> Reply:
    return Reply(403, {"error": "This action is not allowed"}, headers=dict(JSON))


def temporary_problem() -> Reply:
    return Reply(503, {"error": "There was a temporary problem serving your request, please try again"},
                 headers=dict(JSON))


def bad_gateway() -> Reply:
    html = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
            "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
    return Reply(502, html, headers={"Content-Type": "text/html"})
