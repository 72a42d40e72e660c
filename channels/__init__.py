"""Channel types, registered explicitly by name.

Each entry points at a module and class that is imported only when a channel of that
type is used, so `publish --help` never loads a platform SDK.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from channels.base import Channel

REGISTRY: dict[str, str] = {
    "outbox": "channels.outbox:OutboxChannel",
    "site": "channels.site:SiteChannel",
    "x": "channels.x:XChannel",
    "facebook": "channels.facebook:FacebookChannel",
    "telegram": "channels.telegram:TelegramChannel",
    "mastodon": "channels.mastodon:MastodonChannel",
    "slack": "channels.slack:SlackChannel",
    "discord": "channels.discord:DiscordChannel",
    "teams": "channels.teams:TeamsChannel",
    "webhook": "channels.webhook:WebhookChannel",
    "email": "channels.email:EmailChannel",
}


def channel_class(type_name: str) -> type[Channel]:
    """The class registered for `type_name`; KeyError when the type is unknown."""
    module_name, class_name = REGISTRY[type_name].split(":")
    return getattr(importlib.import_module(module_name), class_name)

