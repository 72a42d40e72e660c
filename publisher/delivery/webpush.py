"""Web Push: a notice to the console a cabinet member installed on a phone.

Guarantees:
- the workspace has one VAPID key pair (RFC 8292), made by `make_keys` (`publish notices
  vapid`): the private key is a secret kept in the secrets file as `PUBLISH_VAPID_KEY`
  (mode 0600, or in the environment), never in the log, the config or any output; the
  public key is derived from it when the console or a push needs it;
- a push is encrypted for the subscription's keys (aes128gcm, RFC 8291) and signed with
  the VAPID key by pywebpush, and sent once through the channels' one HTTP transport
  (`channels.http`: bounded answer, whole-request deadline, no automatic resend);
- the push service's answer decides: 2xx delivered; 404 or 410 the subscription is gone
  and is ended in the log (`push.unsubscribed`); 429 and any other status a failure
  saying why (and when to try again, from Retry-After); nothing is retried here (a
  notice is a nudge: the escalation is the retry);
- the payload is JSON (title, body, url to open, tag) of at most `MAX_PAYLOAD` bytes,
  which the console's service worker shows as a notification.

A freeze does not hold Web Push to the cabinet: it is the console's own path (the
payload is encrypted end to end to the console on the person's phone; the push service
sees only ciphertext), not a messenger, a social network or e-mail.
"""
from __future__ import annotations

import base64
import json
import os
import stat
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from publisher.errors import BadInput, NotDelivered, Refused
from publisher.i18n import _
from publisher.incident import push_subscriptions

if TYPE_CHECKING:
    from publisher.incident.push_subscriptions import Subscription
    from publisher.workspace.app import App

SECRET = "PUBLISH_VAPID_KEY"
CHANNEL = "webpush"
MAX_PAYLOAD = 3000
TTL_SECONDS = 4 * 3600
TIMEOUT = 20.0
JWT_HOURS = 12


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def private_key(app: App) -> str | None:
    """The VAPID private key (raw, base64url), remembered as a secret; None when none was made."""
    value = app.secrets.lookup(SECRET)
    if not value:
        app.secrets.reload()
        value = app.secrets.lookup(SECRET)
    if value:
        app.redact.add(value)
    return value or None


def public_key(app: App) -> str | None:
    """The VAPID public key as the browser's `applicationServerKey` wants it (base64url
    of the uncompressed P-256 point), or None when no key was made."""
    from py_vapid import Vapid02
    from cryptography.hazmat.primitives import serialization

    raw = private_key(app)
    if raw is None:
        return None
    try:
        vapid = Vapid02.from_raw(raw.encode("ascii"))
    except Exception:
        raise BadInput(_("{secret} is not a VAPID private key; make a new pair with `publish notices vapid "
                         "--replace`.").format(secret=SECRET)) from None
    return _b64(vapid.public_key.public_bytes(serialization.Encoding.X962,
                                              serialization.PublicFormat.UncompressedPoint))


def make_keys(app: App, replace: bool = False) -> str:
    """Make the VAPID key pair, keep the private key in the secrets file; return the public key."""
    from cryptography.hazmat.primitives.asymmetric import ec

    if private_key(app) is not None and not replace:
        raise Refused(_("a VAPID key pair exists already; --replace makes a new one (every phone must then "
                        "subscribe again)."))
    key = ec.generate_private_key(ec.SECP256R1())
    raw = _b64(key.private_numbers().private_value.to_bytes(32, "big"))
    app.redact.add(raw)
    _keep_secret(app, raw)
    app.secrets.reload()
    made = public_key(app)
    assert made is not None
    if replace:
        for item in push_subscriptions.current(app):
            push_subscriptions.unsubscribe(app, item.endpoint, "new VAPID keys")
    return made


def _keep_secret(app: App, raw: str) -> None:
    path = app.config.secrets_file
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    if path.exists():
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise BadInput(_("{shown} is readable by others; run `chmod 600 {shown}` first.").format(
                shown=app.secrets.shown))
        lines = [line for line in path.read_text(encoding="utf-8").splitlines()
                 if not line.replace(" ", "").startswith(f"{SECRET}=")]
    lines.append(f'{SECRET} = "{raw}"')
    temporary = path.with_name(path.name + ".new")
    handle = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    os.replace(temporary, path)


def subject(app: App) -> str:
    """The VAPID `sub` claim: how a push service reaches whoever runs this console
    (`[notices] push_contact`, else the console's https address)."""
    if app.config.push_contact:
        return app.config.push_contact
    if app.config.console_base_url.startswith("https://"):
        return app.config.console_base_url
    raise NotDelivered(_("a push service needs to know who runs this console: set [notices] push_contact = "
                         "\"mailto:ADDRESS\" (the console's address is not https)."))


def _payload(title: str, text: str, url: str, tag: str) -> bytes:
    body = text
    while True:
        data = json.dumps({"title": title[:200], "body": body, "url": url, "tag": tag},
                          ensure_ascii=False).encode("utf-8")
        if len(data) <= MAX_PAYLOAD:
            return data
        body = body[: max(0, len(body) - (len(data) - MAX_PAYLOAD) - 1)].rstrip() + "…"


def push(app: App, subscription: Subscription, title: str, text: str, url: str, tag: str) -> None:
    """Send one notification to one subscription; raise `NotDelivered` saying why not."""
    from channels import http
    from channels.base import DeliveryError
    from py_vapid import Vapid02
    from pywebpush import WebPusher

    raw = private_key(app)
    if raw is None:
        raise NotDelivered(_("no VAPID key is made; run `publish notices vapid` first."))
    parts = urlsplit(subscription.endpoint)
    claims = {"aud": f"{parts.scheme}://{parts.netloc}", "sub": subject(app),
              "exp": int(time.time()) + JWT_HOURS * 3600}
    try:
        headers = {**Vapid02.from_raw(raw.encode("ascii")).sign(claims), "Urgency": "high",
                   "User-Agent": http.USER_AGENT}
        sender = WebPusher(subscription.info(), requests_session=http.shared_session())
    except Exception as error:
        raise NotDelivered(_("the push could not be signed or encrypted ({kind}).").format(
            kind=type(error).__name__)) from None
    data = _payload(title, text, url, tag)
    try:
        answer = http.request(lambda: sender.send(data, headers=headers, ttl=TTL_SECONDS,
                                                  content_encoding="aes128gcm", timeout=TIMEOUT), app.redact)
    except DeliveryError as error:
        raise NotDelivered(_("the push service did not take the notice: {reason}").format(
            reason=app.redact(str(error)))) from None
    status = answer.status_code
    if 200 <= status < 300:
        return
    if status in (404, 410):
        push_subscriptions.unsubscribe(app, subscription.endpoint, f"gone (HTTP {status})")
        raise NotDelivered(_("the push service says the subscription of {device} is gone (HTTP {status}); it "
                             "was removed.").format(device=subscription.device or subscription.person,
                                                    status=status))
    wait = http.retry_after_seconds(answer.headers.get("Retry-After"))
    if status == 429:
        raise NotDelivered(_("the push service is limiting us (HTTP 429); it asks to wait {seconds} s.").format(
            seconds=int(wait or 0)))
    raise NotDelivered(_("the push service refused the notice (HTTP {status}).").format(status=status))


def reachable(app: App, person: str) -> bool:
    """Whether `person` has a phone to push to (a subscription, and a VAPID key)."""
    return bool(push_subscriptions.current(app, person)) and private_key(app) is not None


def send_to(app: App, person: str, title: str, text: str, url: str, tag: str) -> str:
    """Push to each of `person`'s phones; the channel name when at least one took it,
    else `NotDelivered` with each phone's reason."""
    reasons, reached = [], False
    for item in push_subscriptions.current(app, person):
        try:
            push(app, item, title, text, url, tag)
            reached = True
        except NotDelivered as error:
            reasons.append(str(error))
    if reached:
        return CHANNEL
    raise NotDelivered(" ".join(reasons) or _("{name} has no phone subscribed to notices.").format(name=person))
