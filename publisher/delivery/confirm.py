"""A person confirms a delivery whose outcome the tool could not know.

Guarantees: only an approver may confirm, and (with signing on) the confirmation is
signed like an approval. Where the channel can look a post up (X, Mastodon, Facebook,
Discord, our own site and outbox), the URL or id is checked with the platform before
anything is recorded: a post that does not exist, or does not carry the draft's text,
is refused. The event says who confirmed and whether the platform was asked
(`checked`); it is never presented as a platform's own receipt.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from channels import channel_class
from channels.base import DeliveryError, Receipt
from publisher.delivery.engine import channel_busy
from publisher.drafting.drafts import DraftRecord, load_draft
from publisher.errors import BadInput, Refused
from publisher.i18n import _
from publisher.incident.authority import require_approver
from publisher.incident.identity import append_signed
from publisher.workspace.app import App

TAG = re.compile(r"<[^>]+>")
LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Confirmation:
    draft: str
    channel: str
    url: str
    actor: str
    checked: bool


def confirm_delivery(app: App, draft_id: str, channel_name: str, actor: str, reference: str,
                     key: Path | None = None, signature: dict | None = None) -> Confirmation:
    """Record that `actor` found the post at `reference` (checked with the platform when it can be).
    `signature`: a passkey assertion over `confirmation_data` (the console's path)."""
    record, data = confirmation_data(app, draft_id, channel_name, actor, reference)
    append_signed(app, "delivery.confirmed", actor, data, key=key, signature=signature,
                  incident=record.draft.incident, draft=draft_id, channel=channel_name)
    if record.draft.template == "reply":
        from publisher.drafting.replies import record_answered

        record_answered(app, record.draft, channel_name, data)
    return Confirmation(draft_id, channel_name, data["url"], actor, data["checked"])


def confirmation_data(app: App, draft_id: str, channel_name: str, actor: str,
                      reference: str) -> tuple[DraftRecord, dict]:
    """What a confirmation records (and its actor signs), after every check."""
    require_approver(app, actor, _("confirm a delivery"))
    record = load_draft(app, draft_id)
    _check_confirmable(app, record, channel_name)
    found = _looked_up(app, channel_name, record, reference.strip())
    data = {"id": found.id if found else reference, "url": (found.url if found else None) or reference,
            "platform_time": found.platform_time if found else None, "confirmed_by": actor,
            "checked": found is not None}
    return record, data


def _check_confirmable(app: App, record: DraftRecord, channel: str) -> None:
    draft_id = record.draft.id
    delivery = record.deliveries.get(channel)
    if delivery is None:
        raise BadInput(_("draft {draft} has no channel {channel!r}; its channels are {names}.").format(
            draft=draft_id, channel=channel, names=", ".join(record.deliveries)))
    if delivery.state == "delivered":
        raise Refused(_("draft {draft} is already delivered on {channel}.").format(draft=draft_id, channel=channel))
    if delivery.state == "pending":
        raise Refused(_("draft {draft} was never sent to {channel}; `publish send {draft}` sends it.").format(
            draft=draft_id, channel=channel))
    if channel_busy(app, draft_id, channel):
        raise Refused(_("a publish process is sending draft {draft} to {channel} right now; "
                        "confirm once it has finished.").format(draft=draft_id, channel=channel))


def _looked_up(app: App, name: str, record: DraftRecord, reference: str) -> Receipt | None:
    """The post as the platform has it; None when the channel cannot look posts up."""
    configured = app.config.channels.get(name)
    if configured is None or not channel_class(configured.type).can_look_up:
        return None
    channel = app.channel(name)
    try:
        found = channel.lookup(reference)
    except DeliveryError as error:
        raise Refused(_("could not check {reference} with {channel}: {reason}; nothing was recorded.").format(
            reference=reference, channel=channel.name, reason=error.reason)) from None
    if found is None:
        raise Refused(_("{channel} has no post {reference}; nothing was recorded. Give the URL or id of the "
                        "post as the platform shows it.").format(channel=channel.name, reference=reference))
    text = _plain(str(found.extra.get("text", "")))
    parts = [_plain(part) for part in record.draft.payloads[channel.name].parts]
    if text and not any(part and part in text for part in parts):
        raise Refused(_("the post {reference} on {channel} does not carry the text of draft {draft}; "
                        "nothing was recorded.").format(reference=reference, channel=channel.name,
                                                        draft=record.draft.id))
    return found


def _plain(text: str) -> str:
    """Text as compared: without markup, links (platforms shorten them) or spacing."""
    text = html.unescape(TAG.sub(" ", text.replace("<br>", "\n").replace("</p>", "\n")))
    return " ".join(LINK.sub(" ", text).split()).casefold()
