"""Who a draft goes to, by template: a `reply` answers the source post on its own
platform, the `advisor` brief goes only to internal channels, everything else to
every enabled channel; and a `resolution` must list its solutions."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from publisher.errors import BadInput
from publisher.i18n import _
from publisher.incident.incidents import Incident
from publisher.workspace.app import App

PLATFORM_HOSTS = {"x.com": "x", "twitter.com": "x", "mobile.twitter.com": "x", "facebook.com": "facebook",
                  "fb.com": "facebook", "m.facebook.com": "facebook", "t.me": "telegram", "bsky.app": "bluesky"}
PLATFORM_NAMES = {"twitter": "x", "fb": "facebook", "tg": "telegram", "bsky": "bluesky"}


def source_platform(app: App, incident: Incident) -> str | None:
    """The channel type of the incident's source post: `--platform`, else its URL's host."""
    if incident.platform:
        name = incident.platform.strip().lower()
        return PLATFORM_NAMES.get(name, name)
    if not incident.source:
        return None
    host = (urlsplit(incident.source).hostname or "").lower().removeprefix("www.")
    if host in PLATFORM_HOSTS:
        return PLATFORM_HOSTS[host]
    for channel in app.config.enabled_channels():
        instance = str(channel.raw.get("instance") or "")
        if channel.type == "mastodon" and urlsplit(instance).hostname == host:
            return "mastodon"
    return None


def default_targets(app: App, incident: Incident, template: str, names: tuple[str, ...],
                    reply_to: str | None) -> tuple[tuple[str, ...], str | None]:
    """A `reply` answers the source post on its own platform (reply_to = the source URL);
    the `advisor` brief goes to the internal channels only; the rest to every channel."""
    if template == "reply":
        reply_to = reply_to or incident.source
        if not reply_to:
            raise BadInput(_("a reply answers the source post, but incident {id} has none; give --reply-to "
                             "URL_OR_ID (or open the incident with --source URL).").format(id=incident.id))
        if names:
            _refuse_statements_page(app, incident, names)
            return names, reply_to
        platform = source_platform(app, incident)
        if platform is None:
            raise BadInput(_("cannot tell which platform incident {id}'s source post is on; open it with "
                             "--platform NAME or choose the channel with --channel NAME.").format(
                               id=incident.id))
        matching = tuple(channel.name for channel in app.config.enabled_channels() if channel.type == platform)
        if not matching:
            raise BadInput(_("the source post is on {platform}, but no enabled channel has type = "
                             "'{platform}'; add one to config/publisher.toml or choose channels with "
                             "--channel NAME.").format(platform=platform))
        return matching, reply_to
    if template == "advisor":
        internal = tuple(channel.name for channel in app.config.enabled_channels() if channel.audience == "internal")
        chosen = names or internal
        public = [name for name in chosen if name in app.config.channels
                  and app.config.channels[name].audience == "public"]
        if public:
            raise BadInput(_("the advisor brief is internal; --channel {value} is a public channel.").format(
                               value=public[0]))
        if not chosen:
            raise BadInput(_("the advisor brief goes to the internal channels, and none is enabled; add one with "
                           "audience = \"internal\" (the cabinet's Slack or Teams, an email to the advisor)."))
        return chosen, reply_to
    return names, reply_to


def _refuse_statements_page(app: App, incident: Incident, names: tuple[str, ...]) -> None:
    """A single complaint's reply is addressed to one person: never on the public statements page."""
    if incident.severity != "single":
        return
    for name in names:
        configured = app.config.channels.get(name)
        if configured is not None and configured.type == "site":
            raise BadInput(_("--channel {name}: a reply to a single complaint is addressed to one person and is "
                             "never posted on the public statements page; send it on the source post's platform."
                             ).format(name=name))


def check_solutions(template: str, variables: dict[str, Any]) -> None:
    solutions = variables.get("solutions")
    if template != "resolution":
        return
    if isinstance(solutions, str):
        solutions = [item for item in solutions.replace("\n", ";").split(";")]
    if not [item for item in (solutions or []) if str(item).strip(" .")]:
        raise BadInput(_("a resolution must list every solution put in place to prevent a repeat; give "
                       "--solution TEXT (repeatable) or --solutions-file FILE (one per line)."))
