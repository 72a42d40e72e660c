"""Mastodon: posts a status with `POST /api/v1/statuses` on the account's own server.

Guarantees:
- every POST carries an `Idempotency-Key` (the message's part key), which the server
  keeps for an hour: a resend after a timeout, a reset or a 5xx returns the status the
  first attempt made instead of posting twice, so resending is safe (`idempotent`);
- one POST per call (no HTTP-level retries) with a timeout (channels.http);
- a 429 becomes Retryable with the delay until Mastodon's `X-RateLimit-Reset`, an
  ISO 8601 time on Mastodon (epoch seconds are accepted from look-alike servers);
- a thread posts part 0, then each part as a reply to the previous one, and resumes
  after `message.sent_parts`;
- reasons never carry the token, and urllib3's logger stays at WARNING.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import urlsplit

from channels import http
from channels.base import (Channel, Message, Permanent, post_in_parts,
                           quiet_loggers, Receipt, Retryable, SettingError)
from channels.schemas import OPTIONS

STATUS_ID = re.compile(r"[0-9]{1,20}")
STATUS_PATH = re.compile(r"/(?:web/)?(?:@[^/]+|users/[^/]+/statuses|statuses)/([0-9]{1,20})/?")


class MastodonChannel(Channel):
    type = "mastodon"
    variant = "short"
    max_length = 500
    counting = "mastodon"
    overflow = "thread"
    supports_reply = True
    idempotent = True
    options = OPTIONS["mastodon"]

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        super().__init__(name, settings, secrets)
        self.instance = str(self.settings["instance"]).rstrip("/")
        host = urlsplit(self.instance)
        if host.scheme not in ("http", "https") or not host.hostname:
            raise SettingError("instance", f"a URL like https://mastodon.social, got {self.instance!r}")
        if self.settings["max_length"] < 1:
            raise SettingError("max_length", "a whole number above 0")
        self.host = host.hostname.lower()
        self.max_length = self.settings["max_length"]
        self.api = str(self.settings.get("api_url") or self.instance).rstrip("/")
        self.add_secrets({str(self.settings["token"])})
        quiet_loggers("urllib3")

    def send(self, message: Message) -> Receipt:
        answered = self._status_id(message.reply_to) if message.reply_to and not message.sent_parts else None
        session = http.shared_session()
        return post_in_parts(message, lambda index, previous: self._post(
            session, message.parts[index], previous, _key(message, index)), answered)

    def check(self) -> str:
        session = http.shared_session()
        response = http.request(lambda: session.get(f"{self.api}/api/v1/accounts/verify_credentials",
                                                    headers=self._headers(), timeout=self.timeout), self.redact)
        self._fail_unless_ok(response)
        body = http.json_body(response)
        acct = body.get("acct") if isinstance(body, dict) else None
        if not isinstance(acct, str) or not acct:
            raise Retryable(f"Mastodon's answer to verify_credentials had no account (HTTP {response.status_code})")
        return f"Mastodon token works for @{acct} on {self.host}"

    can_look_up = True

    def lookup(self, reference: str) -> Receipt | None:
        status_id = self._status_id(reference)
        session = http.shared_session()
        response = http.request(lambda: session.get(f"{self.api}/api/v1/statuses/{status_id}",
                                                    headers=self._headers(), timeout=self.timeout), self.redact)
        if response.status_code == 404:
            return None
        self._fail_unless_ok(response)
        body = http.json_body(response)
        if not isinstance(body, dict) or str(body.get("id")) != status_id:
            raise Retryable(f"Mastodon's answer for status {status_id} is not that status")
        url, created = body.get("url") or body.get("uri"), body.get("created_at")
        return Receipt(id=status_id, url=url if isinstance(url, str) else None,
                       platform_time=created if isinstance(created, str) else None,
                       extra={"text": str(body.get("content") or "")})

    def _post(self, session: Any, text: str, reply_to: str | None, key: str) -> Receipt:
        payload: dict[str, Any] = {"status": text, "visibility": self.settings["visibility"]}
        if reply_to:
            payload["in_reply_to_id"] = reply_to
        headers = {**self._headers(), "Idempotency-Key": key}
        response = http.request(lambda: session.post(f"{self.api}/api/v1/statuses", json=payload, headers=headers,
                                                     timeout=self.timeout), self.redact)
        self._fail_unless_ok(response)
        body = http.json_body(response)
        status_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(status_id, str) or not STATUS_ID.fullmatch(status_id):
            raise Retryable(f"Mastodon answered HTTP {response.status_code} without a readable status; "
                            "the post may exist (a resend with the same Idempotency-Key is safe)",
                            maybe_delivered=True)
        url = body.get("url") or body.get("uri")
        created = body.get("created_at")
        return Receipt(id=status_id, url=url if isinstance(url, str) else None,
                       platform_time=created if isinstance(created, str) else None)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings['token']}", "Accept": "application/json"}

    def _fail_unless_ok(self, response: Any) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        said = self.redact(_error_text(response))
        if status == 429:
            delay = reset_delay(response.headers.get("X-RateLimit-Reset"))
            if delay is None:
                delay = http.retry_after_seconds(response.headers.get("Retry-After"))
            wait = f"; it resets in {delay:.0f} s" if delay is not None else "; Mastodon gave no reset time"
            raise Retryable(f"Mastodon rate limit reached ({said}){wait}", retry_after=delay)
        if status == 401:
            raise Permanent(f"Mastodon rejected the access token, it is wrong or revoked ({said})")
        if status == 403:
            raise Permanent(f"Mastodon does not allow this for this account ({said})")
        if status == 404:
            raise Permanent(f"Mastodon did not find what was asked, e.g. the post being replied to ({said})")
        if status == 422:
            raise Permanent(f"Mastodon refused the post ({said})")
        if status >= 500:
            raise Retryable(f"Mastodon had a server error ({said}); the post may exist",
                            retry_after=http.retry_after_seconds(response.headers.get("Retry-After")),
                            maybe_delivered=True)
        http.classify_status(response, "Mastodon", self.redact)

    def _status_id(self, reply_to: str) -> str:
        value = reply_to.strip()
        if STATUS_ID.fullmatch(value):
            return value
        parts = urlsplit(value)
        match = STATUS_PATH.fullmatch(parts.path) if parts.scheme in ("http", "https") else None
        if match and (parts.hostname or "").lower() == self.host:
            return match.group(1)
        if match:
            raise Permanent(self.redact(f"reply_to {value!r} is a post on {parts.hostname}; Mastodon ids are per "
                                        f"server, so give the post's URL or id as seen on {self.host}"))
        raise Permanent(self.redact(f"reply_to {value!r} is neither a Mastodon status id nor a status URL "
                                    f"like {self.instance}/@user/<id>"))


def reset_delay(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds until an `X-RateLimit-Reset` time (ISO 8601, or epoch seconds)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if STATUS_ID.fullmatch(text):
        return http.reset_epoch_seconds(text, None if now is None else now.timestamp())
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def _key(message: Message, index: int) -> str:
    if message.idempotency_key:
        return message.part_key(index)
    return f"{message.draft_id}-{message.channel}-{index}"


def _error_text(response: Any) -> str:
    body = http.json_body(response)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return f"HTTP {response.status_code}: {body['error']}"
    snippet = " ".join(re.sub(r"<[^>]*>", " ", response.text or "").split())[:160]
    return f"HTTP {response.status_code}: {snippet}" if snippet else f"HTTP {response.status_code}"
