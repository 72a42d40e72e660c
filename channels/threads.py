"""Threads: a text post through Meta's Threads API, a container then its publication.

Guarantees:
- Every call goes through the one transport (`channels.http`): once, with a timeout
  bounding the whole request, answers bounded, failures classified with whether the
  request may have reached Threads. Calls go to `api_url` with the version in the path
  (`graph_version`, v1.0); the token travels as the documented `access_token` field and
  is masked in every reason (urllib3's logger stays at WARNING).
- A post is two calls (developers.facebook.com/documentation/threads/posts): `POST
  /{user_id}/threads` with `media_type=TEXT` makes a container, `POST
  /{user_id}/threads_publish` with its `creation_id` publishes it. A failure while
  making the container published nothing (an unpublished container expires by itself);
  only a publication without a readable answer is an unknown outcome
  (`maybe_delivered`). The receipt's URL and time are the post's `permalink` and
  `timestamp`, read back with `GET /{media_id}` (none when that read fails: the post
  exists).
- A thread posts part 0, then each part as a reply (`reply_to_id`) to the one before,
  and resumes after `message.sent_parts`. Before the first part goes out, the profile's
  publishing quota is read from `GET /{user_id}/threads_publishing_limit` (posts and
  replies in the last 24 hours, never a number written here): a thread the quota cannot
  take whole is not begun (`Retryable`, after the quota's window).
- Threads has no idempotency key: when the message has an earlier attempt, each part
  still to send is first looked up among the profile's threads (part 0, `GET
  /{user_id}/threads` since then) or the replies to the part before (`GET
  /{id}/replies`), by its text; one found is the delivery (`extra["found_on_platform"]`)
  and is not posted again. A look-up that cannot finish posts nothing and leaves the
  outcome unknown.
- Graph errors are classified by their code: 190 (expired or invalid token), 10 and
  200-299 (a permission missing) and invalid parameters are `Permanent`; 4, 17, 32, 613
  and HTTP 429 (limits) are `Retryable` after `Retry-After` when sent; 1, 2,
  `is_transient` and 5xx are `Retryable`.
- `delete` is `DELETE /{media_id}`, last part first; a post Threads no longer has (code
  100, subcode 33, or 404) counts as deleted. Threads cannot edit a post.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping
from urllib.parse import quote, urlsplit

from channels import http
from channels.base import CLOCK_MARGIN
from channels.base import (Channel, DeliveryError, looking_before_resend, Message, Permanent, post_in_parts,
                           quiet_loggers, Receipt, Retryable, SettingError, too_many_to_look_up)
from channels.schemas import OPTIONS

MEDIA_ID = re.compile(r"[0-9]{1,25}")
POST_URL = re.compile(r"https?://(?:www\.)?threads\.(?:net|com)/@[A-Za-z0-9._]{1,30}/post/[A-Za-z0-9_-]{5,20}/?")
THROTTLED = frozenset({4, 17, 32, 613})
TRANSIENT = frozenset({1, 2})
BAD_TOKEN = frozenset({102, 190})
GONE = (100, 33)
LOOKUP_COUNT = 50
FIELDS = "id,text,timestamp,permalink"


class ThreadsChannel(Channel):
    type = "threads"
    variant = "short"
    max_length = 500
    counting = "threads"
    overflow = "thread"
    supports_reply = True
    idempotent = False
    can_look_up = True
    can_delete = True
    options = OPTIONS["threads"]

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        super().__init__(name, settings, secrets)
        self.user_id = str(self.settings["user_id"]).strip()
        if not MEDIA_ID.fullmatch(self.user_id):
            raise SettingError("user_id", f"the profile's numeric Threads user id, got {self.user_id!r}")
        version = re.fullmatch(r"v?(\d+\.\d+)", str(self.settings["graph_version"]).strip())
        if not version:
            raise SettingError("graph_version", f"a version such as v1.0, got {self.settings['graph_version']!r}")
        url = str(self.settings["api_url"]).rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingError("api_url", f"an http(s) URL like https://graph.threads.net, got {url!r}")
        self.api = f"{url}/v{version.group(1)}"
        token = str(self.settings["token"])
        self.add_secrets({token, quote(token, safe="")})
        quiet_loggers("urllib3")

    def send(self, message: Message) -> Receipt:
        answered = self.media_id(message.reply_to) if message.reply_to and not message.sent_parts else None
        since = _since(message.first_attempt)
        found: list[str] = []
        checked = False

        def post(index: int, previous: str | None) -> Receipt:
            nonlocal since, checked
            if since is not None:
                existing = self._find_posted(message.parts[index], previous, since)
                if existing is not None:
                    found.append(existing.id)
                    return existing
                since = None
            if not checked:
                self._fail_unless_quota_takes(len(message.parts) - index, previous is not None)
                checked = True
            return self._post(message.parts[index], previous)

        receipt = post_in_parts(message, post, answered)
        if found:
            receipt = Receipt(receipt.id, receipt.url, receipt.platform_time, {**receipt.extra,
                                                                               "found_on_platform": found})
        return receipt

    def check(self) -> str:
        me = self._json(self._call("GET", "/me", params={"fields": "id,username"}), "the profile")
        if str(me.get("id")) != self.user_id:
            raise Permanent(self.redact(f"the Threads token belongs to profile {me.get('id')}, not to user_id "
                                        f"{self.user_id}"))
        posts, replies = self._quota()
        return (f"Threads token works for @{me.get('username') or '?'} ({self.user_id}); "
                f"publishing quota: {_left(posts)} posts and {_left(replies)} replies left")

    def lookup(self, reference: str) -> Receipt | None:
        linked = self._by_permalink(reference.strip()) if POST_URL.fullmatch(reference.strip()) else None
        if POST_URL.fullmatch(reference.strip()) and linked is None:
            return None
        media = linked or self.media_id(reference)
        response = self._call("GET", f"/{media}", params={"fields": FIELDS})
        if _gone(response):
            return None
        post = self._json(response, f"post {media}")
        if str(post.get("id")) != media:
            raise Retryable(f"Threads' answer for post {media} is not that post")
        receipt = _receipt(post)
        return Receipt(receipt.id, receipt.url, receipt.platform_time, {"text": str(post.get("text") or "")})

    def delete(self, receipt: Receipt) -> str | None:
        ids = receipt.extra.get("part_ids") or [receipt.id]
        for part in reversed([str(media) for media in ids]):
            media = self.media_id(part)
            response = self._call("DELETE", f"/{media}")
            if _gone(response):
                continue
            body = self._json(response, f"the deletion of post {media}")
            if body.get("success") is not True:
                raise Retryable(f"Threads did not confirm the deletion of post {media}")
        return None

    def media_id(self, reference: str) -> str:
        """The media id `reference` names: the id itself, or a threads.net link to one of the
        profile's latest `LOOKUP_COUNT` posts or replies (a link carries a shortcode, not an id)."""
        value = reference.strip()
        if MEDIA_ID.fullmatch(value):
            return value
        if POST_URL.fullmatch(value):
            found = self._by_permalink(value)
            if found is None:
                raise Permanent(self.redact(f"{value!r} is not among the profile's latest {LOOKUP_COUNT} posts and "
                                            "replies; give the post's media id (the receipt's id)"))
            return found
        raise Permanent(self.redact(f"{value!r} is neither a Threads media id nor a threads.net post link"))

    def _by_permalink(self, link: str) -> str | None:
        wanted = _shortcode(link)
        for edge in ("threads", "replies"):
            body = self._json(self._call("GET", f"/{self.user_id}/{edge}", params={
                "fields": "id,permalink", "limit": str(LOOKUP_COUNT)}), f"the profile's {edge}")
            posts = body.get("data")
            for post in posts if isinstance(posts, list) else []:
                if isinstance(post, dict) and _shortcode(str(post.get("permalink") or "")) == wanted \
                        and MEDIA_ID.fullmatch(str(post.get("id"))):
                    return str(post["id"])
        return None

    def _post(self, text: str, reply_to: str | None) -> Receipt:
        fields = {"media_type": "TEXT", "text": text}
        if reply_to:
            fields["reply_to_id"] = reply_to
        try:
            container = self._json(self._call("POST", f"/{self.user_id}/threads", data=fields), "the container")
        except Retryable as error:
            raise Retryable(f"{error.reason} (while preparing the post; nothing was published)", error.retry_after,
                            maybe_delivered=False) from None
        creation = str(container.get("id") or "")
        if not MEDIA_ID.fullmatch(creation):
            raise Retryable("Threads made a container without a readable id; nothing was published")
        response = self._call("POST", f"/{self.user_id}/threads_publish", data={"creation_id": creation})
        published = self._json(response, "the publication", posting=True)
        media = str(published.get("id") or "")
        if not MEDIA_ID.fullmatch(media):
            raise Retryable(f"Threads answered HTTP {response.status_code} to the publication without the post's id; "
                            "the post may exist", maybe_delivered=True)
        try:
            return _receipt(self._json(self._call("GET", f"/{media}", params={"fields": FIELDS}), "the post"),
                            media)
        except DeliveryError:
            return Receipt(media, None, None, {"part_ids": [media]})

    def _quota(self) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        """(used, total) for posts and for replies in Threads' current window, as it says."""
        body = self._json(self._call("GET", f"/{self.user_id}/threads_publishing_limit", params={
            "fields": "quota_usage,config,reply_quota_usage,reply_config"}), "the publishing limit")
        data = body.get("data")
        entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else None
        if entry is None:
            raise Retryable("Threads' answer about the publishing limit could not be read")
        return _usage(entry, "quota_usage", "config"), _usage(entry, "reply_quota_usage", "reply_config")

    def _fail_unless_quota_takes(self, parts: int, first_is_reply: bool) -> None:
        posts, replies = self._quota()
        needed_posts = 0 if first_is_reply else 1
        needed_replies = parts - needed_posts
        for usage, needed, what in ((posts, needed_posts, "posts"), (replies, needed_replies, "replies")):
            if usage is not None and needed and usage[0] + needed > usage[1]:
                raise Retryable(f"Threads' publishing quota is used up: {usage[0]} of {usage[1]} {what} in its "
                                f"window, {needed} more needed; nothing was posted")

    def _find_posted(self, text: str, previous: str | None, since: datetime) -> Receipt | None:
        path = f"/{previous}/replies" if previous else f"/{self.user_id}/threads"
        params = {"fields": FIELDS, "limit": str(LOOKUP_COUNT)}
        if not previous:
            params["since"] = str(int(since.timestamp()))
        with looking_before_resend(lambda reason: (
                f"Threads would not list the posts to look for the one an earlier attempt may have made ({reason}). "
                "Nothing was posted again")):
            body = self._json(self._call("GET", path, params=params), "the profile's posts")
        posts = body.get("data")
        if not isinstance(posts, list) or not all(isinstance(post, dict) for post in posts):
            raise Retryable("Threads' list of posts could not be read; nothing was posted again",
                            maybe_delivered=True)
        wanted = " ".join(text.split())
        for post in posts:
            created = _moment(post.get("timestamp"))
            if created is not None and created < since:
                continue
            if " ".join(str(post.get("text") or "").split()) == wanted and MEDIA_ID.fullmatch(str(post.get("id"))):
                return _receipt(post)
        if len(posts) >= LOOKUP_COUNT:
            raise too_many_to_look_up(f"more than {LOOKUP_COUNT} posts")
        return None

    def _call(self, method: str, path: str, params: Mapping[str, str] | None = None,
              data: Mapping[str, str] | None = None) -> Any:
        session = http.shared_session()
        token = {"access_token": str(self.settings["token"])}
        query = {**(params or {}), **({} if data is not None else token)}
        form = {**data, **token} if data is not None else None
        return http.request(lambda: session.request(
            method, f"{self.api}{path}", params=query, data=form, timeout=self.timeout, allow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": http.USER_AGENT}), self.redact)

    def _json(self, response: Any, what: str, posting: bool = False) -> dict[str, Any]:
        body = http.json_body(response)
        status = response.status_code
        if 200 <= status < 300:
            if isinstance(body, dict):
                return body
            raise Retryable(f"Threads answered HTTP {status} about {what} with a body that is not JSON"
                            + ("; the post may exist" if posting else ""), maybe_delivered=posting)
        raise self._failure(response, body, posting)

    def _failure(self, response: Any, body: Any, posting: bool) -> DeliveryError:
        status = response.status_code
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            snippet = self.redact(" ".join((response.text or "").split())[:160])
            detail = f"HTTP {status}" + (f": {snippet}" if snippet else "")
            if status == 429 or status >= 500:
                return Retryable(f"Threads answered {detail}", http.retry_after_seconds(
                    response.headers.get("Retry-After")), maybe_delivered=posting and status >= 500)
            return Permanent(f"Threads answered {detail}")
        code, subcode = _number(error.get("code")), _number(error.get("error_subcode"))
        message = str(error.get("error_user_msg") or error.get("message") or "no message")[:200]
        said = self.redact(f"HTTP {status}: {message} (code {code}" + (f", subcode {subcode})" if subcode else ")"))
        delay = http.retry_after_seconds(response.headers.get("Retry-After"))
        if code in THROTTLED or status == 429:
            return http.rate_limited("Threads", said, delay, waits="retry in")
        if code in BAD_TOKEN:
            return Permanent(f"Threads rejected the access token, it has expired or is invalid ({said}); the "
                             "profile must authorise the app again")
        if code == 10 or (code is not None and 200 <= code <= 299) or status == 403:
            return Permanent(f"the Threads token lacks a permission for this ({said})")
        if code in TRANSIENT or error.get("is_transient") is True or status >= 500:
            return Retryable(f"Threads had a temporary failure ({said})" + ("; the post may exist" if posting else ""),
                             retry_after=delay, maybe_delivered=posting)
        return Permanent(f"Threads refused the request ({said})")


def _shortcode(link: str) -> str:
    return urlsplit(link.strip()).path.rstrip("/").rsplit("/", 1)[-1]


def _gone(response: Any) -> bool:
    if response.status_code == 404:
        return True
    body = http.json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and (_number(error.get("code")), _number(error.get("error_subcode"))) == GONE


def _usage(entry: Mapping[str, Any], used_key: str, config_key: str) -> tuple[int, int] | None:
    used, config = entry.get(used_key), entry.get(config_key)
    total = config.get("quota_total") if isinstance(config, dict) else None
    if isinstance(used, int) and isinstance(total, int):
        return used, total
    return None


def _left(usage: tuple[int, int] | None) -> str:
    return "?" if usage is None else f"{max(0, usage[1] - usage[0])} of {usage[1]}"


def _since(first_attempt: str | None) -> datetime | None:
    if not first_attempt:
        return None
    began = _moment(first_attempt.strip())
    return (began or datetime.fromtimestamp(0, timezone.utc)) - timedelta(seconds=CLOCK_MARGIN)


def _moment(value: Any) -> datetime | None:
    """Threads' `2026-12-05T10:00:00+0000`, or ISO 8601, as an aware time."""
    if not isinstance(value, str):
        return None
    for form in ("%Y-%m-%dT%H:%M:%S%z",):
        try:
            return datetime.strptime(value, form)
        except ValueError:
            pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _receipt(post: Mapping[str, Any], media: str | None = None) -> Receipt:
    made = str(post.get("id") or media)
    link = post.get("permalink")
    moment = _moment(post.get("timestamp"))
    when = moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None
    return Receipt(made, link if isinstance(link, str) else None, when, {"part_ids": [made]})


def _number(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
