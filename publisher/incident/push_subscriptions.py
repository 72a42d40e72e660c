"""The phones a cabinet member installed the console on and subscribed to Web Push.

Guarantees: a subscription is what the browser's `PushManager.subscribe` gives (an
endpoint and the keys `p256dh`, `auth`), checked before it is kept: the endpoint is an
https address (plain http only on the loopback, for a push service running beside the
console in tests), the keys are a P-256 public point and a 16-byte secret. It is kept in
the log as `push.subscribed` (actor: the person; data: endpoint, keys, device) and ends
with `push.unsubscribed` (the person left it, or the push service said it is gone);
`current` reads both, so every process sees the same phones. Only a person in the
cabinet subscribes; one endpoint belongs to one person at a time (a new subscription
of the same endpoint replaces the old one).
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from publisher.errors import BadInput, Refused
from publisher.i18n import _
from publisher.incident import roster
from publisher.log.store import Event

if TYPE_CHECKING:
    from publisher.workspace.app import App

KINDS = ("push.subscribed", "push.unsubscribed")
MAX_ENDPOINT = 2048
MAX_DEVICE = 80
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Subscription:
    person: str
    endpoint: str
    p256dh: str
    auth: str
    device: str
    seq: int

    def info(self) -> dict[str, Any]:
        """As `PushSubscription.toJSON()` gives it (what pywebpush takes)."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


def current(app: App, person: str | None = None) -> list[Subscription]:
    """The subscriptions in force (of `person`, or everyone's), oldest first."""
    found: dict[str, Subscription] = {}
    for event in app.store.events(kind=KINDS):
        endpoint = str(event.data.get("endpoint", ""))
        if event.kind == "push.unsubscribed":
            found.pop(endpoint, None)
            continue
        keys = event.data.get("keys") or {}
        found[endpoint] = Subscription(event.actor or "", endpoint, str(keys.get("p256dh", "")),
                                       str(keys.get("auth", "")), str(event.data.get("device", "")), event.seq)
    return [item for item in found.values() if person is None or item.person == person]


def _decoded(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise BadInput(_("the subscription has no {what} key.").format(what=what))
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise BadInput(_("the subscription's {what} key is not base64url.").format(what=what)) from None


def checked(subscription: Any) -> tuple[str, str, str]:
    """The endpoint, p256dh and auth of a browser's subscription, or one sentence saying
    what is wrong with it."""
    if not isinstance(subscription, dict):
        raise BadInput(_("the subscription is not an object with an endpoint and keys."))
    endpoint = subscription.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise BadInput(_("the subscription has no endpoint address."))
    parts = urlsplit(endpoint)
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)):
        raise BadInput(_("the subscription's endpoint is not an https address."))
    keys = subscription.get("keys")
    if not isinstance(keys, dict):
        raise BadInput(_("the subscription is not an object with an endpoint and keys."))
    point = _decoded(keys.get("p256dh"), "p256dh")
    if len(point) != 65 or point[0] != 4:
        raise BadInput(_("the subscription's p256dh key is not a P-256 public key."))
    if len(_decoded(keys.get("auth"), "auth")) != 16:
        raise BadInput(_("the subscription's auth key is not 16 bytes."))
    return endpoint, str(keys["p256dh"]).rstrip("="), str(keys["auth"]).rstrip("=")


def subscribe(app: App, person: str, subscription: Any, device: str = "") -> Event:
    """Keep `person`'s new subscription (`push.subscribed`)."""
    if person not in roster.cabinet(app).people:
        raise Refused(_("{name} is not in the cabinet; only its people receive notices.").format(name=person))
    endpoint, p256dh, auth = checked(subscription)
    device = " ".join(str(device or "").split())[:MAX_DEVICE]
    return app.store.append("push.subscribed", actor=person,
                            data={"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}, "device": device})


def unsubscribe(app: App, endpoint: str, reason: str, person: str | None = None) -> Event | None:
    """End the subscription of `endpoint` (`push.unsubscribed`); `person`: only theirs.
    None when there was none."""
    for item in current(app, person):
        if item.endpoint == endpoint:
            return app.store.append("push.unsubscribed", actor=person,
                                    data={"endpoint": endpoint, "person": item.person, "reason": reason})
    return None
