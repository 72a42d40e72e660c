"""Instagram: the statement as image cards with the statement as caption (Instagram Graph API).

Guarantees:
- The cards are drawn from the approved text (`channels.cards`: the same text gives the
  same bytes) and written into the statements page's folder, `<site path>/cards/`, where
  Instagram fetches them: `<base_url>cards/<draft>-<n>.jpg` of the site channel the
  `site` setting names. Without that site's `base_url` nothing is sent: `send` and
  `check` refuse, saying so in one sentence.
- One card is an image post; a longer statement is a carousel of up to 10 cards, each
  card's alt text the part of the statement it shows (a single card's alt text is the
  whole statement). The caption is the approved text, counted by Instagram's rules where
  drafts are measured (`publisher.drafting.lengths`, counting `instagram`).
- The flow is the documented one (Content Publishing guide): `POST /{ig-user-id}/media`
  (a container per card, and a carousel container over them), `GET /{container-id}
  ?fields=status_code,status` until FINISHED, at most `polls` reads `poll_every` seconds
  apart, `POST /{ig-user-id}/media_publish`, then `GET /{ig-media-id}?fields=permalink,
  timestamp` for the receipt. Before it, `GET /{ig-user-id}/content_publishing_limit`:
  a used-up quota is a `Retryable` before anything is made. The quota is the API's, never
  a number of ours; `check` reports it.
- Nothing is public before `media_publish`: a container that may or may not exist after
  a lost answer is left to expire (Instagram drops unpublished containers after 24 h),
  so those failures are `Retryable` with `maybe_delivered=False`; only a lost answer to
  `media_publish` leaves the outcome unknown. Instagram offers no idempotency key, so
  the engine lists such an outcome for a person to confirm instead of resending.
- Graph errors are classified from the error object and the usage headers: codes 4, 17,
  32 and 613 are rate limits (`retry_after` from `estimated_time_to_regain_access`), 9
  with subcode 2207042 is the daily publishing quota, -2, -1, 1, 2, `is_transient` and
  5xx are temporary, 190 and 102 a bad or expired token, 10 and 200-299 a missing
  permission, the rest `Permanent`. A container whose status is ERROR is `Permanent`,
  naming Instagram's status and the card's address (Instagram could not fetch or take
  it); EXPIRED or still IN_PROGRESS after the last read is `Retryable`.
- `lookup` (before `publish confirm` records a post) reads a media id directly, or finds an
  instagram.com/p/<code>/ address among the account's latest 100 posts (the media edge);
  a post older than those is not found.
- Instagram's API cannot edit or delete a published post: `can_edit` and `can_delete`
  stay False, and `edit`/`delete` say so (do it by hand in the Instagram app).
- Requests go through `channels.http`'s shared session (never resent by the HTTP stack,
  bounded in time and size). The token travels as `access_token` and never reaches a
  reason, the receipt or `describe()`; urllib3's logger (which prints URLs) is held at
  WARNING.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from channels import http
from channels.base import (Channel, DeliveryError, Message, Permanent, quiet_loggers, Receipt, Retryable,
                           SettingError, write_atomically)
from channels.facebook import _iso, _number, _regain_seconds, graph_version
from channels.schemas import OPTIONS

THROTTLED = frozenset({4, 17, 32, 613})
TRANSIENT = frozenset({-2, -1, 1, 2})
BAD_TOKEN = frozenset({102, 190})
PUBLISHING_QUOTA = (9, 2207042)
SPAM_BLOCK = (4, 2207051)
MEDIA_FIELDS = "id,caption,permalink,timestamp"
LOOKUP_LIMIT = 100
_POST_ADDRESS = re.compile(r"https?://(?:www\.)?instagram\.com/(?:p|reel)/([A-Za-z0-9_-]+)/?(?:[?#].*)?")
CANNOT_CHANGE = ("Instagram's API cannot {what} a published post: {what} it by hand in the Instagram app "
                 "(the post's address is in the receipt)")


class InstagramChannel(Channel):
    type = "instagram"
    variant = "long"
    max_length = 2200
    counting = "instagram"
    overflow = "reject"
    supports_reply = False
    idempotent = False
    can_edit = False
    can_delete = False
    references = ("site",)
    options = OPTIONS["instagram"]

    def __init__(self, name, settings, secrets=frozenset()):
        super().__init__(name, settings, secrets)
        self.add_secrets({self.settings["token"], quote(self.settings["token"], safe="")})
        self.user_id = str(self.settings["user_id"]).strip()
        if not self.user_id.isdigit():
            raise SettingError("user_id", f"the Instagram account's numeric id, got {self.user_id!r}")
        self.api_url = f"{self.settings['api_url'].rstrip('/')}/{graph_version(self.settings['graph_version'])}"
        self.site: Any = None
        self.sleep: Callable[[float], None] = time.sleep
        quiet_loggers("urllib3", "requests")

    def attach(self, key: str, other: Channel) -> None:
        if other.type != "site":
            raise SettingError(key, f"the name of a site channel, got {other.name!r} of type {other.type!r}")
        self.site = other

    def send(self, message: Message) -> Receipt:
        if message.sent_parts:
            return message.sent_parts[0]
        if len(message.parts) != 1:
            raise Permanent(f"an Instagram caption is one text, got {len(message.parts)} parts")
        folder, public = self._cards_place()
        caption = message.parts[0]
        cards = self._cards(caption, message.organisation)
        self._quota_left()
        addresses = []
        for index, card in enumerate(cards, start=1):
            file_name = f"{_safe(message.draft_id)}-{index}.jpg"
            try:
                write_atomically(folder / file_name, card.data)
            except OSError as error:
                raise Permanent(f"cannot write the card {error.filename or folder / file_name}: "
                                f"{error.strerror}") from None
            addresses.append(public + file_name)
        if len(cards) == 1:
            container = self._container({"image_url": addresses[0], "caption": caption, "alt_text": cards[0].text},
                                        addresses[0])
        else:
            children = [self._container({"image_url": address, "is_carousel_item": "true", "alt_text": card.text},
                                        address) for card, address in zip(cards, addresses, strict=True)]
            container = self._container({"media_type": "CAROUSEL", "children": ",".join(children),
                                         "caption": caption}, public)
        answer = self._call("POST", f"{self.user_id}/media_publish", {"creation_id": container}, publishing=True)
        media = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(media, str) or not media:
            raise Retryable("Instagram accepted the post but its answer carries no id; the post may exist",
                            maybe_delivered=True)
        return self._receipt(media, addresses)

    def check(self) -> str:
        self._cards_place()
        from channels.cards import CardError, font_file

        try:
            font = font_file(self.settings.get("font"))
        except CardError as error:
            raise Permanent(str(error)) from None
        account = self._call("GET", self.user_id, {"fields": "id,username"})
        if not isinstance(account, dict) or str(account.get("id")) != self.user_id:
            raise Permanent(f"Instagram did not return account {self.user_id} when asked for it")
        used, total, hours = self._quota()
        return self.redact(f"@{account.get('username') or '?'} ({self.user_id}) can publish: {used} of {total} "
                           f"posts used in the last {hours:g} h; cards served from {self.site.base_url}cards/, "
                           f"drawn with {font.name}")

    can_look_up = True

    def lookup(self, reference: str) -> Receipt | None:
        value = reference.strip()
        if value.isdigit():
            try:
                found = self._call("GET", value, {"fields": MEDIA_FIELDS})
            except Permanent as error:
                if "(code 100" in error.reason:
                    return None
                raise
            return self._found(found) if str(found.get("id")) == value else None
        code = _shortcode(value)
        if code is None:
            raise Permanent(self.redact(f"cannot tell which Instagram post {value!r} names; give its media id or "
                                        "its https://www.instagram.com/p/<code>/ address"))
        answer = self._call("GET", f"{self.user_id}/media", {"fields": MEDIA_FIELDS, "limit": str(LOOKUP_LIMIT)})
        posts = answer.get("data") if isinstance(answer.get("data"), list) else []
        for post in posts:
            if isinstance(post, dict) and _shortcode(str(post.get("permalink") or "")) == code:
                return self._found(post)
        return None

    def _found(self, post: dict[str, Any]) -> Receipt:
        link = post.get("permalink")
        return Receipt(str(post.get("id")), link if isinstance(link, str) else None, _iso(post.get("timestamp")),
                       {"text": str(post.get("caption") or "")})

    def edit(self, receipt: Receipt, message: Message) -> Receipt:
        raise Permanent(CANNOT_CHANGE.format(what="edit"))

    def delete(self, receipt: Receipt) -> str | None:
        raise Permanent(CANNOT_CHANGE.format(what="delete"))

    def _cards_place(self) -> tuple[Path, str]:
        """The folder the cards are written to and the public address it is served at."""
        if self.site is None:
            raise Permanent(f"no site channel is attached to {self.name}: its cards have nowhere to be served from")
        if not self.site.base_url:
            raise Permanent(f"the statements page [channels.{self.site.name}] has no base_url, and Instagram "
                            f"fetches every card from a public address: set base_url to where {self.site.folder} "
                            "is served")
        return Path(self.site.folder) / "cards", f"{self.site.base_url}cards/"

    def _cards(self, caption: str, organisation: str) -> list[Any]:
        from channels.cards import CardError, render_cards, Style

        style = Style(background=self.settings["card_background"], text=self.settings["card_text"],
                      accent=self.settings["card_accent"], font=self.settings.get("font"))
        try:
            return render_cards(caption, organisation, style)
        except CardError as error:
            raise Permanent(str(error)) from None

    def _quota(self) -> tuple[int, int, float]:
        """(posts published in the window, posts allowed, the window in hours), from the API."""
        answer = self._call("GET", f"{self.user_id}/content_publishing_limit", {"fields": "quota_usage,config"})
        rows = answer.get("data") if isinstance(answer, dict) else None
        row: dict[str, Any] = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else {}
        config: dict[str, Any] = row["config"] if isinstance(row.get("config"), dict) else {}
        used, total, seconds = _number(row.get("quota_usage")), _number(config.get("quota_total")), \
            _number(config.get("quota_duration"))
        if used is None or total is None or seconds is None:
            raise Retryable("Instagram's answer about the publishing quota is not the documented one")
        return used, total, seconds / 3600

    def _quota_left(self) -> None:
        used, total, hours = self._quota()
        if used >= total:
            raise Retryable(f"Instagram's publishing quota is used up: {used} of {total} posts in the last "
                            f"{hours:g} h")

    def _container(self, fields: dict[str, str], address: str) -> str:
        """Make one container and wait until Instagram has taken its media; its id."""
        answer = self._call("POST", f"{self.user_id}/media", fields)
        made = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(made, str) or not made:
            raise Retryable("Instagram's answer to a new container carries no id")
        for attempt in range(int(self.settings["polls"])):
            if attempt:
                self.sleep(float(self.settings["poll_every"]))
            state = self._call("GET", made, {"fields": "status_code,status"})
            status = state.get("status_code") if isinstance(state, dict) else None
            if status in ("FINISHED", "PUBLISHED"):
                return made
            if status == "ERROR":
                said = self.redact(str(state.get("status") or "no detail"))
                raise Permanent(f"Instagram could not take the card at {address} (container status ERROR: {said}); "
                                "check that the address answers publicly with the JPEG")
            if status == "EXPIRED":
                raise Retryable("Instagram let the container expire before it was published")
            if status != "IN_PROGRESS":
                raise Retryable(self.redact(f"Instagram gave the container an unknown status {status!r}"))
        raise Retryable(f"Instagram was still processing the card after {self.settings['polls']} reads of its "
                        "status")

    def _receipt(self, media: str, addresses: list[str]) -> Receipt:
        extra = {"part_ids": [media], "cards": addresses}
        try:
            found = self._call("GET", media, {"fields": "permalink,timestamp"})
        except DeliveryError:
            return Receipt(media, None, None, extra)
        found = found if isinstance(found, dict) else {}
        link = found.get("permalink")
        return Receipt(media, link if isinstance(link, str) and link.startswith("https://") else None,
                       _iso(found.get("timestamp")), extra)

    def _call(self, method: str, path: str, fields: dict[str, str], publishing: bool = False) -> Any:
        """One Graph request; its JSON, or the error its answer means. Only `publishing`
        requests can leave a post behind when their answer is lost."""
        url = f"{self.api_url}/{path}"
        sent = {**fields, "access_token": self.settings["token"]}
        body = None if method == "GET" else "&".join(f"{quote(k, safe='')}={quote(v, safe='')}"
                                                     for k, v in sent.items()).encode()
        try:
            response = http.send(method, url, body=body, params=sent if method == "GET" else None,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"} if body else {},
                                 timeout=self.timeout, redact=self.redact)
        except Retryable as error:
            error.maybe_delivered = error.maybe_delivered and publishing
            raise
        except Permanent as error:
            raise Permanent(self.redact(error.reason)) from None
        answer = http.json_body(response)
        if 200 <= response.status_code < 300 and isinstance(answer, dict) and "error" not in answer:
            return answer
        raise self._failure(response, answer, publishing)

    def _failure(self, response: Any, answer: Any, publishing: bool) -> DeliveryError:
        status = response.status_code
        detail = answer.get("error") if isinstance(answer, dict) else None
        if not isinstance(detail, dict):
            if 200 <= status < 300:
                return Retryable(f"Instagram answered HTTP {status} with a body that is not a Graph API answer",
                                 maybe_delivered=publishing)
            if status == 429 or status >= 500:
                return Retryable(f"Instagram answered HTTP {status} without a Graph API error",
                                 http.retry_after_seconds(response.headers.get("Retry-After")),
                                 maybe_delivered=publishing and status >= 500)
            return Permanent(f"Instagram answered HTTP {status} with a body that is not a Graph API answer")
        code, subcode = _number(detail.get("code")), _number(detail.get("error_subcode"))
        text = str(detail.get("error_user_msg") or detail.get("message") or "no message")
        said = self.redact(f"{text} (code {code}" + (f", subcode {subcode})" if subcode else ")"))
        if (code, subcode) == PUBLISHING_QUOTA:
            return Retryable(f"Instagram's daily publishing quota is used up: {said}")
        if (code, subcode) == SPAM_BLOCK:
            return Permanent(f"Instagram blocked the post as suspected spam: {said}")
        if code in THROTTLED:
            return Retryable(f"Instagram is rate limiting this app or account: {said}",
                             retry_after=_regain_seconds(response))
        if code in TRANSIENT or detail.get("is_transient") is True or status >= 500:
            return Retryable(f"Instagram had a temporary failure: {said}", maybe_delivered=publishing)
        if code in BAD_TOKEN:
            return Permanent(f"Instagram rejected the access token (expired or revoked; make a new one): {said}")
        if code == 10 or (code is not None and 200 <= code <= 299):
            return Permanent(f"the access token lacks a permission (instagram_content_publish?): {said}")
        return Permanent(f"Instagram refused the request: {said}")


def _shortcode(address: str) -> str | None:
    found = _POST_ADDRESS.fullmatch(address.strip())
    return found.group(1) if found else None


def _safe(draft_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", draft_id)

