"""An item's thread: what it answers and which drafts answer it.

Guarantees:
- `threads` names, for each item that answers a post (its `answers`), that post as the
  log knows it: one of our delivered statements (the draft, its channel and incident),
  another heard item on the same platform (its key), else only the platform's post id.
  One query for the delivered posts and one for the heard items, whatever the page size.
- `replies` lists the drafts linked to an item by `item.reply`, oldest first.
Nothing here writes; the answers come from the log's events only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publisher.incident.inbox import Item
    from publisher.workspace.app import App


@dataclass(frozen=True)
class Thread:
    """What one item answers: `kind` is "statement" (`draft`, `channel`, `incident`
    set), "item" (`key` set) or "post" (only the platform's `post` id is known)."""

    kind: str
    post: str
    draft: str | None = None
    channel: str | None = None
    incident: str | None = None
    key: str | None = None


def threads(app: App, items: list[Item]) -> dict[str, Thread]:
    """Each answering item's thread, by the item's key."""
    answering = [found for found in items if found.answers]
    if not answering:
        return {}
    wanted = {str(found.answers) for found in answering}
    ours: dict[tuple[str, str], Thread] = {}
    for event in app.store.events(kind=("delivery.delivered", "delivery.confirmed")):
        post = str(event.data.get("id") or "")
        if post in wanted and event.draft:
            platform = str(event.data.get("platform") or _channel_type(app, event.channel))
            ours.setdefault((platform, post), Thread("statement", post, event.draft, event.channel, event.incident))
    keys = [f"{found.platform}:{found.answers}" for found in answering]
    heard = {str(event.data["key"]) for event in app.store.heard(keys=keys)}
    found_threads: dict[str, Thread] = {}
    for found in answering:
        post = str(found.answers)
        key = f"{found.platform}:{post}"
        if (found.platform, post) in ours:
            found_threads[found.key] = ours[(found.platform, post)]
        elif key in heard:
            found_threads[found.key] = Thread("item", post, key=key)
        else:
            found_threads[found.key] = Thread("post", post)
    return found_threads


def _channel_type(app: App, channel: str | None) -> str:
    configured = app.config.channels.get(channel or "")
    return configured.type if configured is not None else ""


def replies(app: App, key: str) -> list[str]:
    """The drafts written to answer item `key`, oldest first."""
    return [str(event.draft) for event in app.store.item_events([key], kind="item.reply") if event.draft]
