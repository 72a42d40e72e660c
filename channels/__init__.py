"""Channel types, registered explicitly by name.

Each entry points at a module and class that is imported only when a channel of that
type is used, so `publish --help` never loads a platform SDK. A type's options are
declared in `channels.schemas`, so validating a config imports no channel module.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from channels.base import Channel
    from channels.sources import Source
    from channels.options import Option

REGISTRY: dict[str, str] = {
    "outbox": "channels.outbox:OutboxChannel",
    "site": "channels.site:SiteChannel",
    "x": "channels.x:XChannel",
    "facebook": "channels.facebook:FacebookChannel",
    "telegram": "channels.telegram:TelegramChannel",
    "mastodon": "channels.mastodon:MastodonChannel",
    "bluesky": "channels.bluesky:BlueskyChannel",
    "instagram": "channels.instagram:InstagramChannel",
    "matrix": "channels.matrix:MatrixChannel",
    "linkedin": "channels.linkedin:LinkedInChannel",
    "threads": "channels.threads:ThreadsChannel",
    "slack": "channels.slack:SlackChannel",
    "discord": "channels.discord:DiscordChannel",
    "teams": "channels.teams:TeamsChannel",
    "webhook": "channels.webhook:WebhookChannel",
    "email": "channels.email:EmailChannel",
}


SOURCES: dict[str, str] = {
    "imap": "channels.imap:ImapSource",
    "telegram": "channels.telegram_source:TelegramSource",
    "mastodon": "channels.mastodon_source:MastodonSource",
    "bluesky": "channels.bluesky_source:BlueskySource",
    "feed": "channels.feed:FeedSource",
    "x": "channels.x_mentions:XMentions",
    "facebook": "channels.facebook_comments:FacebookComments",
}
"""Listening source types (`[listen.NAME] type = ...`), registered the same way."""


def source_class(type_name: str) -> type[Source]:
    """The listening source class registered for `type_name`; KeyError when unknown."""
    module_name, class_name = SOURCES[type_name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def channel_class(type_name: str) -> type[Channel]:
    """The class registered for `type_name`; KeyError when the type is unknown."""
    module_name, class_name = REGISTRY[type_name].split(":")
    return getattr(importlib.import_module(module_name), class_name)



def channel_options(type_name: str) -> dict[str, Option]:
    """Every option a channel of `type_name` takes (the common ones included), read from
    `channels.schemas` without importing the channel's module; KeyError when unknown."""
    from channels.options import COMMON_OPTIONS
    from channels.schemas import OPTIONS

    return {**COMMON_OPTIONS, **OPTIONS[type_name]}
