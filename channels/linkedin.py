"""LinkedIn: an organisation's post through the versioned REST Posts API.

Guarantees:
- LinkedIn has no maintained Python library: every call goes through the one transport
  (`channels.http`): once, with a timeout bounding the whole request, answers bounded,
  failures classified with whether the request may have reached LinkedIn. Every call
  carries `LinkedIn-Version` (`version`, YYYYMM) and `X-Restli-Protocol-Version: 2.0.0`.
- A post is `POST /rest/posts` with the organisation as author, public, on the main feed
  (learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api);
  LinkedIn answers 201 with the post's URN in `x-restli-id`. The text is sent in the
  little format (`channels.little_text`), so LinkedIn shows it exactly as approved and
  never cuts it at a parenthesis; the receipt's time is the post's `createdAt`, read
  back with `GET /rest/posts/{urn}` (none when that read fails: the post exists).
- A post LinkedIn already has is its 422 `DUPLICATE_POST`: a `Duplicate`, with the
  receipt of the post its message names. Before a post, when the message has an
  earlier attempt, the organisation's posts created since then (`CLOCK_MARGIN` before
  it) are looked up (`GET /rest/posts?q=author`): one with the same text is the
  delivery (`extra["found_on_platform"]`) and nothing is posted again; a look-up that
  cannot finish posts nothing and leaves the outcome unknown.
- A 429 is `Retryable` (after `Retry-After` when LinkedIn sends one; LinkedIn documents
  no reset header, its daily quotas reset at midnight UTC); a 401 (expired or revoked
  token), a 403 (a permission or page role missing) and a refused post are `Permanent`;
  a 5xx after a post may have made it (`maybe_delivered`).
- `check` reads the organisation's access control list (`GET /rest/organizationAcls`)
  and refuses a token whose member cannot post for the organisation (a token not allowed
  to read the list is said so, not refused: posting does not need it); with `client_id`
  and `client_secret` it also reads the token's expiry from LinkedIn's token
  introspection (`POST /oauth/v2/introspectToken`, learn.microsoft.com/en-us/linkedin/
  shared/authentication/token-introspection), says how many days are left, and
  refuses an expired or inactive token.
- `delete` is `DELETE /rest/posts/{urn}`; a post LinkedIn no longer has (404, 410)
  counts as deleted. LinkedIn cannot edit a post's text through this channel.
- Reasons never carry the token or the client secret, and urllib3's logger stays at
  WARNING.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import quote, unquote

from channels import http
from channels.base import lookup_since
from channels.base import (Channel, combined_receipt, Duplicate, looking_before_resend, Message, Permanent,
                           quiet_loggers, Receipt, Retryable, SettingError, too_many_to_look_up)
from channels.little_text import escape, unescape
from channels.schemas import OPTIONS

ORGANIZATION = re.compile(r"urn:li:organization:[0-9]{1,20}")
POST_URN = re.compile(r"urn:li:(?:share|ugcPost):[0-9]{1,25}")
POST_URL = re.compile(r"https?://(?:www\.)?linkedin\.com/feed/update/(urn:li:(?:share|ugcPost):[0-9]{1,25})/?",
                      re.IGNORECASE)
VERSION = re.compile(r"20[0-9]{2}(0[1-9]|1[0-2])")
POSTING_ROLES = frozenset({"ADMINISTRATOR", "CONTENT_ADMINISTRATOR", "DIRECT_SPONSORED_CONTENT_POSTER"})
LOOKUP_COUNT = 50
DAY = 86400


class LinkedInChannel(Channel):
    type = "linkedin"
    variant = "long"
    max_length = 3000
    counting = "linkedin"
    overflow = "reject"
    supports_reply = False
    idempotent = False
    can_look_up = True
    can_delete = True
    options = OPTIONS["linkedin"]

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        super().__init__(name, settings, secrets)
        self.organization = str(self.settings["organization"]).strip()
        if not ORGANIZATION.fullmatch(self.organization):
            raise SettingError("organization", f"an organisation URN like urn:li:organization:123456, "
                                               f"got {self.organization!r}")
        if not VERSION.fullmatch(str(self.settings["version"])):
            raise SettingError("version", f"a LinkedIn-Version like 202611 (YYYYMM), got {self.settings['version']!r}")
        if bool(self.settings.get("client_id")) != bool(self.settings.get("client_secret")):
            raise SettingError("client_secret" if self.settings.get("client_id") else "client_id",
                               "client_id and client_secret go together (token introspection needs both)")
        self.api = str(self.settings["api_url"]).rstrip("/")
        self.oauth = str(self.settings["oauth_url"]).rstrip("/")
        own = {str(self.settings["token"]), str(self.settings.get("client_secret") or "")}
        self.add_secrets(own | {quote(secret, safe="") for secret in own if secret})
        quiet_loggers("urllib3")

    def send(self, message: Message) -> Receipt:
        if message.sent_parts:
            return combined_receipt(message.sent_parts)
        if len(message.parts) != 1:
            raise Permanent(f"a LinkedIn post takes the text in one part, got {len(message.parts)} parts")
        if message.reply_to:
            raise Permanent("this LinkedIn channel posts on the organisation's page and cannot answer a post")
        text = message.parts[0]
        since = lookup_since(message.first_attempt, None)
        if since is not None:
            found = self._find_posted(text, since)
            if found is not None:
                return Receipt(found.id, found.url, found.platform_time,
                               {"part_ids": [found.id], "found_on_platform": [found.id]})
        payload = {"author": self.organization, "commentary": escape(text), "visibility": "PUBLIC",
                   "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                                    "thirdPartyDistributionChannels": []},
                   "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False}
        response = self._call("POST", "/rest/posts", json=payload)
        if response.status_code == 422 and _code(response) == "DUPLICATE_POST":
            urn = POST_URN.search(_message(response))
            receipt = self._receipt(urn.group(0), None) if urn else None
            raise Duplicate(self.redact(f"LinkedIn already has this post ({_said(response)})"), receipt=receipt)
        self._fail_unless_ok(response, posting=True)
        urn_text = unquote(response.headers.get("x-restli-id") or "")
        if not POST_URN.fullmatch(urn_text):
            raise Retryable(f"LinkedIn answered HTTP {response.status_code} without the post's id (x-restli-id); "
                            "the post may exist", maybe_delivered=True)
        return self._receipt(urn_text, self._created_at(urn_text))

    def check(self) -> str:
        said = []
        if self.settings.get("client_id"):
            said.append(self._expiry())
        response = self._call("GET", "/rest/organizationAcls",
                              params={"q": "roleAssignee", "state": "APPROVED", "count": "100"})
        if response.status_code == 403:
            said.append(self.redact(f"the token works, but its page roles could not be read ({_said(response)}; "
                                    "reading them needs r_organization_admin), so whether it may post for "
                                    f"{self.organization} shows only at the first post"))
            return "LinkedIn: " + "; ".join(said)
        self._fail_unless_ok(response, posting=False)
        body = http.json_body(response)
        elements = body.get("elements") if isinstance(body, dict) else None
        if not isinstance(elements, list):
            raise Retryable(f"LinkedIn's answer about the token's page roles (HTTP {response.status_code}) "
                            "could not be read")
        roles = {str(element.get("role")) for element in elements
                 if isinstance(element, dict) and element.get("organization") == self.organization}
        if not roles & POSTING_ROLES:
            have = ", ".join(sorted(roles)) or "none"
            raise Permanent(f"the token's member cannot post for {self.organization} (page roles: {have}); "
                            "an administrator or content administrator of the page must grant the token")
        said.append(f"the token may post for {self.organization} ({', '.join(sorted(roles & POSTING_ROLES))})")
        if not self.settings.get("client_id"):
            said.append("its expiry was not read: set client_id and client_secret for LinkedIn's token "
                        "introspection")
        return "LinkedIn: " + "; ".join(said)

    def lookup(self, reference: str) -> Receipt | None:
        urn = self.post_urn(reference)
        response = self._call("GET", f"/rest/posts/{quote(urn, safe='')}")
        if response.status_code in (404, 410):
            return None
        self._fail_unless_ok(response, posting=False)
        post = http.json_body(response)
        if not isinstance(post, dict) or post.get("id") != urn:
            raise Retryable(f"LinkedIn's answer for post {urn} is not that post")
        if post.get("lifecycleState") not in (None, "PUBLISHED", "PUBLISHED_EDITED"):
            return None
        found = self._receipt(urn, _millis(post.get("createdAt")))
        return Receipt(found.id, found.url, found.platform_time,
                       {"text": unescape(str(post.get("commentary") or ""))})

    def delete(self, receipt: Receipt) -> str | None:
        ids = receipt.extra.get("part_ids") or [receipt.id]
        for urn in reversed([str(part) for part in ids]):
            post = self.post_urn(urn)
            response = self._call("DELETE", f"/rest/posts/{quote(post, safe='')}")
            if response.status_code in (404, 410):
                continue
            self._fail_unless_ok(response, posting=False)
        return None

    def post_urn(self, reference: str) -> str:
        """The post URN `reference` names (a URN or a linkedin.com/feed/update/ link)."""
        value = unquote(reference.strip())
        if POST_URN.fullmatch(value):
            return value
        match = POST_URL.fullmatch(value)
        if match:
            return match.group(1)
        raise Permanent(self.redact(f"{reference.strip()!r} is neither a LinkedIn post URN (urn:li:share:…) nor a "
                                    "https://www.linkedin.com/feed/update/urn:li:share:…/ link"))

    def _find_posted(self, text: str, since: datetime) -> Receipt | None:
        """The organisation's post created since `since` carrying `text`, or None."""
        with looking_before_resend(lambda reason: (
                f"LinkedIn would not list the organisation's posts to look for the one an earlier attempt may have "
                f"made ({reason}); the token needs r_organization_social. Nothing was posted again")):
            response = self._call("GET", "/rest/posts", params={"author": self.organization, "q": "author",
                                                                "count": str(LOOKUP_COUNT), "sortBy": "CREATED"})
            self._fail_unless_ok(response, posting=False)
        body = http.json_body(response)
        posts = body.get("elements") if isinstance(body, dict) else None
        if not isinstance(posts, list) or not all(isinstance(post, dict) for post in posts):
            raise Retryable(f"LinkedIn's list of the organisation's posts (HTTP {response.status_code}) could not be "
                            "read; nothing was posted again", maybe_delivered=True)
        wanted = " ".join(text.split())
        oldest = since.timestamp() * 1000
        for post in posts:
            created = post.get("createdAt")
            if isinstance(created, (int, float)) and created < oldest:
                continue
            shown = " ".join(unescape(str(post.get("commentary") or "")).split())
            if shown == wanted and POST_URN.fullmatch(str(post.get("id"))):
                return self._receipt(str(post["id"]), _millis(created))
        if len(posts) >= LOOKUP_COUNT and all(isinstance(post.get("createdAt"), (int, float))
                                              and post["createdAt"] >= oldest for post in posts):
            raise too_many_to_look_up(f"the organisation has more than {LOOKUP_COUNT} posts")
        return None

    def _created_at(self, urn: str) -> str | None:
        try:
            response = self._call("GET", f"/rest/posts/{quote(urn, safe='')}")
        except (Retryable, Permanent):
            return None
        post = http.json_body(response)
        if response.status_code != 200 or not isinstance(post, dict):
            return None
        return _millis(post.get("createdAt"))

    def _expiry(self) -> str:
        """Days left on the token, from LinkedIn's token introspection."""
        form = {"client_id": str(self.settings["client_id"]), "client_secret": str(self.settings["client_secret"]),
                "token": str(self.settings["token"])}
        session = http.shared_session()
        response = http.request(lambda: session.post(
            f"{self.oauth}/oauth/v2/introspectToken", data=form, timeout=self.timeout,
            headers={"Accept": "application/json", "User-Agent": http.USER_AGENT}), self.redact)
        if response.status_code in (400, 401):
            raise Permanent(self.redact(f"LinkedIn refused the app's credentials for token introspection "
                                        f"({_said(response)}); check client_id and client_secret"))
        self._fail_unless_ok(response, posting=False)
        body = http.json_body(response)
        if not isinstance(body, dict) or not isinstance(body.get("active"), bool):
            raise Retryable(f"LinkedIn's token introspection answer (HTTP {response.status_code}) could not be read")
        expires = body.get("expires_at")
        if not body["active"] or body.get("status") in ("expired", "revoked"):
            status = body.get("status") or "inactive"
            raise Permanent(f"the LinkedIn token is {status}: a page administrator must authorise the app again")
        if not isinstance(expires, (int, float)):
            return "the token is active (LinkedIn gave no expiry)"
        left = expires - time.time()
        if left <= 0:
            raise Permanent("the LinkedIn token has expired: a page administrator must authorise the app again")
        until = datetime.fromtimestamp(expires, timezone.utc).strftime("%Y-%m-%d")
        return f"the token expires in {int(left // DAY)} days ({until})"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        session = http.shared_session()
        headers = {"Authorization": f"Bearer {self.settings['token']}", "LinkedIn-Version": self.settings["version"],
                   "X-Restli-Protocol-Version": "2.0.0", "Accept": "application/json", "User-Agent": http.USER_AGENT}
        return http.request(lambda: session.request(method, f"{self.api}{path}", headers=headers,
                                                    timeout=self.timeout, allow_redirects=False, **kwargs),
                            self.redact)

    def _fail_unless_ok(self, response: Any, posting: bool) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        said = self.redact(_said(response))
        if status == 429:
            delay = http.retry_after_seconds(response.headers.get("Retry-After"))
            raise http.rate_limited("LinkedIn", said, delay, waits="retry in", unknown=(
                "; LinkedIn gave no reset time (its daily quotas reset at midnight UTC)"))
        if status == 401:
            raise Permanent(f"LinkedIn rejected the access token, it has expired or was revoked ({said}); "
                            "a page administrator must authorise the app again")
        if status == 403:
            raise Permanent(f"LinkedIn does not allow this token to do this ({said}); it needs "
                            "w_organization_social and a posting role on the organisation's page")
        if status in (400, 422):
            raise Permanent(f"LinkedIn refused the post ({said})")
        if status >= 500:
            raise Retryable(f"LinkedIn had a server error ({said})" + ("; the post may exist" if posting else ""),
                            retry_after=http.retry_after_seconds(response.headers.get("Retry-After")),
                            maybe_delivered=posting)
        http.classify_status(response, "LinkedIn", self.redact)

    def _receipt(self, urn: str, created: str | None) -> Receipt:
        return Receipt(id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/", platform_time=created,
                       extra={"part_ids": [urn]})



def _millis(value: Any) -> str | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    moment = datetime.fromtimestamp(value / 1000, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _code(response: Any) -> str:
    body = http.json_body(response)
    return str(body.get("code") or "") if isinstance(body, dict) else ""


def _message(response: Any) -> str:
    body = http.json_body(response)
    return str(body.get("message") or "") if isinstance(body, dict) else ""


def _said(response: Any) -> str:
    code, message = _code(response), _message(response)
    if code or message:
        return f"HTTP {response.status_code}" + (f" {code}" if code else "") + (f": {message[:200]}" if message else "")
    snippet = " ".join((response.text or "").split())[:160]
    return f"HTTP {response.status_code}: {snippet}" if snippet else f"HTTP {response.status_code}"
