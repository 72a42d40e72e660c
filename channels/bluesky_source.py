"""Bluesky as a listening source: the account's mentions, replies and quotes, and a search
of posts by keywords, through the `atproto` SDK (pinned, as the channel pins it).

Guarantees:
- Streams: `app.bsky.notification.listNotifications` with reasons mention, reply and quote,
  and one `app.bsky.feed.searchPosts` (sort "latest") per keyword. An item is the post,
  keyed by its `at://` URI, so a mention also found by a search is one item.
- Both answer newest first with a cursor to older ones. The source's cursor is a small
  JSON object holding, per stream, the (time, URI) of the last item returned; a read pages
  down (at most `PAGES` pages, `since` that time for the search) until it reaches that
  mark, keeps what is newer, and returns it oldest first, at most `limit`; the mark moves
  only past what was returned, so a read resumed from any cursor it gave neither loses nor
  repeats an item. Past `PAGES` pages the oldest ones reached come first and
  `extra["gap"]` says some may be missing. With no cursor a stream starts at its most
  recent page (an empty one at the beginning).
- The platform time is the post's `sortAt` as Bluesky orders it: the earlier of its
  `createdAt` and the time the network indexed it (a post cannot claim to be older than
  its record says nor newer than it was seen); both are kept in `extra`. `answers` is the
  post's reply parent URI; the author is "display name (@handle)".
- Every request goes through the channel's transport and session (`BlueskyChannel`:
  `channels.http` by `channels.httpx_bridge`, bounded, once, to `api_url`); an expired
  token gets one new session; a refused login is Permanent, a 429 Retryable after
  `RateLimit-Reset`, a 5xx or an unreadable answer Retryable. No reason carries the app
  password or a token.
"""
from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any, Mapping

from channels.base import Retryable, SettingError
from channels.bluesky_records import post_reference, post_url
from channels.heard_fields import heard_author, heard_text, platform_time
from channels.heard_text import clean_line
from channels.options import NETWORK_OPTIONS, Option
from channels.schemas import BLUESKY_URL
from channels.sources import cursor_fields, Heard, oldest_first, Source

if TYPE_CHECKING:
    from channels.bluesky import BlueskyChannel

PAGE = 100
PAGES = 10
REASONS = ["mention", "reply", "quote"]


class BlueskySource(Source):
    type = "bluesky"
    channel_keys = ("handle", "app_password", "api_url", "timeout")
    """The keys of a `bluesky` channel's section that `channel = NAME` reuses."""
    options = {
        "channel": Option(str, help="the [channels.NAME] whose handle and app password this source reuses"),
        "handle": Option(str, required=True, help="the account's handle, e.g. acme.bsky.social"),
        "app_password": Option(str, required=True, secret=True, help="an app password of the account"),
        "keywords": Option(list, default=[], help="words to search posts for"),
        "mentions": Option(bool, default=True, help="read the account's mentions, replies and quotes"),
        **NETWORK_OPTIONS,
        "api_url": Option(str, default=BLUESKY_URL, help="the account's PDS; https://bsky.social forwards to it"),
    }

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        from channels.bluesky import BlueskyChannel

        password = str(settings.get("app_password") or "")
        super().__init__(name, settings, secrets | {password})
        words = self.settings.get("keywords") or []
        if not all(isinstance(word, str) and word.strip() for word in words):
            raise SettingError("keywords", "a list of words")
        self.keywords = [" ".join(word.split()) for word in words]
        self.account: BlueskyChannel = BlueskyChannel.build(name, {  # type: ignore[assignment]
            "type": "bluesky", "handle": self.settings["handle"], "app_password": password,
            "api_url": self.settings["api_url"], "timeout": self.settings.get("timeout", 20)}, secrets | {password})

    def streams(self) -> list[str]:
        return (["mentions"] if self.settings.get("mentions", True) else []) + [f"search:{w}" for w in self.keywords]

    def read(self, cursor: str | None, limit: int = 200) -> tuple[list[Heard], str | None]:
        marks = _marks(cursor)
        pending = {stream: self._stream(stream, marks.get(stream), limit) for stream in self.streams()}
        following: dict[str, list[str]] = {stream: list(mark) for stream, mark in marks.items()}
        for stream, found in pending.items():
            if stream not in following:
                following[stream] = [found[0][0][0], ""] if found else ["", ""]
        items = oldest_first(pending, following, limit, lambda pair: pair[0])
        return items, json.dumps(following, sort_keys=True, ensure_ascii=False)

    def check(self) -> str:
        return self.account.check()

    def _stream(self, stream: str, mark: tuple[str, str] | None, limit: int) -> list[tuple[tuple[str, str], Heard]]:
        """((time, uri), item) pairs after `mark`, oldest first, at most `limit`."""
        from atproto_client import models

        newer: list[tuple[tuple[str, str], Heard]] = []
        seen: set[str] = set()
        page_cursor: str | None = None
        reached = False
        for _ in range(PAGES if mark else 1):
            if stream == "mentions":
                params: Any = models.AppBskyNotificationListNotifications.Params(
                    reasons=REASONS, limit=PAGE if mark else min(PAGE, limit), cursor=page_cursor)
                answer = self.account.read_as_account(functools.partial(
                    query, nsid="app.bsky.notification.listNotifications", params=params))
                entries = [(_notification_mark(entry), entry) for entry in _list(answer, "notifications")]
            else:
                params = models.AppBskyFeedSearchPosts.Params(
                    q=stream[len("search:"):], sort="latest", limit=PAGE if mark else min(PAGE, limit),
                    cursor=page_cursor, since=mark[0] if mark and mark[0] else None)
                answer = self.account.read_as_account(functools.partial(
                    query, nsid="app.bsky.feed.searchPosts", params=params))
                entries = [(_post_mark(entry), entry) for entry in _list(answer, "posts")]
            before = len(newer)
            for key, entry in entries:
                if mark is not None and key <= mark:
                    reached = True
                    continue
                if key[1] in seen:
                    continue
                seen.add(key[1])
                newer.append((key, self._heard(entry, stream, notification=stream == "mentions")))
            following = answer.get("cursor") if isinstance(answer.get("cursor"), str) else None
            if reached or not following or following == page_cursor or len(newer) == before:
                break
            page_cursor = following
        else:
            if mark is not None and newer:
                newer = [(key, item.with_extra(gap=True)) for key, item in newer]
        newer.sort(key=lambda pair: pair[0])
        return newer[:limit]


    def _heard(self, entry: Any, stream: str, notification: bool) -> Heard:
        return post_heard(entry, {"source": self.name, "via": stream}, notification)


def post_heard(entry: Mapping[str, Any], extra: dict[str, Any], notification: bool = False) -> Heard:
    """A PostView or a notification of a post, as the JSON of the answer, as a heard item
    (also a source post named by its URL)."""
    record = _mapping(entry.get("record"))
    created, indexed = record.get("createdAt"), entry.get("indexedAt")
    extra["created_at"], extra["indexed_at"] = platform_time(created), platform_time(indexed)
    if created and extra["created_at"] is None:
        extra["unreadable_time"] = clean_line(str(created), 64)
    if notification:
        extra["reason"] = clean_line(str(entry.get("reason", "")), 40)
    moments = [moment for moment in (extra["created_at"], extra["indexed_at"]) if moment]
    uri = clean_line(str(entry.get("uri", "")), 2000)
    reference = post_reference(uri)
    author = _mapping(entry.get("author"))
    answers = _mapping(_mapping(record.get("reply")).get("parent")).get("uri")
    return Heard(platform="bluesky", id=uri, text=heard_text(record.get("text"), extra),
                 author=heard_author(author.get("displayName"), author.get("handle")),
                 url=post_url(*reference) if reference else None,
                 platform_time=min(moments) if moments else None,
                 answers=clean_line(answers, 2000) if isinstance(answers, str) and answers.startswith("at://") else None,
                 extra=extra)


def query(client: Any, nsid: str, params: Any) -> dict[str, Any]:
    """The JSON answer of a query, as the PDS or the AppView sent it: read without the SDK's
    models, so one item the models would refuse (a display name or a text over the lexicon's
    length) is stored cleaned instead of failing every read."""
    answer = client.invoke_query(nsid, params=params, output_encoding="application/json")
    content = getattr(answer, "content", None)
    if not isinstance(content, dict):
        raise Retryable(f"Bluesky's answer to {nsid} is not a JSON object")
    return content


def _notification_mark(entry: Mapping[str, Any]) -> tuple[str, str]:
    return (platform_time(entry.get("indexedAt")) or "", str(entry.get("uri", "")))


def _post_mark(entry: Mapping[str, Any]) -> tuple[str, str]:
    created = platform_time(_mapping(entry.get("record")).get("createdAt"))
    indexed = platform_time(entry.get("indexedAt")) or ""
    return (min(created, indexed) if created and indexed else indexed or created or "", str(entry.get("uri", "")))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(answer: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    found = answer.get(name)
    if not isinstance(found, list):
        raise Retryable(f"Bluesky's answer had no {name} list")
    return [entry for entry in found if isinstance(entry, dict) and str(entry.get("uri", "")).startswith("at://")]


def _marks(cursor: str | None) -> dict[str, tuple[str, str]]:
    return {key: (value[0], value[1]) for key, value in cursor_fields(cursor).items()
            if isinstance(key, str) and isinstance(value, list) and len(value) == 2
            and all(isinstance(part, str) for part in value)}
