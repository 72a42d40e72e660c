"""One post named by its URL, read from its platform: the source of an incident.

Guarantees:
- `fetch_source_post(url, channels)` gives the post as a `Heard` with the platform's own
  time: an X post (`x.com`/`twitter.com` status URL) through the configured X channel's
  look-up, else from its id alone (an X id carries its time to the millisecond); a
  Mastodon status (`/@user/ID`, `/users/user/statuses/ID`) through `GET
  /api/v1/statuses/:id` on its own server, with the token of a Mastodon channel on that
  server when there is one; a Bluesky post (bsky.app URL or `at://` URI) through
  `app.bsky.feed.getPosts`, as the Bluesky channel's account when there is one, else on
  the public AppView; a Facebook post through the Facebook channel's Graph look-up (a
  page token is needed); any other page by its HTML: `article:published_time` (or an
  `itemprop="datePublished"`) or JSON-LD `datePublished`, its author and title.
- Reads go through `channels.http` (one transport, bounded in bytes and time; a page
  longer than its bound is refused, never read in part), a page's redirects followed by
  hand at most `REDIRECTS` times, to http(s) only; failures are
  `channels.base` `Retryable`/`Permanent` with one sentence, never a secret.
- `time_in_url(url)` is the time an X or Mastodon post's id carries, without the network.
- What comes back is cleaned like every heard item (`channels.heard_fields`); a page
  with no readable time gives a `Heard` whose `platform_time` is None.
"""
from __future__ import annotations

import functools
import json
import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any, Iterable, Sequence
from urllib.parse import urljoin, urlsplit

from channels import http
from channels.base import Channel, DeliveryError, Permanent, Retryable
from channels.bluesky_records import post_reference, post_uri
from channels.heard_fields import heard_author, heard_text, platform_time, time_and_note
from channels.heard_text import clean_line, read_html
from channels.redaction import SecretMatcher, redact
from channels.sources import Heard

PUBLIC_APPVIEW = "https://public.api.bsky.app"
REDIRECTS = 3
X_EPOCH_MS = 1288834974657
X_POST = re.compile(r"^https?://(?:www\.|mobile\.)?(?:x|twitter)\.com/([^/?#]+)/status(?:es)?/(\d{15,20})(?:[/?#]|$)")
MASTODON_POST = re.compile(r"^https?://([^/?#]+)/(?:@([^/?#]+)|users/([^/?#]+)/statuses)/(\d{16,19})(?:[/?#]|$)")
FACEBOOK = re.compile(r"^https?://(?:[a-z0-9-]+\.)?(?:facebook\.com|fb\.com)/", re.IGNORECASE)
EARLIEST = datetime(2006, 3, 21, tzinfo=timezone.utc)
PUBLISHED_META = ("article:published_time", "og:article:published_time", "datepublished", "pubdate",
                  "publish-date", "dc.date.issued", "sailthru.date")
ARTICLE_TYPES = ("article", "newsarticle", "blogposting", "reportagenewsarticle", "socialmediaposting",
                 "discussionforumposting", "posting", "webpage", "report", "liveblogposting")


def platform_of(url: str) -> str:
    """x, mastodon, bluesky, facebook or web: the platform a source URL names."""
    text = url.strip()
    if X_POST.match(text):
        return "x"
    if post_reference(text) is not None:
        return "bluesky"
    if FACEBOOK.match(text):
        return "facebook"
    if MASTODON_POST.match(text):
        return "mastodon"
    return "web"


def time_in_url(url: str | None, now: datetime | None = None) -> datetime | None:
    """When an X or Mastodon post was published, from the time its id carries; None otherwise."""
    if not url:
        return None
    now = now or datetime.now(timezone.utc)
    found = X_POST.match(url.strip())
    if found:
        return _plausible(((int(found.group(2)) >> 22) + X_EPOCH_MS) / 1000, now)
    found = MASTODON_POST.match(url.strip())
    if found:
        return _plausible((int(found.group(4)) >> 16) / 1000, now)
    return None


def fetch_source_post(url: str, channels: Sequence[Channel] = (), *, timeout: float = 20.0,
                      appview: str = PUBLIC_APPVIEW, secrets: Iterable[str] = ()) -> Heard:
    """The post `url` names, read from its platform (see the module's guarantees)."""
    url = url.strip()
    if not url.startswith(("https://", "http://", "at://")):
        raise Permanent("the source must be a post's or a page's URL, starting with https://")
    hidden = SecretMatcher(frozenset(secret for secret in secrets if secret))

    def masked(text: str) -> str:
        return redact(text, hidden)

    platform = platform_of(url)
    try:
        if platform == "x":
            return _x(url, _first(channels, "x"))
        if platform == "bluesky":
            return _bluesky(url, _first(channels, "bluesky"), timeout, appview, masked)
        if platform == "facebook":
            return _facebook(url, _first(channels, "facebook"))
        if platform == "mastodon":
            return _mastodon(url, channels, timeout, masked)
        return _page(url, timeout, masked)
    except DeliveryError as error:
        error.reason = masked(error.reason)
        error.args = (error.reason,)
        raise


def _first(channels: Sequence[Channel], kind: str) -> Channel | None:
    return next((channel for channel in channels if channel.type == kind), None)


def _x(url: str, channel: Channel | None) -> Heard:
    found = X_POST.match(url)
    assert found is not None
    handle, post_id = found.group(1), found.group(2)
    extra: dict[str, Any] = {"source": "url"}
    moment = time_in_url(url)
    text = ""
    if channel is not None:
        receipt = channel.lookup(post_id)
        if receipt is None:
            raise Permanent(f"X has no post {post_id} (deleted, or not visible to the X channel's account)")
        text = heard_text(receipt.extra.get("text"), extra)
        extra["read_with"] = channel.name
    else:
        extra["time_from"] = "post id"
    return Heard(platform="x", id=post_id, text=text, author=heard_author(None, handle),
                 url=f"https://x.com/{clean_line(handle, 60)}/status/{post_id}",
                 platform_time=platform_time(moment.timestamp()) if moment else None, extra=extra)


def _facebook(url: str, channel: Channel | None) -> Heard:
    if channel is None:
        raise Permanent("reading a Facebook post needs a Facebook channel in the config (its page token)")
    receipt = channel.lookup(url)
    if receipt is None:
        raise Permanent("Facebook has no such post, or the page's token may not read it")
    extra: dict[str, Any] = {"source": "url", "read_with": channel.name}
    parts = [segment for segment in urlsplit(url).path.split("/") if segment]
    author = parts[0] if parts and parts[0] not in ("permalink.php", "story.php", "groups", "watch") else ""
    return Heard(platform="facebook", id=receipt.id, text=heard_text(receipt.extra.get("text"), extra),
                 author=heard_author(None, author) if author else "", url=receipt.url or url,
                 platform_time=time_and_note(receipt.platform_time, extra), extra=extra)


def _mastodon(url: str, channels: Sequence[Channel], timeout: float, masked: Any) -> Heard:
    from channels.mastodon import MastodonChannel
    from channels.mastodon_source import status_heard

    found = MASTODON_POST.match(url)
    assert found is not None
    parts = urlsplit(url)
    host, status_id = (parts.hostname or "").lower(), found.group(4)
    base, headers = f"{parts.scheme}://{parts.netloc}", {"Accept": "application/json"}
    for channel in channels:
        if isinstance(channel, MastodonChannel) and channel.host == host:
            base = channel.api
            headers["Authorization"] = f"Bearer {channel.settings['token']}"
            break
    session = http.shared_session()
    response = http.request(lambda: session.get(f"{base}/api/v1/statuses/{status_id}", headers=headers,
                                                timeout=timeout), masked)
    if response.status_code in (401, 403, 404):
        raise Permanent(f"{host} does not show status {status_id} (HTTP {response.status_code}): it was deleted, "
                        "is not public, or the server needs a token (add a Mastodon channel on that server)")
    if response.status_code == 429 or response.status_code >= 500:
        raise Retryable(f"{host} could not answer now (HTTP {response.status_code})",
                        retry_after=http.retry_after_seconds(response.headers.get("Retry-After")))
    status = http.json_body(response)
    if not (200 <= response.status_code < 300) or not isinstance(status, dict) or str(status.get("id")) != status_id:
        raise Retryable(f"{host}'s answer for status {status_id} (HTTP {response.status_code}) is not that status")
    return status_heard(status, {"source": "url"})


def _bluesky(url: str, channel: Channel | None, timeout: float, appview: str, masked: Any) -> Heard:
    from atproto_client import models

    from channels.bluesky_source import post_heard, query

    from channels.bluesky import BlueskyChannel

    repo, rkey = post_reference(url) or ("", "")
    if isinstance(channel, BlueskyChannel):
        reader: Any = channel.read_as_account
    else:
        reader = _anonymous_reader(appview, timeout, masked)
    if not repo.startswith("did:"):
        handle = repo.lower()
        resolved = reader(functools.partial(query, nsid="com.atproto.identity.resolveHandle",
                                            params=models.ComAtprotoIdentityResolveHandle.Params(handle=handle)))
        repo = str(resolved.get("did") or "")
        if not repo.startswith("did:"):
            raise Permanent(f"Bluesky does not know the handle {handle}")
    uri = post_uri(repo, rkey)
    answer = reader(functools.partial(query, nsid="app.bsky.feed.getPosts",
                                      params=models.AppBskyFeedGetPosts.Params(uris=[uri])))
    found = answer.get("posts")
    posts = [post for post in found if isinstance(post, dict) and post.get("uri") == uri] \
        if isinstance(found, list) else []
    if not posts:
        raise Permanent(f"Bluesky has no post {uri} (deleted, or hidden from logged-out readers)")
    return post_heard(posts[0], {"source": "url"})


def _anonymous_reader(appview: str, timeout: float, masked: Any) -> Any:
    """A reader like `BlueskyChannel.read_as_account` on the public AppView, without an account."""
    from atproto_client import Client
    from atproto_client.request import Request

    from channels.httpx_bridge import transport

    client = Client(base_url=appview.rstrip("/"), request=Request(transport=transport(timeout, masked)))

    def read(call: Any) -> Any:
        try:
            return call(client)
        except DeliveryError:
            raise
        except Exception as raw:  # noqa: BLE001 - the SDK's errors, as the channel reads them
            status = getattr(getattr(raw, "response", None), "status_code", None)
            content = getattr(getattr(raw, "response", None), "content", None)
            said = f"HTTP {status} {getattr(content, 'error', '') or ''}".strip() if status else type(raw).__name__
            if status == 429 or (isinstance(status, int) and status >= 500):
                raise Retryable(masked(f"the Bluesky AppView could not answer now ({said})")) from None
            raise Permanent(masked(f"the Bluesky AppView refused the look-up ({said})")) from None

    return read


def _page(url: str, timeout: float, masked: Any) -> Heard:
    session = http.shared_session()
    address = url
    for _ in range(REDIRECTS + 1):
        try:
            response = http.request(functools.partial(session.get, address, timeout=timeout, headers={
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"}), masked)
        except Retryable as error:
            if error.reason == http.too_large().reason:
                raise Permanent(f"the page at {_host(address)} is longer than "
                                f"{http.MAX_ANSWER // (1 << 20)} MiB, more than is read of one page") from None
            raise
        if response.status_code in (301, 302, 303, 307, 308) and response.headers.get("Location"):
            following = urljoin(address, response.headers["Location"])
            if not following.startswith(("https://", "http://")):
                raise Permanent(f"{_host(address)} redirects to something that is not a web page")
            address = following
            continue
        break
    else:
        raise Permanent(f"{_host(url)} redirects more than {REDIRECTS} times")
    status = response.status_code
    if status == 429 or status >= 500:
        raise Retryable(f"{_host(address)} could not answer now (HTTP {status})",
                        retry_after=http.retry_after_seconds(response.headers.get("Retry-After")))
    if not 200 <= status < 300:
        raise Permanent(f"{_host(address)} answered HTTP {status} for the source page")
    kind = response.headers.get("Content-Type", "")
    if kind and "html" not in kind.lower():
        raise Permanent(f"the source URL is not a web page ({clean_line(kind.split(';')[0], 60)})")
    return page_heard(response.text or "", address)


def page_heard(document: str, url: str) -> Heard:
    """A news or blog page as a heard item: its publication time, author, title and summary."""
    reader = _PageReader()
    read_html(reader, document)
    linked = _linked_data(reader.scripts)
    extra: dict[str, Any] = {"source": "url"}
    published = next((value for key in PUBLISHED_META for value in reader.meta.get(key, [])), None)
    extra["time_from"] = "meta" if published else None
    if published is None and linked.get("datePublished"):
        published, extra["time_from"] = linked["datePublished"], "json-ld"
    if published is None and reader.time_published:
        published, extra["time_from"] = reader.time_published, "time element"
    if extra["time_from"] is None:
        del extra["time_from"]
    moment = time_and_note(published, extra)
    if moment is not None and isinstance(published, str) and not re.search(r"(Z|[+-]\d\d:?\d\d)\s*$", published):
        extra["offset_missing"] = True
    title = _first_text(reader.meta.get("og:title"), [linked.get("headline")], [reader.title])
    summary = _first_text(reader.meta.get("og:description"), reader.meta.get("description"),
                          [linked.get("description")])
    author = _first_text([linked.get("author")], reader.meta.get("author"), reader.meta.get("article:author"))
    canonical = reader.canonical or _first_text(reader.meta.get("og:url"))
    if not (canonical and canonical.startswith(("https://", "http://"))):
        canonical = url
    text = "\n\n".join(part for part in (title, summary) if part)
    return Heard(platform="web", id=clean_line(canonical, 2000), text=heard_text(text, extra),
                 author=heard_author(author, None), url=clean_line(canonical, 2000), platform_time=moment,
                 extra={**extra, "site": _host(canonical)})


class _PageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.scripts: list[str] = []
        self.title = ""
        self.canonical = ""
        self.time_published = ""
        self._in: str | None = None
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key.lower(): value or "" for key, value in attrs}
        if tag == "meta":
            name = (values.get("property") or values.get("name") or values.get("itemprop") or "").lower()
            if name and "content" in values:
                self.meta.setdefault(name, []).append(values["content"])
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split() and not self.canonical:
            self.canonical = values.get("href", "")
        elif tag == "time" and values.get("itemprop", "").lower() == "datepublished" and not self.time_published:
            self.time_published = values.get("datetime", "")
        elif tag == "script" and "ld+json" in values.get("type", "").lower():
            self._in, self._buffer = "script", []
        elif tag == "title" and not self.title:
            self._in, self._buffer = "title", []

    def handle_endtag(self, tag: str) -> None:
        if self._in == tag:
            text = "".join(self._buffer)
            if tag == "script":
                self.scripts.append(text[:200_000])
            else:
                self.title = text
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self._buffer.append(data)


def _linked_data(scripts: list[str]) -> dict[str, Any]:
    """datePublished, headline, description and author of the page's article in its JSON-LD."""
    found: list[dict[str, Any]] = []

    def walk(node: Any, depth: int = 0) -> None:
        if depth > 8:
            return
        if isinstance(node, list):
            for child in node[:200]:
                walk(child, depth + 1)
        elif isinstance(node, dict):
            if "datePublished" in node:
                found.append(node)
            for key in ("@graph", "mainEntity", "itemListElement"):
                if key in node:
                    walk(node[key], depth + 1)

    for script in scripts:
        try:
            walk(json.loads(script))
        except (ValueError, RecursionError):
            continue

    def rank(node: dict[str, Any]) -> int:
        kinds = node.get("@type")
        names = [kinds] if isinstance(kinds, str) else kinds if isinstance(kinds, list) else []
        return 0 if any(str(name).lower() in ARTICLE_TYPES for name in names) else 1

    if not found:
        return {}
    node = sorted(found, key=rank)[0]
    author = node.get("author")
    if isinstance(author, list):
        author = author[0] if author else None
    if isinstance(author, dict):
        author = author.get("name")
    return {"datePublished": node.get("datePublished"), "headline": node.get("headline") or node.get("name"),
            "description": node.get("description"), "author": author}


def _first_text(*candidates: Any) -> str:
    for values in candidates:
        for value in values or []:
            if isinstance(value, str) and value.strip():
                return clean_line(value, 500)
    return ""


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "the site").lower()


def _plausible(seconds: float, now: datetime) -> datetime | None:
    try:
        moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment if EARLIEST <= moment <= now + timedelta(days=1) else None
