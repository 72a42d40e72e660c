"""Answering one heard item: a draft (template `reply` by default) aimed at that item on
its own platform, approved like any statement.

Guarantees:
- The draft answers the item's platform id (`reply_to`) on the enabled channels of the
  item's platform (the source's own channel first when it reuses one); an item on a
  platform we cannot post to (a news feed, an e-mail) is refused with one sentence.
- The link is an `item.reply` event (the item's key, the draft on the event's `draft`),
  written right after the draft, so the draft's own events name the item it answers.
- A case may let the community manager answer alone (`[cases.N] reply_approvals`): the
  number in force is recorded in that `item.reply` event ("approvals", "because"), and
  only that record lowers the draft's quorum (`drafts.reply_quorum`), for `reply` drafts only.
- When the reply is delivered, the engine records `item.answered` (the item's key, the
  draft, the channel, the post's id and URL): the item's state becomes answered.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from publisher.errors import BadInput
from publisher.i18n import _

if TYPE_CHECKING:
    from publisher.drafting.drafts import Draft, DraftRecord
    from publisher.incident.inbox import Item
    from publisher.workspace.app import App


def reply_channels(app: App, item: Item) -> tuple[str, ...]:
    """The enabled channels that can answer `item` where it was said."""
    source = app.config.sources.get(item.source)
    preferred = source.channel if source is not None else None
    matching = [channel.name for channel in app.config.enabled_channels() if channel.type == item.platform]
    if preferred in matching:
        matching.remove(preferred)
        matching.insert(0, preferred)
    if not matching:
        raise BadInput(_("item {item} was heard on {platform}, where no enabled channel can answer; answer it "
                         "where it was published, then `publish inbox handle {item} --note TEXT`.").format(
            item=f"#{item.seq}", platform=item.platform))
    return tuple(matching[:1])


def item_reference(app: App, reply_to: str | None) -> Item | None:
    """The heard item `--reply-to` names (`#N` or its key), or None for a post URL or id."""
    from publisher.incident.inbox import item

    if not reply_to:
        return None
    if reply_to.startswith("#") or app.store.heard(keys=[reply_to.strip()]):
        return item(app, reply_to)
    return None


def render_reply(app: App, key: str, *, template: str = "reply", author: str,
                 variables: dict[str, Any] | None = None, language: str | None = None,
                 allow_language: bool = False) -> tuple[Draft, Item]:
    """The draft answering item `key` (not stored yet)."""
    from publisher.drafting.drafts import render_draft
    from publisher.incident.inbox import item
    from publisher.incident.incidents import load_incident

    found = item(app, key)
    if found.incident is None:
        raise BadInput(_("item {item} belongs to no incident; attach it first: publish inbox attach {item} "
                         "--incident ID.").format(item=f"#{found.seq}"))
    incident = load_incident(app, found.incident)
    values = dict(variables or {})
    if found.author and "author" not in values:
        values["author"] = found.author
    draft = render_draft(app, incident, template, author=author, language=language, variables=values,
                         channel_names=reply_channels(app, found), reply_to=found.id, allow_language=allow_language)
    return draft, found


def link_reply(app: App, record: DraftRecord, found: Item) -> None:
    """Record that draft `record` answers `found`, with the quorum a reply needs in its case."""
    draft = record.draft
    if app.store.events(draft=draft.id, kind="item.reply", limit=1):
        return
    data: dict[str, Any] = {"key": found.key, "platform": found.platform, "id": found.id}
    configured = app.config.case_setting(draft.case, "reply_approvals", None)
    if draft.template == "reply" and configured is not None and configured < record.required:
        data["approvals"] = int(configured)
        data["because"] = f"[cases.{draft.case}] reply_approvals = {int(configured)}"
    app.store.append("item.reply", actor=draft.author, incident=draft.incident, draft=draft.id, data=data)


def record_answered(app: App, draft: Any, channel: str, receipt: dict[str, Any]) -> None:
    """After a delivery: each item this draft answers is marked answered (once per channel)."""
    links = app.store.events(draft=draft.id, kind="item.reply")
    for link in links:
        key = link.data.get("key")
        done = [event for event in app.store.item_events([str(key)], kind="item.answered")
                if event.draft == draft.id and event.channel == channel]
        if key and not done:
            app.store.append("item.answered", actor=None, incident=draft.incident, draft=draft.id, channel=channel,
                             data={"key": key, "draft": draft.id, "post": receipt.get("id"),
                                   "url": receipt.get("url")})
