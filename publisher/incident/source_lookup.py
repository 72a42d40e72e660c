"""The source post an incident opens from, read from its platform (`incident open --source
URL` without `--first-seen`).

Guarantees: the post is read through `channels.source_post` with the workspace's enabled
channels of its platform (their servers and credentials; a channel whose config cannot be
built is left out); it comes back as a `Heard` with the platform's own time, or one
sentence saying why it could not be read (`BadInput` for a post or page that cannot give
it, `Refused` for a platform that cannot answer now), never with a secret in it.
`source_record` is what the opening event keeps of it, and `heard_of` gives the `Heard`
back from that record (for storing it as a heard item too).
"""
from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from publisher.errors import BadInput, Refused
from publisher.i18n import _

if TYPE_CHECKING:
    from channels.base import Channel
    from channels.sources import Heard
    from publisher.workspace.app import App

PLATFORM_CHANNELS = ("x", "facebook", "mastodon", "bluesky")
TIMEOUT = 20.0


def read_source_post(app: App, url: str) -> Heard:
    from channels.base import DeliveryError, Retryable
    from channels.source_post import fetch_source_post, platform_of

    platform = platform_of(url)
    try:
        return fetch_source_post(url, _channels(app, platform), timeout=TIMEOUT, secrets=app.redact.frozen())
    except Retryable as error:
        raise Refused(_("could not read the source post now ({reason}); try again, or give --first-seen "
                        "TIME.").format(reason=app.redact(error.reason))) from None
    except DeliveryError as error:
        raise BadInput(_("could not read the source post: {reason}; give --first-seen TIME instead.").format(
            reason=app.redact(error.reason))) from None


def source_record(heard: Heard) -> dict[str, Any]:
    """The source post as the opening event stores it (the fields of a heard item)."""
    record = asdict(heard)
    record["extra"] = dict(heard.extra)
    return {key: value for key, value in record.items() if value not in (None, "", {})}


def heard_of(record: dict[str, Any]) -> Heard:
    """The `Heard` an opening event's `source_post` was made from."""
    from channels.sources import Heard

    return Heard(platform=str(record.get("platform", "")), id=str(record.get("id", "")),
                 text=str(record.get("text", "")), author=str(record.get("author", "")), url=record.get("url"),
                 platform_time=record.get("platform_time"), answers=record.get("answers"),
                 extra=dict(record.get("extra") or {}))


def _channels(app: App, platform: str) -> list[Channel]:
    if platform not in PLATFORM_CHANNELS:
        return []
    found = []
    for configured in app.config.enabled_channels():
        if configured.type != platform:
            continue
        try:
            found.append(app.channel(configured.name))
        except BadInput:
            continue
    return found
