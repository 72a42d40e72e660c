"""A fake X API v2 on loopback, answering like api.twitter.com.

It checks the OAuth 1.0a signature of every request (tweepy signs for
https://api.twitter.com, so that is the URL the signature covers), creates posts with
snowflake ids, rejects an identical text as duplicate content, and answers
`GET /2/users/me`. The error bodies are X's own problem documents
({"title", "type", "status", "detail"}). Canned replies for the cases a test forces
(rate limits, server errors, not-enrolled apps, invalid requests) are built by the
functions at the bottom and queued with `fake.queue(...)`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from oauthlib.oauth1.rfc5849 import signature, utils

from tests.fakes.server import FakeServer, Reply, Request

SIGNED_HOST = "https://api.twitter.com"
SNOWFLAKE_EPOCH_MS = 1288834974657
JSON = {"Content-Type": "application/json; charset=utf-8"}

UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
DUPLICATE = {"title": "Forbidden", "type": "about:blank", "status": 403,
             "detail": "You are not allowed to create a Tweet with duplicate content."}
TOO_MANY = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
NOT_FOUND = {"title": "Not Found Error", "type": "https://api.twitter.com/2/problems/resource-not-found",
             "detail": "Could not find the requested resource."}


class FakeX(FakeServer):
    def __init__(self, api_key: str, api_secret: str, access_token: str, access_token_secret: str,
                 username: str = "acme_es", user_id: str = "1580661436132757506"):
        super().__init__(self._answer)
        self.credentials = (api_key, api_secret, access_token, access_token_secret)
        self.username = username
        self.user_id = user_id
        self.tweets: dict[str, dict] = {}
        self.mentions: list[dict] = []
        self.users: dict[str, dict] = {}
        self.posts_read = 0
        self.users_read = 0
        self._pages: dict[str, tuple[str, int]] = {}
        self.slow_next = 0.0
        self._sequence = itertools.count()
        self._state = threading.Lock()

    def slow_once(self, seconds: float) -> None:
        """Create the next post normally but answer only after `seconds`."""
        self.slow_next = seconds

    def created_at(self, tweet_id: str) -> str:
        return self.tweets[tweet_id]["created_at"]

    def _answer(self, request: Request) -> Reply:
        if not self._signed(request):
            return Reply(401, UNAUTHORIZED, headers=dict(JSON))
        if request.method == "POST" and request.path == "/2/tweets":
            return self._create(request)
        if request.method == "GET" and request.path.startswith("/2/tweets/"):
            return self._lookup(request.path.rsplit("/", 1)[-1])
        if request.method == "DELETE" and request.path.startswith("/2/tweets/"):
            return self._delete(request.path.rsplit("/", 1)[-1])
        if request.method == "GET" and request.path == f"/2/users/{self.user_id}/mentions":
            return self._mentions(request)
        if request.method == "GET" and request.path == "/2/users/me":
            return Reply(200, {"data": {"id": self.user_id, "name": "Acme", "username": self.username}},
                         headers={**JSON, **limit_headers(75, 74)})
        return Reply(404, NOT_FOUND, headers=dict(JSON))

    def mention(self, text: str, handle: str = "vecina_enfadada", name: str = "Vecina", user_id: str = "2244994945",
                reply_to: str | None = None, at: float | None = None) -> str:
        """A post by @handle that mentions the account; its snowflake id is made from `at`."""
        millis = int((time.time() if at is None else at) * 1000)
        with self._state:
            tweet_id = str(((millis - SNOWFLAKE_EPOCH_MS) << 22) | (23 << 12) | (next(self._sequence) % 4096))
            post = {"id": tweet_id, "text": text, "author_id": user_id, "conversation_id": reply_to or tweet_id,
                    "created_at": (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=millis))
                    .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "edit_history_tweet_ids": [tweet_id]}
            if reply_to:
                post["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
            self.mentions.append(post)
            self.users[user_id] = {"id": user_id, "name": name, "username": handle}
        return tweet_id

    def _mentions(self, request: Request) -> Reply:
        """GET /2/users/:id/mentions (docs.x.com/x-api/posts/timelines/get-mentions): newest
        first, `since_id`/`until_id` exclusive, `max_results` 5 to 100 (default 10), an opaque
        `pagination_token` to the next (older) page, `meta` with `result_count`, `newest_id`,
        `oldest_id` and `next_token`, authors in `includes.users` when `expansions=author_id`.
        A token points below the page's oldest post, so posts arriving meanwhile shift nothing.
        Each post and user returned counts as read (what X bills)."""
        query = {key: values[-1] for key, values in request.query.items()}
        try:
            size = int(query.get("max_results", "10"))
        except ValueError:
            size = -1
        if not 5 <= size <= 100:
            return invalid_request("max_results", query.get("max_results", ""),
                                   f"The `max_results` query parameter value [{query.get('max_results')}] is not "
                                   "between 5 and 100")
        since, until = int(query.get("since_id") or 0), int(query.get("until_id") or 1 << 64)
        key = f"{since}:{until}:{size}"
        below = until
        if "pagination_token" in query:
            found = self._pages.get(query["pagination_token"])
            if found is None or found[0] != key:
                return invalid_request("pagination_token", query["pagination_token"],
                                       "The `pagination_token` query parameter value "
                                       f"[{query['pagination_token']}] is not valid for this request.")
            below = found[1]
        with self._state:
            matching = sorted((post for post in self.mentions if since < int(post["id"]) < below),
                              key=lambda post: int(post["id"]), reverse=True)
        page = matching[:size]
        wanted = set((query.get("tweet.fields") or "").split(","))
        data = [{key: value for key, value in post.items()
                 if key in ("id", "text", "edit_history_tweet_ids") or key in wanted} for post in page]
        meta: dict = {"result_count": len(page)}
        body: dict = {}
        if page:
            body["data"] = data
            meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
            self.posts_read += len(page)
            if "author_id" in (query.get("expansions") or "").split(","):
                fields = {"id", "name", "username"} | set((query.get("user.fields") or "").split(","))
                authors = list(dict.fromkeys(post["author_id"] for post in page))
                body["includes"] = {"users": [{k: v for k, v in self.users[a].items() if k in fields}
                                              for a in authors]}
                self.users_read += len(authors)
        if size < len(matching):
            last = int(page[-1]["id"])
            token = base64.b32encode(hashlib.sha256(f"{key}:{last}".encode()).digest()[:20]).decode().lower()
            self._pages[token] = (key, last)
            meta["next_token"] = token
        body["meta"] = meta
        return Reply(200, body, headers={**JSON, **limit_headers(180, 179)})

    def _lookup(self, tweet_id: str) -> Reply:
        """GET /2/tweets/:id: the post, or X's 200 with a Not Found error when it has none."""
        tweet = self.tweets.get(tweet_id)
        if tweet is None:
            return Reply(200, {"errors": [{
                "value": tweet_id, "detail": f"Could not find tweet with id: [{tweet_id}].", "title": "Not Found Error",
                "resource_type": "tweet", "parameter": "id", "resource_id": tweet_id,
                "type": "https://api.twitter.com/2/problems/resource-not-found"}]}, headers=dict(JSON))
        return Reply(200, {"data": {"id": tweet_id, "text": tweet["text"], "created_at": tweet["created_at"],
                                    "edit_history_tweet_ids": [tweet_id]}}, headers=dict(JSON))

    def _delete(self, tweet_id: str) -> Reply:
        """DELETE /2/tweets/:id (docs.x.com/x-api/posts/delete-post, formerly
        developer.x.com/en/docs/x-api/tweets/manage-tweets/api-reference/delete-tweets-id):
        200 {"data": {"deleted": true}}. The page does not say what a post that is already
        gone gets; the fake answers `deleted: false`, which the endpoint's schema
        (TweetDeleteResponse) allows, and tests queue the 404 resource-not-found problem
        for the other answer X may give."""
        with self._state:
            removed = self.tweets.pop(tweet_id, None)
        return Reply(200, {"data": {"deleted": removed is not None}}, headers={**JSON, **limit_headers(50, 49)})

    def _create(self, request: Request) -> Reply:
        body = request.json()
        text = body.get("text", "")
        with self._state:
            if any(tweet["text"] == text for tweet in self.tweets.values()):
                return Reply(403, DUPLICATE, headers=dict(JSON))
            millis = int(time.time() * 1000)
            tweet_id = str(((millis - SNOWFLAKE_EPOCH_MS) << 22) | (17 << 12) | (next(self._sequence) % 4096))
            self.tweets[tweet_id] = {
                "text": text,
                "in_reply_to": (body.get("reply") or {}).get("in_reply_to_tweet_id"),
                "created_at": (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=millis))
                .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            }
            delay, self.slow_next = self.slow_next, 0.0
        return Reply(201, {"data": {"edit_history_tweet_ids": [tweet_id], "id": tweet_id, "text": text}},
                     headers={**JSON, **limit_headers(100, 99, daily=True)}, delay=delay)

    def _signed(self, request: Request) -> bool:
        api_key, api_secret, access_token, token_secret = self.credentials
        header = request.header("Authorization") or ""
        try:
            fields = dict(utils.parse_authorization_header(header))
        except ValueError:
            return False
        if (utils.unescape(fields.get("oauth_consumer_key", "")) != api_key
                or utils.unescape(fields.get("oauth_token", "")) != access_token):
            return False
        params = signature.collect_parameters(uri_query=urlencode(request.query, doseq=True),
                                              headers={"Authorization": header})
        base = signature.signature_base_string(request.method, signature.base_string_uri(SIGNED_HOST + request.path),
                                               signature.normalize_parameters(params))
        key = f"{utils.escape(api_secret)}&{utils.escape(token_secret)}"
        expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()
        return hmac.compare_digest(expected, utils.unescape(fields.get("oauth_signature", "")))


def limit_headers(limit: int, remaining: int, reset_in: float = 900, daily: bool = False,
                  daily_remaining: int = 99, daily_reset_in: float = 86400) -> dict[str, str]:
    now = time.time()
    headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining),
               "x-rate-limit-reset": str(int(now + reset_in))}
    if daily:
        headers.update({"x-user-limit-24hour-limit": "100", "x-user-limit-24hour-remaining": str(daily_remaining),
                        "x-user-limit-24hour-reset": str(int(now + daily_reset_in))})
    return headers


def too_many_requests(reset_in: float | None = 120, remaining: int = 0, daily_reset_in: float | None = None,
                      daily_remaining: int = 0) -> Reply:
    """429 as X sends it: the 15-minute window, and on posting the user's 24-hour cap."""
    headers = dict(JSON)
    if reset_in is not None:
        headers.update(limit_headers(100, remaining, reset_in))
    if daily_reset_in is not None:
        headers.update({"x-user-limit-24hour-limit": "100", "x-user-limit-24hour-remaining": str(daily_remaining),
                        "x-user-limit-24hour-reset": str(int(time.time() + daily_reset_in))})
    return Reply(429, TOO_MANY, headers=headers)


def credits_depleted(account: str = "1580661436132757506") -> Reply:
    """402 as X answers a pay-per-use app with no credits left (the problem type X sends;
    the status is not in X's documented table, but every read and write gets it)."""
    return Reply(402, {"type": "https://api.twitter.com/2/problems/credits", "title": "CreditsDepleted",
                       "detail": f"Your enrolled account [{account}] does not have any credits to fulfill this "
                                 "request."}, headers=dict(JSON))


def usage_capped() -> Reply:
    """429 with X's usage-capped problem: the app's monthly cap, which no reset header lifts."""
    return Reply(429, {"title": "UsageCapped", "detail": "Usage cap exceeded: Monthly product cap",
                       "type": "https://api.twitter.com/2/problems/usage-capped", "period": "Monthly",
                       "scope": "Product"}, headers=dict(JSON))


def server_error(status: int = 503) -> Reply:
    titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
    title = titles.get(status, "Server Error")
    return Reply(status, {"title": title, "detail": title, "type": "about:blank", "status": status},
                 headers=dict(JSON))


def client_not_enrolled() -> Reply:
    return Reply(403, {
        "client_id": "28659504",
        "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from "
                  "a Twitter developer App that is attached to a Project. You can create a project via the "
                  "developer portal.",
        "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
        "title": "Client Forbidden",
        "required_enrollment": "Appropriate Level of API Access",
        "reason": "client-not-enrolled",
        "type": "https://api.twitter.com/2/problems/client-forbidden",
    }, headers=dict(JSON))


def invalid_request(parameter: str, value: str, message: str) -> Reply:
    return Reply(400, {
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }, headers=dict(JSON))


def not_permitted() -> Reply:
    """403 for an app whose keys may read but not write (X's oauth1-permissions problem,
    docs.x.com/x-api/fundamentals/response-codes-and-errors)."""
    return Reply(403, {
        "title": "Forbidden", "type": "https://api.twitter.com/2/problems/oauth1-permissions", "status": 403,
        "detail": "Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.",
    }, headers=dict(JSON))


def gone(tweet_id: str) -> Reply:
    """404 with X's resource-not-found problem (docs.x.com/x-api/fundamentals/response-codes-and-errors)."""
    return Reply(404, {"title": "Not Found Error", "type": "https://api.twitter.com/2/problems/resource-not-found",
                       "detail": f"Could not find tweet with id: [{tweet_id}].", "status": 404}, headers=dict(JSON))


def created(tweet_id: str, text: str) -> Reply:
    """A 201 for a post the fake does not store (the documented example id, queued parts)."""
    return Reply(201, {"data": {"edit_history_tweet_ids": [tweet_id], "id": tweet_id, "text": text}},
                 headers=dict(JSON))
