"""A fake Mastodon server on loopback, answering like Mastodon's REST API.

`POST /api/v1/statuses` takes form or JSON fields, needs `Authorization: Bearer`, and
honours `Idempotency-Key` the way Mastodon does: a key already used by the account
within the last hour returns the status it created, with 200, without posting again;
after that hour the key is forgotten and the same request posts again. Sources: the API
documentation (docs.joinmastodon.org/methods/statuses/#create, "Idempotency keys are
stored for up to 1 hour") and PostStatusService (`redis.setex(idempotency_key, 3_600,
@status.id)`, written once the status is created). The server's clock is the test's to
move (`advance`): the keys' hour and every `created_at` follow it.

A status's `content` is rendered from its text as Mastodon's TextFormatter does: the text
HTML-escaped, paragraphs (a blank line) as `<p>`, a line break as `<br />`, each URL a
link whose text is split into invisible and visible spans, `@user@domain` mentions as
h-card links showing `@user`. `GET /api/v1/accounts/:id/statuses` lists the account's
statuses newest first, `limit` (20, at most 40) at a time, older ones through `max_id`
(docs.joinmastodon.org/methods/accounts/#statuses), with the `Link` header Mastodon
sends. Text over the server's limit is a 422, an unknown `in_reply_to_id` a 404, a bad
token a 401, with Mastodon's `{"error": ...}` bodies. `GET
/api/v1/accounts/verify_credentials` returns the account. Rate-limit headers carry an ISO
8601 reset time, as Rack::Attack and RateLimitHeaders send it. Canned replies for forced
cases are at the bottom.

Listening: `hear(...)` puts another account's status on the server (a mention of the
account makes a `mention` notification, with its own id sequence as Mastodon's
notifications table has). `GET /api/v1/notifications` (types[], exclude_types[], limit
40 up to 80), `GET /api/v1/timelines/tag/:hashtag` (limit 20 up to 40) page like
Mastodon's `Paginable#paginate_by_id`: newest first under `max_id` and over `since_id`,
or, with `min_id`, the page immediately above it (still newest first), with the `Link`
header's `next` (`max_id` of the page's oldest) and `prev` (`min_id` of its newest),
left out for an empty page (docs.joinmastodon.org/api/guidelines/#pagination).
`GET /api/v2/search?type=statuses` answers `{accounts, statuses, hashtags}` with the
statuses whose text holds the words, newest first, `min_id`/`max_id` as a range filter
and no Link header (StatusesSearchService with Elasticsearch). `expire_token()` makes
the token answer 401 "The access token expired" as Doorkeeper says it.
"""
from __future__ import annotations

import html
import itertools
import re
import threading
import time
import zlib
from datetime import datetime, timedelta, timezone

from tests.fakes.server import FakeServer, Reply, Request

JSON = {"Content-Type": "application/json; charset=utf-8"}
URL_IN_TEXT = re.compile(r"https?://\S+")
MENTION = re.compile(r"(?<![\w/])@(?P<user>[A-Za-z0-9_]+)@(?P<domain>[A-Za-z0-9.-]+\.[A-Za-z]{2,})")
KEY_SECONDS = 3600
ACCOUNT_ID = "109302436954721982"


def iso(moment: datetime, digits: int = 3) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")[: 20 + digits].rstrip(".") + "Z"


class FakeMastodon(FakeServer):
    def __init__(self, token: str, username: str = "acme", max_characters: int = 500):
        super().__init__(self._answer)
        self.token = token
        self.username = username
        self.max_characters = max_characters
        self.statuses: dict[str, dict] = {}
        self.deleted: list[str] = []
        self.keys: dict[str, tuple[str, datetime]] = {}
        self.slow_next = 0.0
        self.lose_next = False
        self.offset = timedelta(0)
        self._ids = itertools.count(int(time.time() * 1000) << 16)
        self.public: dict[str, dict] = {}
        self.notifications: list[dict] = []
        self._notification_ids = itertools.count(8_000_000)
        self.expired = False
        self._state = threading.Lock()

    def now(self) -> datetime:
        """The server's clock: the real one moved by `advance`."""
        return datetime.now(timezone.utc) + self.offset

    def advance(self, by: timedelta) -> None:
        self.offset += by

    def slow_once(self, seconds: float) -> None:
        """Create the next status normally but answer only after `seconds`."""
        self.slow_next = seconds

    def lose_answer_once(self) -> None:
        """Create the next status normally, then reset the connection instead of answering."""
        self.lose_next = True

    def seed(self, text: str = "an earlier post", reply_to: str | None = None) -> str:
        status = self._store(text, reply_to, "public")
        return status["id"]

    def expire_token(self) -> None:
        self.expired = True

    def hear(self, text: str, acct: str = "vecina@otra.example", display_name: str = "Vecina",
             reply_to: str | None = None, mention: bool = True, tags: tuple[str, ...] = (),
             content: str | None = None, created_at: str | None = None, filtered: bool = False) -> dict:
        """Another account's status on the server; a mention of the account also makes a
        `mention` notification (`filtered`: one the account's notification policy filters,
        Mastodon 4.3, shown only with `include_filtered=true`). `content` and `created_at`
        replace what Mastodon would render (hostile input)."""
        with self._state:
            status_id = str(next(self._ids))
            username = acct.split("@", 1)[0]
            account = {"id": str(zlib.crc32(acct.encode()) + 10**17), "username": username, "acct": acct,
                       "display_name": display_name, "url": f"https://otra.example/@{username}"}
            status = {
                "id": status_id, "created_at": created_at if created_at is not None else iso(self.now()),
                "in_reply_to_id": reply_to, "in_reply_to_account_id": ACCOUNT_ID if reply_to else None,
                "sensitive": False, "spoiler_text": "", "visibility": "public", "language": "es",
                "uri": f"https://otra.example/users/{username}/statuses/{status_id}",
                "url": f"https://otra.example/@{username}/{status_id}",
                "replies_count": 0, "reblogs_count": 0, "favourites_count": 0,
                "content": content if content is not None else render(text), "edited_at": None, "reblog": None,
                "account": account, "media_attachments": [],
                "mentions": [{"id": ACCOUNT_ID, "username": self.username, "acct": self.username,
                              "url": f"{self.url}/@{self.username}"}] if mention else [],
                "tags": [{"name": tag.lstrip("#").lower(), "url": f"{self.url}/tags/{tag.lstrip('#').lower()}"}
                         for tag in tags],
                "emojis": [], "card": None, "poll": None,
                "_text": text,
            }
            self.public[status_id] = status
            if mention or reply_to:
                self.notifications.append({"id": str(next(self._notification_ids)), "type": "mention",
                                           "created_at": status["created_at"], "account": account,
                                           "status": status, "_filtered": filtered})
        return status

    def _answer(self, request: Request) -> Reply:
        if request.method == "GET" and request.path.startswith("/api/v1/statuses/") \
                and request.header("Authorization") is None:
            return self._public_status(request.path.rsplit("/", 1)[-1])
        if request.header("Authorization") != f"Bearer {self.token}":
            return Reply(401, {"error": "The access token is invalid"}, headers=dict(JSON))
        if self.expired:
            return Reply(401, {"error": "The access token expired"},
                         headers={**JSON, "WWW-Authenticate": 'Bearer realm="Doorkeeper", error="invalid_token", '
                                                             'error_description="The access token expired"'})
        if request.method == "GET" and request.path == "/api/v1/notifications":
            return self._notifications(request)
        if request.method == "GET" and request.path.startswith("/api/v1/timelines/tag/"):
            return self._tag(request)
        if request.method == "GET" and request.path == "/api/v2/search":
            return self._search(request)
        if request.method == "POST" and request.path == "/api/v1/statuses":
            return self._post(request)
        if request.method in ("PUT", "DELETE") and request.path.startswith("/api/v1/statuses/"):
            return self._change(request)
        if request.method == "GET" and request.path.startswith("/api/v1/statuses/"):
            wanted = request.path.rsplit("/", 1)[-1]
            found = self.statuses.get(wanted) or self.public.get(wanted)
            if found is not None:
                return Reply(200, shown(found), headers=dict(JSON))
        if request.method == "GET" and request.path == "/api/v1/accounts/verify_credentials":
            return Reply(200, self._account(), headers={**JSON, **rate_headers(299)})
        if request.method == "GET" and request.path == f"/api/v1/accounts/{ACCOUNT_ID}/statuses":
            return self._timeline(request)
        return Reply(404, {"error": "Record not found"}, headers=dict(JSON))

    def _public_status(self, status_id: str) -> Reply:
        """A public or unlisted status needs no token (docs.joinmastodon.org/methods/statuses/#get:
        "Public for public statuses"); another one is 404 as if it did not exist."""
        found = self.statuses.get(status_id) or self.public.get(status_id)
        if found is None or found["visibility"] not in ("public", "unlisted"):
            return Reply(404, {"error": "Record not found"}, headers=dict(JSON))
        return Reply(200, shown(found), headers={**JSON, **rate_headers(290)})

    def _notifications(self, request: Request) -> Reply:
        """docs.joinmastodon.org/methods/notifications/#get: Notification entities."""
        types = request.query.get("types[]") or []
        excluded = request.query.get("exclude_types[]") or []
        filtered = (request.query.get("include_filtered") or ["false"])[-1] == "true"
        found = [shown(item) for item in self.notifications
                 if (not types or item["type"] in types) and item["type"] not in excluded
                 and (filtered or not item["_filtered"])]
        return self._paged(request, found, 40, 80, "/api/v1/notifications")

    def _tag(self, request: Request) -> Reply:
        """docs.joinmastodon.org/methods/timelines/#tag: public statuses with the hashtag."""
        name = request.path.rsplit("/", 1)[-1].lower()
        found = [shown(status) for status in self.public.values()
                 if any(tag["name"] == name for tag in status["tags"])]
        return self._paged(request, found, 20, 40, request.path)

    def _paged(self, request: Request, found: list[dict], default: int, most: int, path: str) -> Reply:
        asked = {key: values[-1] for key, values in request.query.items()}
        try:
            limit = min(most, max(1, int(asked.get("limit") or default)))
        except ValueError:
            limit = default
        page = paginate_by_id(found, limit, asked.get("max_id"), asked.get("since_id"), asked.get("min_id"))
        headers = {**JSON, **rate_headers(295)}
        if page:
            kept = [f"{key}={value}" for key, values in request.query.items() if key.endswith("[]")
                    for value in values]
            base = f"{self.url}{path}?" + "&".join([*kept, f"limit={limit}"])
            headers["Link"] = (f'<{base}&max_id={page[-1]["id"]}>; rel="next", '
                               f'<{base}&min_id={page[0]["id"]}>; rel="prev"')
        return Reply(200, page, headers=headers)

    def _search(self, request: Request) -> Reply:
        """docs.joinmastodon.org/methods/search/#v2: `{accounts, statuses, hashtags}`;
        statuses whose text holds every word of `q` (a `#tag` word matches the tag),
        newest first, `min_id`/`max_id` filtering the range, `limit` 20 up to 40."""
        asked = {key: values[-1] for key, values in request.query.items()}
        words = str(asked.get("q") or "").lower().split()
        if not words:
            return Reply(200, {"accounts": [], "statuses": [], "hashtags": []}, headers=dict(JSON))
        limit = min(40, max(1, int(asked.get("limit") or 20)))

        def holds(status: dict) -> bool:
            text = status["_text"].lower()
            tags = {tag["name"] for tag in status["tags"]}
            return all(word.lstrip("#") in tags if word.startswith("#") else word in text for word in words)

        found = sorted((status for status in self.public.values() if holds(status)),
                       key=lambda status: int(status["id"]), reverse=True)
        if asked.get("min_id"):
            found = [status for status in found if int(status["id"]) > int(asked["min_id"])]
        if asked.get("max_id"):
            found = [status for status in found if int(status["id"]) < int(asked["max_id"])]
        statuses = [shown(status) for status in found[:limit]] if asked.get("type") in (None, "statuses") else []
        return Reply(200, {"accounts": [], "statuses": statuses, "hashtags": []},
                     headers={**JSON, **rate_headers(294)})

    def _change(self, request: Request) -> Reply:
        """PUT edits a status in place (docs.joinmastodon.org/methods/statuses/#edit: 200 with
        the Status, `edited_at` set); DELETE removes it (#delete: 200 with the Status and its
        source `text`); an unknown id is 404 "Record not found" for both."""
        status_id = request.path.rsplit("/", 1)[-1]
        with self._state:
            found = self.statuses.get(status_id)
            if found is None:
                return Reply(404, {"error": "Record not found"}, headers=dict(JSON))
            if request.method == "DELETE":
                del self.statuses[status_id]
                self.deleted.append(status_id)
                return Reply(200, {**found, "text": found.get("source_text", "")}, headers={**JSON, **rate_headers(296)})
            fields = request.json() if "json" in (request.header("Content-Type") or "") else request.form()
            text = str(fields.get("status") or "")
            if not text.strip():
                return Reply(422, {"error": "Validation failed: Text can't be blank"}, headers=dict(JSON))
            found.update(content=render(text), edited_at=iso(self.now()), source_text=text)
        return Reply(200, found, headers={**JSON, **rate_headers(296)})

    def _timeline(self, request: Request) -> Reply:
        asked = {key: values[-1] for key, values in request.query.items()}
        limit = min(40, max(1, int(asked.get("limit") or 20)))
        found = sorted(self.statuses.values(), key=lambda status: int(status["id"]), reverse=True)
        if asked.get("max_id"):
            found = [status for status in found if int(status["id"]) < int(asked["max_id"])]
        if asked.get("exclude_replies") == "true":
            found = [status for status in found if status["in_reply_to_id"] is None]
        page = found[:limit]
        headers = {**JSON, **rate_headers(297)}
        if page:
            base = f"{self.url}/api/v1/accounts/{ACCOUNT_ID}/statuses?limit={limit}"
            headers["Link"] = (f'<{base}&max_id={page[-1]["id"]}>; rel="next", '
                               f'<{base}&min_id={page[0]["id"]}>; rel="prev"')
        return Reply(200, page, headers=headers)

    def _post(self, request: Request) -> Reply:
        fields = request.json() if "json" in (request.header("Content-Type") or "") else request.form()
        text = str(fields.get("status") or "")
        key = request.header("Idempotency-Key")
        with self._state:
            remembered = self.keys.get(key or "")
            if remembered and (self.now() - remembered[1]).total_seconds() < KEY_SECONDS:
                return Reply(200, self.statuses[remembered[0]], headers={**JSON, **rate_headers(298)})
            if not text.strip():
                return Reply(422, {"error": "Validation failed: Text can't be blank"}, headers=dict(JSON))
            if len(URL_IN_TEXT.sub("x" * 23, text)) > self.max_characters:
                return Reply(422, {"error": f"Validation failed: Text character limit of {self.max_characters} "
                                            "exceeded"}, headers=dict(JSON))
            reply_to = fields.get("in_reply_to_id")
            if reply_to and str(reply_to) not in self.statuses and str(reply_to) not in self.public:
                return Reply(404, {"error": "Record not found"}, headers=dict(JSON))
            status = self._store(text, str(reply_to) if reply_to else None, fields.get("visibility") or "public")
            if key:
                self.keys[key] = (status["id"], self.now())
            delay, self.slow_next = self.slow_next, 0.0
            lost, self.lose_next = self.lose_next, False
        return Reply(200, status, headers={**JSON, **rate_headers(298)}, delay=delay, reset=lost)

    def _store(self, text: str, reply_to: str | None, visibility: str) -> dict:
        status_id = str(next(self._ids))
        base = self.url
        status = {
            "id": status_id,
            "created_at": iso(self.now()),
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
            "content": render(text),
            "edited_at": None,
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
        return {"id": ACCOUNT_ID, "username": self.username, "acct": self.username,
                "display_name": "Acme", "url": f"{self.url}/@{self.username}"}


def shown(entity: dict) -> dict:
    """An entity as the API shows it (the fake's own bookkeeping keys left out)."""
    status = entity.get("status")
    if isinstance(status, dict):
        return {**entity, "status": shown(status)}
    return {key: value for key, value in entity.items() if not key.startswith("_")}


def paginate_by_id(found: list[dict], limit: int, max_id: str | None, since_id: str | None,
                   min_id: str | None) -> list[dict]:
    """Mastodon's `Paginable#paginate_by_id`: with `min_id` the `limit` records just above
    it (and under `max_id`), else the newest `limit` under `max_id` and over `since_id`;
    newest first either way."""
    def number(value: str | None) -> int | None:
        return int(value) if value and value.isdigit() else None

    low, high, since = number(min_id), number(max_id), number(since_id)
    records = sorted(found, key=lambda record: int(record["id"]))
    if high is not None:
        records = [record for record in records if int(record["id"]) < high]
    if low is not None:
        return list(reversed([record for record in records if int(record["id"]) > low][:limit]))
    if since is not None:
        records = [record for record in records if int(record["id"]) > since]
    return list(reversed(records[-limit:])) if records else []


def _link(url: str) -> str:
    scheme, _, rest = url.partition("://")
    shown, hidden = (rest[:30], rest[30:]) if len(rest) > 30 else (rest, "")
    return (f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener noreferrer" translate="no">'
            f'<span class="invisible">{html.escape(scheme)}://</span>'
            f'<span class="{"ellipsis" if hidden else ""}">{html.escape(shown)}</span>'
            f'<span class="invisible">{html.escape(hidden)}</span></a>')


def _mention(match: re.Match) -> str:
    user, domain = match.group("user"), match.group("domain")
    return (f'<span class="h-card" translate="no"><a href="https://{domain}/@{user}" class="u-url mention">'
            f'@<span>{user}</span></a></span>')


def _inline(text: str) -> str:
    pieces, last = [], 0
    pattern = re.compile(f"{URL_IN_TEXT.pattern}|{MENTION.pattern}")
    for match in pattern.finditer(text):
        pieces.append(html.escape(text[last:match.start()]))
        pieces.append(_link(match.group(0)) if match.group(0).startswith("http") else _mention(match))
        last = match.end()
    pieces.append(html.escape(text[last:]))
    return "".join(pieces)


def render(text: str) -> str:
    """A status's `content` for its plain text, as Mastodon's TextFormatter makes it."""
    paragraphs = re.split(r"\n\n+", text.replace("\r\n", "\n").strip("\n"))
    return "".join("<p>" + "<br />".join(_inline(line) for line in paragraph.split("\n")) + "</p>"
                   for paragraph in paragraphs)


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
