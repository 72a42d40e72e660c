"""The `feed` listening source: the media and blogs a crisis is written about, read from
their RSS or Atom feeds (news searches, blogs, alert feeds) with feedparser.

Guarantees:
- Each feed is fetched through the one transport (`channels.http`: a byte bound and a
  deadline), conditionally (`ETag`, `Last-Modified`), and parsed from its bytes with the
  answer's `Content-Type`, so feedparser honours the declared encoding and falls back to
  what the document says or what decodes; a document that is not a feed is `Permanent`
  naming its URL, a 429 or 5xx `Retryable` with the server's `Retry-After`.
- An entry becomes one `Heard`: its id (the entry's id, else its link, else a digest of
  its title and text; an id that is not a URI is prefixed with the feed's URL so two
  feeds never share one), its title and text as plain text (`channels.heard_text`), its
  author, its link (http or https only), and its own published (else updated) time in
  UTC. A date feedparser cannot read is kept as written in `extra["date"]` and the item
  has no platform time; it is never guessed.
- The cursor remembers, per feed (named by a digest of its URL, so a secret in a URL
  never reaches the log), its validators and a digest of each entry of its last document, so the next read returns only entries not seen before (oldest first), and a
  feed that does not change costs a 304. The log dedups besides (`Store.append_heard`).
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any, ClassVar

from channels.heard_text import clean_line, clean_text, plain_text
from channels.options import Option
from channels.sources import cursor_fields, Heard, Source

SEEN_KEPT = 500
"""Entry digests kept per feed in the cursor (a feed document rarely holds more)."""


class FeedSource(Source):
    type: ClassVar[str] = "feed"
    options: ClassVar[dict[str, Option]] = {
        "urls": Option(list, required=True, help="the RSS or Atom feeds to read"),
        "timeout": Option((int, float), default=20, bounds=(0.1, 600), help="seconds one fetch may take"),
    }

    def __init__(self, name: str, settings: Any, secrets: frozenset[str] = frozenset()):
        super().__init__(name, settings, secrets)
        urls = self.settings["urls"]
        if not urls or not all(isinstance(url, str) and url.startswith(("http://", "https://")) for url in urls):
            from channels.options import SettingError

            raise SettingError("urls", "expected a list of http:// or https:// feed addresses")

    def read(self, cursor: str | None, limit: int = 200) -> tuple[list[Heard], str | None]:
        state = _load(cursor)
        found: list[tuple[str, Heard]] = []
        for url in self.settings["urls"]:
            slot = _digest(url)
            previous = state.get(slot, {})
            fetched = self._fetch(url, previous)
            if fetched is None:
                continue
            entries, validators = fetched
            seen = set(previous.get("seen", []))
            digests = []
            for entry in entries:
                item = entry_item(url, entry)
                digest = _digest(item.id)
                digests.append(digest)
                if digest not in seen:
                    found.append((item.platform_time or "", item))
            state[slot] = {**validators, "seen": digests[:SEEN_KEPT]}
        found.sort(key=lambda pair: pair[0])
        return [item for _time, item in found[:limit]], json.dumps(state, sort_keys=True, separators=(",", ":"))

    def _fetch(self, url: str, previous: dict[str, Any]) -> tuple[list[Any], dict[str, str]] | None:
        """The feed's entries and validators, or None when it did not change (304)."""
        import feedparser

        from channels.http import classify_status, request, shared_session

        headers = {"User-Agent": "publish (crisis response publisher; listening)",
                   "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"}
        if previous.get("etag"):
            headers["If-None-Match"] = previous["etag"]
        if previous.get("modified"):
            headers["If-Modified-Since"] = previous["modified"]
        timeout = float(self.settings["timeout"])
        response = request(lambda: shared_session().get(url, headers=headers, timeout=timeout), self.redact)
        if response.status_code == 304:
            return None
        classify_status(response, self.redact(f"the feed {url}"), self.redact)
        parsed = feedparser.parse(response.content, response_headers={
            key.lower(): value for key, value in response.headers.items() if key.lower() in (
                "content-type", "content-location", "content-language")})
        if not parsed.entries and (parsed.bozo or not parsed.version):
            from channels.base import Permanent

            raise Permanent(self.redact(f"{url} is not an RSS or Atom feed"))
        validators = {key: value for key, value in (("etag", response.headers.get("ETag")),
                                                    ("modified", response.headers.get("Last-Modified"))) if value}
        return list(parsed.entries), validators

    def check(self) -> str:
        return f"{len(self.settings['urls'])} feed(s)"


def entry_item(feed_url: str, entry: Any) -> Heard:
    """One feed entry as a heard item (see the module's guarantees)."""
    title = plain_text(str(entry.get("title") or ""), 1000)
    body = _body(entry)
    text = clean_text(f"{title}\n\n{body}" if title and body and body != title else (title or body))
    raw_id = str(entry.get("id") or entry.get("link") or "").strip()
    if not raw_id:
        raw_id = "sha256:" + hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()[:32]
    item_id = raw_id if ":" in raw_id else f"{feed_url}#{raw_id}"
    link = str(entry.get("link") or "")
    platform_time, extra = _time(entry)
    extra = {**extra, "feed": feed_url}
    if title:
        extra["title"] = title
    return Heard(platform="feed", id=clean_line(item_id, 1000), text=text,
                 author=clean_line(plain_text(str(entry.get("author") or ""), 400)),
                 url=link if link.startswith(("http://", "https://")) else None,
                 platform_time=platform_time, extra=extra)


def _body(entry: Any) -> str:
    contents = entry.get("content") or []
    for content in contents:
        value = content.get("value") if hasattr(content, "get") else None
        if value:
            return plain_text(str(value))
    return plain_text(str(entry.get("summary") or ""))


def _time(entry: Any) -> tuple[str | None, dict[str, Any]]:
    """The entry's published (else updated) time as ISO 8601 UTC, or None and the date as written."""
    for key in ("published", "updated"):
        parsed = dict.get(entry, f"{key}_parsed") if isinstance(entry, dict) else None
        if parsed:
            try:
                year, month, day, hour, minute, second = parsed[:6]
                moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
            except (TypeError, ValueError):
                continue
            return moment.isoformat(timespec="seconds").replace("+00:00", "Z"), {}
    written = dict.get(entry, "published") or dict.get(entry, "updated") if isinstance(entry, dict) else None
    return None, ({"date": clean_line(str(written), 100)} if written else {})


def _digest(item_id: str) -> str:
    return hashlib.sha256(item_id.encode()).hexdigest()[:16]


def _load(cursor: str | None) -> dict[str, dict[str, Any]]:
    return {url: value for url, value in cursor_fields(cursor).items() if isinstance(value, dict)}
