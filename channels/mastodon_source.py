"""Mastodon as a listening source: the account's mentions and a keyword/hashtag search.

Guarantees:
- Streams: the account's `mention` notifications (`GET /api/v1/notifications`, a reply
  to one of our posts is a mention too; `include_filtered` so that Mastodon 4.3's
  notification policy does not hide a complaint from a new or unknown account), each `#hashtag` of `keywords` through its tag
  timeline (`GET /api/v1/timelines/tag/:hashtag`), and each other keyword through the
  full-text search (`GET /api/v2/search?type=statuses`). An item is the status, keyed by
  its id on the account's server, so a mention also found by a search is one item.
- The cursor is a small JSON object holding, per stream, the id of the last status or
  notification returned. Notifications and tags page forward with `min_id` (the page just
  above it), following the `Link` header's `prev`, `limit` at a time, so a page is never
  read in part; the search, which answers newest first with `min_id` as a filter only,
  is paged down with `max_id` to the cursor (at most `PAGES` pages; past that the oldest
  ones are returned first and `extra["gap"]` says matches may be missing). Whatever a
  server answers, an item at or below the cursor is never returned again, and no read
  asks for more than `PAGES` pages of a stream.
  Items come back oldest first (by platform time) and the cursor moves only past what was
  returned, so a read resumed from any cursor it gave neither loses nor repeats an item.
  With no cursor a stream starts at its most recent page (an empty one at the
  beginning, so nothing said after the first read is missed).
- `answers` is the status's `in_reply_to_id`; the text is the status's HTML read as text
  (`channels.heard_text`), the content warning kept in `extra`; the author is
  "display name (@acct)" on one line.
- A 429 is Retryable after Mastodon's `X-RateLimit-Reset`; a 401 (a token expired,
  revoked or wrong) and a 403 are Permanent; a 5xx or an unreadable answer Retryable. Every
  read goes through `channels.http` (byte bound, deadline); no reason carries the token.
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping
from urllib.parse import parse_qs, urlsplit

from channels import http
from channels.base import Permanent, Retryable, SettingError
from channels.heard_fields import heard_author, heard_text, time_and_note
from channels.heard_text import clean_line
from channels.mastodon import rate_limit_delay
from channels.options import NETWORK_OPTIONS, Option
from channels.sources import cursor_fields, Heard, oldest_first, Source

PAGE = 40
PAGES = 10
ID = re.compile(r"[0-9]{1,20}")
TAG = re.compile(r"#?([\w]{1,100})", re.UNICODE)
LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([a-z]+)"?')


class MastodonSource(Source):
    type = "mastodon"
    channel_keys = ("instance", "token", "api_url", "timeout")
    """The keys of a `mastodon` channel's section that `channel = NAME` reuses."""
    options = {
        "channel": Option(str, help="the [channels.NAME] whose server and token this source reuses"),
        "instance": Option(str, required=True, help="base URL of the account's server, e.g. https://mastodon.social"),
        "token": Option(str, required=True, secret=True,
                        help="access token with the read:notifications and read:search scopes"),
        "keywords": Option(list, default=[], help="words and #hashtags to search for"),
        "mentions": Option(bool, default=True, help="read the account's mentions"),
        **NETWORK_OPTIONS,
    }

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        token = str(settings.get("token") or "")
        super().__init__(name, settings, secrets | {token})
        self.instance = str(self.settings["instance"]).rstrip("/")
        parts = urlsplit(self.instance)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingError("instance", f"a URL like https://mastodon.social, got {self.instance!r}")
        self.api = str(self.settings.get("api_url") or self.instance).rstrip("/")
        self.timeout = float(self.settings.get("timeout", 20))
        words = self.settings.get("keywords") or []
        if not all(isinstance(word, str) and word.strip() for word in words):
            raise SettingError("keywords", "a list of words or #hashtags")
        self.keywords = [" ".join(word.split()) for word in words]

    def streams(self) -> list[str]:
        found = ["mentions"] if self.settings.get("mentions", True) else []
        for word in self.keywords:
            tag = TAG.fullmatch(word[1:]) if word.startswith("#") else None
            found.append(f"tag:{tag.group(1).lower()}" if tag else f"search:{word}")
        return found

    def read(self, cursor: str | None, limit: int = 200) -> tuple[list[Heard], str | None]:
        marks = _marks(cursor)
        pending = {stream: self._stream(stream, marks.get(stream), limit) for stream in self.streams()}
        following: dict[str, str] = dict(marks)
        for stream, found in pending.items():
            if stream not in following:
                following[stream] = str(int(found[0][0]) - 1) if found else "0"
        items = oldest_first(pending, following, limit,
                             lambda pair: (pair[1].platform_time or "", int(pair[0])))
        return items, json.dumps(following, sort_keys=True, ensure_ascii=False)

    def check(self) -> str:
        response = self._get("/api/v1/accounts/verify_credentials", {})
        body = http.json_body(response)
        acct = body.get("acct") if isinstance(body, dict) else None
        if not isinstance(acct, str) or not acct:
            raise Retryable(f"Mastodon's answer to verify_credentials had no account (HTTP {response.status_code})")
        return f"Mastodon token reads for @{clean_line(acct)} on {urlsplit(self.instance).hostname}"

    def _stream(self, stream: str, mark: str | None, limit: int) -> list[tuple[str, Heard]]:
        """(mark, item) pairs of one stream after `mark`, oldest first, at most `limit`."""
        if stream == "mentions":
            return self._forward("/api/v1/notifications", {"types[]": "mention", "include_filtered": "true"}, mark,
                                 limit, stream, True)
        if stream.startswith("tag:"):
            return self._forward(f"/api/v1/timelines/tag/{stream[4:]}", {}, mark, limit, stream, False)
        return self._search(stream[len("search:"):], mark, limit, stream)

    def _forward(self, path: str, params: dict[str, str], mark: str | None, limit: int, stream: str,
                 notifications: bool) -> list[tuple[str, Heard]]:
        found: list[tuple[str, Heard]] = []
        asked: dict[str, str] = {**params, "limit": str(min(PAGE, limit))}
        if mark:
            asked["min_id"] = mark
        for _ in range(PAGES):
            response = self._get(path, asked)
            page = self._list(response, path)
            before = len(found)
            for entry in reversed(page):
                status = entry.get("status") if notifications else entry
                if not isinstance(status, dict) or not ID.fullmatch(str(entry.get("id", ""))) \
                        or (mark and int(entry["id"]) <= int(mark)) or (found and int(entry["id"]) <= int(found[-1][0])):
                    continue
                found.append((str(entry["id"]), self._heard(status, stream)))
            newer = _link(response.headers.get("Link"), "prev", "min_id")
            if not page or not mark or newer is None or len(page) < int(asked["limit"]) or len(found) >= limit \
                    or len(found) == before:
                break
            asked = {**params, "limit": str(min(PAGE, limit - len(found))), "min_id": newer}
        return found[:limit]

    def _search(self, words: str, mark: str | None, limit: int, stream: str) -> list[tuple[str, Heard]]:
        found: list[tuple[str, Heard]] = []
        gap = False
        older_than: str | None = None
        for number in range(PAGES if mark else 1):
            asked = {"q": words, "type": "statuses", "limit": str(PAGE)}
            if mark:
                asked["min_id"] = mark
            if older_than:
                asked["max_id"] = older_than
            response = self._get("/api/v2/search", asked)
            body = http.json_body(response)
            page = body.get("statuses") if isinstance(body, dict) else None
            if not isinstance(page, list):
                raise Retryable(f"Mastodon's search answer (HTTP {response.status_code}) could not be read")
            statuses = [status for status in page if isinstance(status, dict) and ID.fullmatch(str(status.get("id")))
                        and not (mark and int(status["id"]) <= int(mark))]
            found.extend((str(status["id"]), self._heard(status, stream)) for status in statuses)
            if len(page) < PAGE or not statuses:
                break
            older_than = str(statuses[-1]["id"])
            gap = number == PAGES - 1
        found.sort(key=lambda pair: int(pair[0]))
        if gap:
            found = [(mark_id, item.with_extra(gap=True)) for mark_id, item in found]
        return found[:limit]

    def _heard(self, status: Mapping[str, Any], stream: str) -> Heard:
        return status_heard(status, {"source": self.name, "via": stream})

    def _get(self, path: str, params: Mapping[str, str]) -> Any:
        session = http.shared_session()
        headers = {"Authorization": f"Bearer {self.settings['token']}", "Accept": "application/json"}
        response = http.request(lambda: session.get(f"{self.api}{path}", params=dict(params), headers=headers,
                                                    timeout=self.timeout), self.redact)
        self._fail_unless_ok(response)
        return response

    def _list(self, response: Any, path: str) -> list[dict[str, Any]]:
        page = http.json_body(response)
        if not isinstance(page, list) or not all(isinstance(entry, dict) for entry in page):
            raise Retryable(f"Mastodon's answer to {path} (HTTP {response.status_code}) could not be read")
        return page

    def _fail_unless_ok(self, response: Any) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        said = self.redact(_error_text(response))
        if status == 429:
            raise http.rate_limited("Mastodon", said, rate_limit_delay(response))
        if status == 401:
            raise Permanent(f"Mastodon refused the access token of source {self.name}: it expired, was revoked "
                            f"or is wrong ({said}); give it a new token")
        if status == 403:
            raise Permanent(f"Mastodon does not let this token read this (the read:notifications and read:search "
                            f"scopes) ({said})")
        if status >= 500:
            raise Retryable(f"Mastodon had a server error ({said})",
                            retry_after=http.retry_after_seconds(response.headers.get("Retry-After")))
        http.classify_status(response, "Mastodon", self.redact)


def status_heard(status: Mapping[str, Any], extra: dict[str, Any]) -> Heard:
    """A Mastodon Status entity as a heard item (also a source post named by its URL)."""
    text = heard_text(status.get("content"), extra, html=True)
    warning = status.get("spoiler_text")
    if isinstance(warning, str) and warning.strip():
        extra["content_warning"] = clean_line(warning, 500)
    raw_account = status.get("account")
    account: Mapping[str, Any] = raw_account if isinstance(raw_account, dict) else {}
    url = status.get("url") or status.get("uri")
    answers = status.get("in_reply_to_id")
    return Heard(platform="mastodon", id=str(status["id"]), text=text,
                 author=heard_author(account.get("display_name"), account.get("acct")),
                 url=clean_line(url, 2000) if isinstance(url, str) and url.startswith(("https://", "http://"))
                 else None,
                 platform_time=time_and_note(status.get("created_at"), extra),
                 answers=str(answers) if isinstance(answers, (str, int)) and ID.fullmatch(str(answers)) else None,
                 extra=extra)


def _marks(cursor: str | None) -> dict[str, Any]:
    return {key: value for key, value in cursor_fields(cursor).items()
            if isinstance(key, str) and not key.startswith("_") and isinstance(value, str) and ID.fullmatch(value)}


def _link(header: str | None, rel: str, key: str) -> str | None:
    """The `key` query value of the `Link` header's `rel` URL."""
    for url, name in LINK.findall(header or ""):
        if name == rel:
            value = (parse_qs(urlsplit(url).query).get(key) or [None])[0]
            return value if value and ID.fullmatch(value) else None
    return None


def _error_text(response: Any) -> str:
    body = http.json_body(response)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return f"HTTP {response.status_code}: {clean_line(body['error'], 160)}"
    return f"HTTP {response.status_code}"
