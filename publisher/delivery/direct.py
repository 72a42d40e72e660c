"""One message to one person: a console invitation sent to that person's own contact
in the log, never to a shared channel.

Guarantees: the message goes through a configured `email` channel (for an e-mail
address), `telegram` channel (for a chat id) or `slack` channel with a `bot_token` (for
a Slack user id: a direct message from the bot, `chat.postMessage`) of the workspace,
with its recipients replaced by the person's own address, chat id or user id as the
log records it, so nobody else receives it; no other channel type (a shared room, a webhook) can carry it, and the
address never comes from the command line. An internal channel is preferred to a
public one. Nothing goes through a channel a freeze holds. A failure is said with the
platform's reason; nothing is retried. The notices of `publisher.delivery.paging` use
the same path.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from channels.base import DeliveryError, Message
from publisher.errors import NotDelivered, Refused
from publisher.i18n import _
from publisher.incident import people, roster

if TYPE_CHECKING:
    from publisher.incident.roster import Person
    from publisher.workspace.app import App

ADDRESSING = {"email": "recipients", "telegram": "chat", "slack": "user"}


def channel_for(app: App, how: str) -> str:
    """The channel that can reach a person by `how` ("email", "telegram", or "slack":
    a Slack channel with a bot token)."""
    found = sorted((channel.audience != "internal", channel.name) for channel in app.config.enabled_channels()
                   if channel.type == how and (how != "slack" or channel.raw.get("bot_token")))
    if not found:
        raise Refused(_("no enabled {type} channel is configured to reach them; add one, or hand the link over "
                        "in person with --in-person.").format(type=how))
    return found[0][1]


def refuse_held(app: App, channel: str, incident: str | None = None) -> None:
    """Refuse to post on `channel` while a freeze holds it (see `publisher.incident.freeze`)."""
    from publisher.incident.freeze import freeze_holding

    held = freeze_holding(app, incident, channel)
    if held is not None:
        raise Refused(_("a freeze since {ts} by {actor} holds {channel}: {reason}; hand the link over in person "
                        "with --in-person, or use a channel the freeze allows.").format(
            ts=held.ts, actor=held.actor, channel=channel, reason=held.data.get("reason")))


def reachable(app: App, person: Person) -> tuple[str, str] | None:
    """How `person` can be reached in their own name: ("email", "telegram" or "slack", the
    channel), or None when they have no contact a configured channel can carry."""
    for how, address in (("email", person.email), ("telegram", person.telegram), ("slack", person.slack)):
        if address:
            try:
                return how, channel_for(app, how)
            except Refused:
                continue
    return None


def send_to(app: App, person: Person, how: str, key: str, title: str, text: str) -> str:
    """Send `text` to `person`'s own `how` contact; return the channel it went through."""
    address = {"email": person.email, "telegram": person.telegram, "slack": person.slack}.get(how)
    if not address:
        raise Refused(_("{name} has no {type} contact in the log.").format(name=person.name, type=how))
    name = channel_for(app, how)
    value: object = [address] if how == "email" else address if how == "slack" else int(address)
    channel = app.channel(name, {ADDRESSING[how]: value})
    message = Message(draft_id=key, channel=name, parts=(text,), title=title, incident_id="", template="notice",
                      language=app.config.language, case=0, organisation=app.config.organisation)
    try:
        channel.send(message)
    except DeliveryError as error:
        raise NotDelivered(_("the message for {name} was not sent over {channel}: {reason}").format(
            name=person.name, channel=name, reason=app.redact(str(error)))) from None
    return name


def invite(app: App, name: str, actor: str, key: Path | None = None,
           in_person: bool = False) -> tuple[people.Invitation, str | None]:
    """Record `actor`'s invitation of `name` and send its link to `name`'s own contact;
    the channel it went through, or None when it is for the inviter to hand over in
    person. A contact no channel can reach is refused before anything is recorded."""
    how = people.delivery_for(roster.cabinet(app).people.get(name), in_person)
    if how != "in person":
        refuse_held(app, channel_for(app, how))
    made = people.invite(app, name, actor, key, in_person)
    if made.delivery == "in person":
        return made, None
    text = _("{name}: enrol your passkey on the crisis console of {organisation} (one use, valid 15 minutes): "
             "{link}").format(name=name, organisation=app.config.organisation, link=made.link)
    title = _("Crisis console invitation for {name}").format(name=name)
    return made, send_to(app, made.person, made.delivery, f"invite-{made.event.seq}", title, text)
