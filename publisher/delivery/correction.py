"""Applying an approved correction (`Draft.corrects`) on one channel, for the delivery engine.

Guarantees: the correction goes to the post the original draft's delivery on that
channel made (its receipt, as the log has it): edited in place where the platform can
(`Channel.edit`, `how = "edit"`), else posted as a reply to it (`Channel.send` with
`reply_to` = the original post's id, `how = "reply"`); a channel that can do neither, an
original not delivered there or withdrawn there is a `Permanent` failure naming why.
The engine records the attempt before and the outcome after, as for any delivery, and
then one `statement.corrected` event with the platform's answer. An edit is safe to
repeat (it sets the same text again), so an edit whose outcome is unknown is retried.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from channels.base import Channel, Message, Permanent, Receipt
from publisher.drafting.drafts import Draft, load_draft
from publisher.workspace.app import App


@dataclass(frozen=True)
class Target:
    """The post one channel's correction applies to, and how."""

    original: str
    receipt: Receipt
    how: str

    def apply(self, channel: Channel, message: Message) -> Receipt:
        if self.how == "edit":
            return channel.edit(self.receipt, message)
        return channel.send(replace(message, reply_to=self.receipt.id))


def correction_target(app: App, draft: Draft, channel: Channel) -> Target | None:
    """Where `draft`'s correction goes on `channel`; None for a draft that corrects nothing."""
    if not draft.corrects:
        return None
    delivery = load_draft(app, draft.corrects).deliveries.get(channel.name)
    if delivery is None or delivery.state != "delivered" or not (delivery.receipt or {}).get("id"):
        raise Permanent(f"draft {draft.corrects} was not delivered on {channel.name}, so there is no post to correct")
    if delivery.withdrawn:
        raise Permanent(f"draft {draft.corrects} was withdrawn on {channel.name}; a withdrawn post is not corrected")
    data = delivery.receipt or {}
    receipt = Receipt(str(data["id"]), data.get("url"), data.get("platform_time"), dict(data.get("extra") or {}))
    if channel.can_edit:
        return Target(draft.corrects, receipt, "edit")
    if channel.supports_reply:
        return Target(draft.corrects, receipt, "reply")
    raise Permanent(f"{channel.name} ({channel.type}) can neither edit a post nor reply to one; the correction "
                    "cannot be applied there")


def corrected_data(draft: Draft, channel: Channel, target: Target, receipt: Receipt) -> dict[str, Any]:
    """The payload of `statement.corrected`."""
    return {"draft_id": draft.id, "corrects": target.original, "channel": channel.name, "how": target.how,
            "id": receipt.id, "url": receipt.url, "platform_time": receipt.platform_time,
            "answer": {key: value for key, value in dict(receipt.extra).items() if key != "text"}}


def how_applied(channel: Channel) -> str | None:
    """How a correction reaches `channel`: "edit", "reply", or None when it cannot."""
    if channel.can_edit:
        return "edit"
    return "reply" if channel.supports_reply else None
