"""Telling the cabinet: one message to every enabled internal channel.

Guarantees: a notice has a key (`draft-rendered:<id>`, `reminder:<incident>:prepare`,
...). It is sent at most once per key, whatever number of servers run: the sender
takes the store's lock for that key (a file lock on SQLite, an advisory lock on
PostgreSQL), and only when the log has no `notice.sent` for the key does it send and
then record `notice.sent` with the channels reached. A channel that fails is named in
that event; it is not retried (a notice is a nudge, not a statement). A channel a freeze
holds for the notice's incident is not posted to; it is named as held.
"""
from __future__ import annotations

from channels.base import DeliveryError, Message
from publisher.incident.freeze import freeze_holding
from publisher.workspace.app import App


def already_sent(app: App, key: str) -> bool:
    return any(event.data.get("key") == key for event in app.store.events(kind="notice.sent", newest_first=True))


def internal_channels(app: App, only: tuple[str, ...] = ()) -> list[str]:
    if only:
        return list(only)
    return [channel.name for channel in app.config.enabled_channels() if channel.audience == "internal"]


def post(app: App, names: list[str], key: str, title: str, text: str,
         incident: str | None) -> tuple[list[str], dict[str, str], list[str]]:
    """Post `text` on each channel of `names` a freeze does not hold: (reached, failed
    with why, held)."""
    reached, failed, held = [], {}, []
    for name in names:
        if freeze_holding(app, incident, name) is not None:
            held.append(name)
            continue
        message = Message(draft_id=key, channel=name, parts=(text,), title=title, incident_id=incident or "",
                          template="notice", language=app.config.language, case=0,
                          organisation=app.config.organisation)
        try:
            app.channel(name).send(message)
            reached.append(name)
        except DeliveryError as error:
            failed[name] = app.redact(str(error))
    return reached, failed, held


def notify(app: App, key: str, title: str, text: str, only: tuple[str, ...] = (),
           incident: str | None = None) -> bool:
    """Send once per key; return whether this call sent it."""
    with app.store.delivery_lock("notice", key) as take:
        if not take() or already_sent(app, key):
            return False
        reached, failed, held = post(app, internal_channels(app, only), key, title, text, incident)
        app.store.append("notice.sent", incident=incident, data={"key": key, "title": title, "channels": reached,
                                                                   "failed": failed, "held": held})
        return True
