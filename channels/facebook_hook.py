"""Facebook's `feed` webhook, read without a network: the verification challenge, the
signature of a delivery and the comments it carries.

Guarantees:
- `challenge` answers a subscription check only for `hub.mode=subscribe` with a
  `hub.verify_token` equal (compared in constant time) to one of the configured tokens,
  and echoes `hub.challenge` only when it is a short plain token (Facebook sends digits),
  so nothing a stranger types is reflected.
- `signed_by` accepts a delivery only when `X-Hub-Signature-256` is `sha256=` and the
  HMAC-SHA256 of the raw body with one of the app secrets, compared in constant time; it
  returns which secret signed it. A missing or malformed header and a forged one are told
  apart (`HookRefused` with 401 or 403), and neither the secrets nor the expected digest
  ever reach a reason.
- `comments` reads a signed body (`{"object": "page", "entry": [{"id", "changes": [{"field":
  "feed", "value": {...}}]}]}`): each change with `item` comment and `verb` add becomes a
  `Heard` with the comment's Graph id (the same id polling gives, so one comment is stored
  once), its text cleaned by `channels.heard_text`, its post and parent. Edits, removals,
  reactions and posts are left out; a body that is not such JSON is `HookRefused` 400.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any, Iterable, Mapping

from channels.facebook_comments import COMMENT_ID, POST_ID, comment_heard
from channels.sources import Heard

MAX_BODY = 1 << 20
"""Bytes of one delivery read at most (Facebook batches up to 1000 changes, far less)."""
SIGNATURE_HEADER = "X-Hub-Signature-256"
CHALLENGE = re.compile(r"[A-Za-z0-9_.-]{1,128}")
SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")


class HookRefused(Exception):
    """The request is not a delivery or a check Facebook signed: the HTTP `status`, a
    `code` naming the problem (for a translated sentence) and the English sentence."""

    def __init__(self, status: int, code: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason


def challenge(params: Mapping[str, str], tokens: Iterable[str]) -> str:
    """The `hub.challenge` to echo when the subscription check carries a known token."""
    if params.get("hub.mode") != "subscribe":
        raise HookRefused(400, "not-subscribe",
                          "this is not a webhook subscription check (hub.mode must be subscribe)")
    sent = params.get("hub.verify_token") or ""
    known = [token for token in tokens if token]
    if not known:
        raise HookRefused(404, "no-token",
                          "no Facebook source here sets a verify_token, so no subscription is confirmed")
    matched = False
    for token in known:
        matched |= hmac.compare_digest(sent.encode(), token.encode())
    if not matched:
        raise HookRefused(403, "wrong-token", "the hub.verify_token does not match the configured verify_token")
    answer = params.get("hub.challenge") or ""
    if not CHALLENGE.fullmatch(answer):
        raise HookRefused(400, "bad-challenge", "the hub.challenge is missing or is not a short plain token")
    return answer


def signed_by(body: bytes, header: str | None, secrets: Iterable[str]) -> str:
    """The app secret whose HMAC-SHA256 of `body` is the `X-Hub-Signature-256` header."""
    known = [secret for secret in secrets if secret]
    if not known:
        raise HookRefused(404, "no-secret",
                          "no Facebook source here sets an app_secret, so no delivery can be checked")
    found = SIGNATURE.fullmatch((header or "").strip())
    if not found:
        raise HookRefused(401, "unsigned", f"the request has no valid {SIGNATURE_HEADER} header "
                                           "(sha256=<hex digest>); nothing was stored")
    sent = found.group(1).lower().encode()
    signer = ""
    for secret in known:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
        if hmac.compare_digest(sent, expected) and not signer:
            signer = secret
    if not signer:
        raise HookRefused(403, "forged", f"the {SIGNATURE_HEADER} signature does not match the body with the "
                                         "app secret; nothing was stored")
    return signer


def comments(body: bytes) -> list[tuple[str, Heard]]:
    """The comments added in a signed delivery, each with the Page id it came to."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise HookRefused(400, "not-json", "the delivery is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise HookRefused(400, "not-notification", "the delivery is not a webhook notification (no entry list)")
    if payload.get("object") != "page":
        return []
    found: list[tuple[str, Heard]] = []
    for entry in payload["entry"]:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if change.get("field") != "feed" or not isinstance(value, dict):
                continue
            heard = _comment(value)
            if heard is not None:
                found.append((str(entry.get("id") or ""), heard))
    return found


def _comment(value: Mapping[str, Any]) -> Heard | None:
    if value.get("item") != "comment" or value.get("verb") != "add":
        return None
    comment_id, post_id = str(value.get("comment_id") or ""), str(value.get("post_id") or "")
    if not COMMENT_ID.fullmatch(comment_id) or not POST_ID.fullmatch(post_id):
        return None
    parent = value.get("parent_id")
    comment = {"id": comment_id, "message": value.get("message"), "from": value.get("from"),
               "created_time": value.get("created_time"),
               "parent": {"id": parent} if isinstance(parent, str) and parent != post_id else None}
    return comment_heard(comment, post_id)
