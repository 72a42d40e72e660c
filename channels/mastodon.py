"""Mastodon: posts a status with `POST /api/v1/statuses` on the account's own server.

Guarantees:
- every POST carries an `Idempotency-Key` (the message's part key), which the server
  keeps for one hour (docs.joinmastodon.org/methods/statuses/#create): a resend within
  that hour after a timeout, a reset or a 5xx returns the status the first attempt made
  instead of posting twice, so resending is safe (`idempotent`);
- after that hour the key may be forgotten: once the message's first attempt is
  `KEY_SECONDS - CLOCK_MARGIN` or longer ago, each part still to send is first looked up
  among the account's own statuses created since then (`CLOCK_MARGIN` before it, for
  the two clocks), by the post it answers and by its text as Mastodon shows it (HTML
  read back to text, a mention's domain aside); one found is taken as the delivery
  (`extra["found_on_platform"]`) and not posted again; the parts after the first one
  not found are posted, since they answer a post that did not exist. A lookup that
  cannot finish (a listing it cannot read, more than `LOOKUP_PAGES` pages since then)
  posts nothing and leaves the outcome unknown;
- one POST per call (no HTTP-level retries) with a timeout (channels.http);
- a 429 becomes Retryable with the delay until Mastodon's `X-RateLimit-Reset`, an
  ISO 8601 time on Mastodon (epoch seconds are accepted from look-alike servers);
- a thread posts part 0, then each part as a reply to the previous one, and resumes
  after `message.sent_parts`;
- an edit (`edit`) replaces each part's text in place with `PUT /api/v1/statuses/:id`
  (docs.joinmastodon.org/methods/statuses/#edit), the receipt's time being Mastodon's
  `edited_at`; a deletion (`delete`) is `DELETE /api/v1/statuses/:id`, last part first,
  and a 404 (already gone) counts as deleted, so a repeated withdrawal is safe;
- reasons never carry the token, and urllib3's logger stays at WARNING.
"""
from __future__ import annotations

import functools
import html
import re
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import urlsplit

from channels import http
from channels.base import CLOCK_MARGIN as CLOCK_MARGIN, lookup_since as base_lookup_since
from channels.base import (Channel, looking_before_resend, Message, part_ids, Permanent, post_in_parts,
                           quiet_loggers, Receipt, Retryable, SettingError, too_many_to_look_up)
from channels.schemas import OPTIONS

KEY_SECONDS = 3600
LOOKUP_PAGES = 5
PAGE_SIZE = 40
STATUS_ID = re.compile(r"[0-9]{1,20}")
MENTION_DOMAIN = re.compile(r"(?<![\w/])(@[A-Za-z0-9_]+)@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
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
        if self.settings["max_length"] < 1:
            raise SettingError("max_length", "a whole number above 0")
        self.host = (host.hostname or "").lower()
        self.max_length = self.settings["max_length"]
        self.api = str(self.settings.get("api_url") or self.instance).rstrip("/")
        self.add_secrets({str(self.settings["token"])})
        quiet_loggers("urllib3")

    def send(self, message: Message) -> Receipt:
        answered = self._status_id(message.reply_to) if message.reply_to and not message.sent_parts else None
        session = http.shared_session()
        since = lookup_since(message.first_attempt)
        found: list[str] = []

        def post(index: int, previous: str | None) -> Receipt:
            nonlocal since
            if since is not None:
                existing = self._find_posted(session, message.parts[index], previous, since)
                if existing is not None:
                    found.append(existing.id)
                    return existing
                since = None
            return self._post(session, message.parts[index], previous, _key(message, index))

        receipt = post_in_parts(message, post, answered)
        if found:
            receipt = Receipt(receipt.id, receipt.url, receipt.platform_time,
                              {**receipt.extra, "found_on_platform": found})
        return receipt

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
    can_edit = True
    can_delete = True

    def edit(self, receipt: Receipt, message: Message) -> Receipt:
        ids = part_ids(receipt, len(message.parts), "Mastodon")
        session = http.shared_session()
        edited: list[Receipt] = []
        for status_id, text in zip(ids, message.parts, strict=True):
            response = http.request(functools.partial(
                session.put, f"{self.api}/api/v1/statuses/{status_id}", json={"status": text},
                headers=self._headers(), timeout=self.timeout), self.redact)
            self._fail_unless_ok(response)
            body = http.json_body(response)
            if not isinstance(body, dict) or str(body.get("id")) != status_id:
                raise Retryable(f"Mastodon's answer to the edit of status {status_id} is not that status",
                                maybe_delivered=True)
            found = _receipt(body)
            edited.append(Receipt(found.id, found.url, str(body.get("edited_at") or "") or found.platform_time))
        first = edited[0]
        return Receipt(first.id, first.url, first.platform_time, {"part_ids": [item.id for item in edited]})

    def delete(self, receipt: Receipt) -> str | None:
        session = http.shared_session()
        for status_id in reversed(part_ids(receipt, None, "Mastodon")):
            response = http.request(functools.partial(
                session.delete, f"{self.api}/api/v1/statuses/{status_id}", headers=self._headers(),
                timeout=self.timeout), self.redact)
            if response.status_code != 404:
                self._fail_unless_ok(response)
        return None

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
        found = _receipt(body)
        return Receipt(found.id, found.url, found.platform_time, extra={"text": str(body.get("content") or "")})

    def _find_posted(self, session: Any, text: str, reply_to: str | None, since: datetime) -> Receipt | None:
        """The account's status created since `since` that answers `reply_to` and shows
        `text`, or None when none does; newest first, `PAGE_SIZE` at a time."""
        wanted = comparable(text)
        with looking_before_resend(lambda reason: (
                f"Mastodon would not show the account's posts to look for the one an earlier attempt may have made "
                f"({reason}); the token needs the read:accounts and read:statuses scopes. Nothing was posted again")):
            account = self._account_id(session)
            older_than: str | None = None
            for _ in range(LOOKUP_PAGES):
                response = self._statuses_page(session, account, older_than)
                page = http.json_body(response)
                if not isinstance(page, list) or not all(isinstance(status, dict) for status in page):
                    raise Retryable(f"Mastodon's list of the account's posts (HTTP {response.status_code}) could "
                                    "not be read", maybe_delivered=True)
                for status in page:
                    created = _moment(status.get("created_at"))
                    if created is not None and created < since:
                        return None
                    if str(status.get("in_reply_to_id") or "") == (reply_to or "") \
                            and comparable(shown_text(str(status.get("content") or ""))) == wanted:
                        return _receipt(status)
                if len(page) < PAGE_SIZE or not STATUS_ID.fullmatch(str(page[-1].get("id"))):
                    return None
                older_than = str(page[-1]["id"])
        raise too_many_to_look_up(f"the account has more than {LOOKUP_PAGES * PAGE_SIZE} posts")

    def _statuses_page(self, session: Any, account: str, older_than: str | None) -> Any:
        """One page of the account's statuses, newest first, older than `older_than`."""
        params = {"limit": str(PAGE_SIZE), "exclude_reblogs": "true"}
        if older_than:
            params["max_id"] = older_than
        response = http.request(lambda: session.get(f"{self.api}/api/v1/accounts/{account}/statuses",
                                                    params=params, headers=self._headers(), timeout=self.timeout),
                                self.redact)
        self._fail_unless_ok(response)
        return response

    def _account_id(self, session: Any) -> str:
        response = http.request(lambda: session.get(f"{self.api}/api/v1/accounts/verify_credentials",
                                                    headers=self._headers(), timeout=self.timeout), self.redact)
        self._fail_unless_ok(response)
        body = http.json_body(response)
        account = body.get("id") if isinstance(body, dict) else None
        if not isinstance(account, str) or not STATUS_ID.fullmatch(account):
            raise Retryable(f"Mastodon's answer to verify_credentials had no account id (HTTP {response.status_code})")
        return account

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
        return _receipt(body)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings['token']}", "Accept": "application/json"}

    def _fail_unless_ok(self, response: Any) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        said = self.redact(_error_text(response))
        if status == 429:
            raise http.rate_limited("Mastodon", said, rate_limit_delay(response))
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


def rate_limit_delay(response: Any) -> float | None:
    """Seconds until a 429's limit resets: Mastodon's `X-RateLimit-Reset`, else `Retry-After`."""
    delay = reset_delay(response.headers.get("X-RateLimit-Reset"))
    return delay if delay is not None else http.retry_after_seconds(response.headers.get("Retry-After"))


def lookup_since(first_attempt: str | None, now: datetime | None = None) -> datetime | None:
    """`channels.base.lookup_since` with this platform's memory (KEY_SECONDS)."""
    return base_lookup_since(first_attempt, KEY_SECONDS, now)


def shown_text(content: str) -> str:
    """The text a status's HTML `content` shows: paragraphs and line breaks as line breaks,
    tags dropped (a link's hidden parts stay, so a URL reads whole), entities decoded."""
    text = re.sub(r"</p>\s*<p[^>]*>", "\n\n", content)
    text = re.sub(r"<br\s*/?>", "\n", text)
    return html.unescape(re.sub(r"<[^>]*>", "", text))


def comparable(text: str) -> str:
    """`text` as two renderings of one post agree on it: spaces and line breaks as single
    spaces, a mention without its domain (Mastodon shows `@user` for `@user@domain`)."""
    return " ".join(MENTION_DOMAIN.sub(r"\1", text).split())


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _receipt(status: Mapping[str, Any]) -> Receipt:
    url, created = status.get("url") or status.get("uri"), status.get("created_at")
    return Receipt(id=str(status["id"]), url=url if isinstance(url, str) else None,
                   platform_time=created if isinstance(created, str) else None)


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
