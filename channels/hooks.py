"""What the four webhook channels (Slack, Discord, Teams, generic webhook) share.

Guarantees:
- a POST goes out once: requests go through `channels.http` (no retries), redirects
  are never followed (a redirected POST would be replayed as a GET), and every call
  carries the channel's timeout;
- a webhook URL is a credential: its parts (`channels.url_secrets`: every path segment
  and query value from 6 characters that is not a plain word, `sig=`, a password) join
  the channel's redaction set, urllib3's logger (which
  prints request paths at DEBUG) is held at WARNING, and no reason ever quotes the URL;
- `api_url`, when set, replaces the scheme and host of the webhook URL and keeps its path
  and query (proxies, tests);
- `check()` helpers only look at the URL: none of these platforms can test a webhook
  without posting to it (Discord can, and does so in its own module).
"""
from __future__ import annotations

import hashlib
import json
import re
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar, Mapping
from urllib.parse import urlsplit

from channels import http
from channels.base import Channel, Message, Permanent, Retryable, quiet_loggers
from channels.url_secrets import url_fragments

if TYPE_CHECKING:
    from requests import Response as Answer

QUIET_LOGGERS = ("urllib3", "requests", "charset_normalizer")


def url_secrets(url: str) -> frozenset[str]:
    """The parts of a webhook URL that act as credentials (`channels.url_secrets`)."""
    return url_fragments(url)


def rebase(url: str, api_url: str | None) -> str:
    """`url` sent to `api_url`'s scheme and host instead of its own."""
    if not api_url:
        return url
    parts = urlsplit(url)
    return api_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


def encode(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def answer_time(response: "Answer") -> str | None:
    """The platform's clock at the answer (its Date header), ISO 8601."""
    try:
        return parsedate_to_datetime(response.headers["Date"]).isoformat()
    except (KeyError, TypeError, ValueError):
        return None


def stable_id(prefix: str, message: Message, index: int = 0) -> str:
    """A receipt id for platforms that give none: the same for every retry of a part."""
    digest = hashlib.sha256(f"{message.draft_id}\n{message.channel}".encode()).hexdigest()[:16]
    return f"{prefix}-{digest}" + (f"-{index}" if index else "")


def server_error(reason: str, response: "Answer") -> Retryable:
    """A 5xx/408 answer. Only a gateway timeout (504) leaves the outcome open: the
    platform behind the gateway may have posted before the gateway gave up."""
    return Retryable(reason, http.retry_after_seconds(response.headers.get("Retry-After")),
                     maybe_delivered=response.status_code == 504)


def snippet(response: "Answer", limit: int = 200) -> str:
    return " ".join((response.text or "")[:limit].split())


class HookChannel(Channel):
    """Base of the webhook channels: holds the URL, the session and the redaction set."""

    url_option: ClassVar[str] = "webhook_url"
    platform: ClassVar[str] = "the webhook"

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        super().__init__(name, settings, secrets)
        self.url: str = self.settings[self.url_option]
        self.add_secrets(url_secrets(self.url))
        quiet_loggers(*QUIET_LOGGERS)

    @property
    def target(self) -> str:
        return rebase(self.url, self.settings.get("api_url"))

    def call(self, method: str, payload: Any = None, *, params: Mapping[str, str] | None = None,
             headers: Mapping[str, str] | None = None, target: str | None = None) -> "Answer":
        """One request to the webhook URL (or `target` under it); transport failures and
        redirects raise."""
        sent = dict(headers or {})
        body = None
        if payload is not None:
            body = encode(payload)
            sent.setdefault("Content-Type", "application/json; charset=utf-8")
        response = http.send(method, target or self.target, body=body, params=params, headers=sent,
                             timeout=self.timeout, redact=self.redact)
        if 300 <= response.status_code < 400:
            raise Permanent(f"the request was redirected (HTTP {response.status_code}) instead of "
                            f"answered by {self.platform}; check {self.url_option}")
        return response

    def check_url(self, kind: str, hosts: tuple[str, ...] = (), path: str | None = None,
                  example: str = "", secure: bool = True) -> str:
        """Check that the webhook URL is a well-formed `kind`: `hosts` lists accepted host
        names (a leading dot accepts any subdomain), `path` is a regular expression the path
        must match. With `api_url` set, scheme and host are the proxy's: only the path is
        checked."""
        expected = f"; expected something like {example}" if example else ""
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Permanent(f"{self.url_option} is not an http(s) URL{expected}")
        if path and not re.fullmatch(path, parts.path):
            raise Permanent(f"{self.url_option} does not look like a {kind}{expected}")
        api_url = self.settings.get("api_url")
        if api_url:
            proxy = urlsplit(api_url)
            if proxy.scheme not in ("http", "https") or not proxy.hostname:
                raise Permanent("api_url is not an http(s) URL")
            return f"{self.url_option} is well formed and goes through {proxy.hostname}; nothing was posted"
        if secure and parts.scheme != "https":
            raise Permanent(f"{self.url_option} must use https{expected}")
        host = parts.hostname.lower()
        if hosts and not any(host == h or (h.startswith(".") and host.endswith(h)) for h in hosts):
            raise Permanent(f"{self.url_option} points at {host}, which does not serve a {kind}{expected}")
        return f"{self.url_option} is a well-formed {kind} on {host}; nothing was posted"
