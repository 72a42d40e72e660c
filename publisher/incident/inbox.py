"""The inbox: what listening heard, item by item, with its incident and its state.

Guarantees:
- Nothing about an item is stored outside the log: its incident and state are folded
  from its `item.*` events (`item.heard`, `item.attached`, `item.detached`,
  `item.assigned`, `item.handled`, `item.ignored`, `item.answered`, `item.sentiment`),
  each carrying the item's key in `data.key`, read through the store's item index.
- An item belongs to the incident that claimed it when heard, or the one it was last
  attached to; a detached item goes back to the workspace's stream (no incident).
- Its state is the latest of answered / handled / ignored (with its note or reason),
  else assigned (to whom), else new. Every change is an event with its actor.
- Its sentiment is the one judged when it was stored (`item.heard`'s `sentiment`), or the
  last a person set (`item.sentiment`, with a reason: `set_sentiment`); `--negative`
  filters by it.
- Text from sources is stored and returned as text; every face escapes it (the terminal
  shows it through `safe_line`, the console and reports through their escaping).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Iterator

from publisher.errors import BadInput
from publisher.i18n import _
from publisher.incident.authority import require_role
from publisher.workspace.inputs import check_text

if TYPE_CHECKING:
    from publisher.log.store import Event
    from publisher.workspace.app import App

ACTION_KINDS = ("item.attached", "item.detached", "item.assigned", "item.handled", "item.ignored", "item.answered",
                "item.sentiment")
CLOSING = {"item.answered": "answered", "item.handled": "handled", "item.ignored": "ignored"}
PAGE = 500


@dataclass(frozen=True)
class Item:
    """One heard item as the log has it now."""

    key: str
    seq: int
    source: str
    platform: str
    id: str
    text: str
    author: str
    url: str | None
    platform_time: str | None
    read_at: str
    answers: str | None
    rule: str | None
    incident: str | None
    state: str = "new"
    assignee: str | None = None
    note: str | None = None
    """The note of a handled item, the reason of an ignored one."""
    answered_by: str | None = None
    """The draft whose delivery answered it."""
    sentiment: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def history(app: App, key: str) -> list[Event]:
    """Every event about one item, oldest first (heard, attached, assigned, replied, answered...)."""
    return app.store.item_events([key])


def from_heard(event: Event) -> Item:
    data = event.data
    return Item(key=str(data["key"]), seq=event.seq, source=str(data.get("source", "")),
                platform=str(data.get("platform", "")), id=str(data.get("id", "")), text=str(data.get("text", "")),
                author=str(data.get("author") or ""), url=data.get("url"), platform_time=data.get("platform_time"),
                read_at=str(data.get("read_at") or event.ts), answers=data.get("answers"), rule=data.get("rule"),
                incident=event.incident, sentiment=data.get("sentiment"))


def apply(item: Item, event: Event) -> Item:
    """`item` after one of its action events."""
    kind, data = event.kind, event.data
    if kind == "item.attached":
        return replace(item, incident=event.incident)
    if kind == "item.detached":
        return replace(item, incident=None)
    if kind == "item.assigned":
        return replace(item, assignee=data.get("to"), state="assigned" if item.state == "new" else item.state)
    if kind == "item.sentiment":
        return replace(item, sentiment=data.get("sentiment"))
    if kind in CLOSING:
        return replace(item, state=CLOSING[kind], note=data.get("note") or data.get("reason"),
                       answered_by=data.get("draft") if kind == "item.answered" else item.answered_by)
    return item


def folded(app: App, heard: list[Event]) -> list[Item]:
    """The items of these `item.heard` events with their actions applied, in the same order."""
    items = {str(event.data["key"]): from_heard(event) for event in heard}
    for event in app.store.item_events(list(items), kind=ACTION_KINDS):
        key = str(event.data.get("key"))
        if key in items:
            items[key] = apply(items[key], event)
    return [items[str(event.data["key"])] for event in heard]


def item(app: App, key_or_seq: str) -> Item:
    """One item by its key (`platform:id`) or its row number (`#12` or `12`)."""
    wanted = key_or_seq.strip().lstrip("#")
    found: list[Event] = []
    if wanted.isdigit() and len(wanted) < 19:
        rows = app.store.backend.rows_at([int(wanted)])
        if int(wanted) in rows:
            from publisher.log.store import read_event

            body, _prev, digest = rows[int(wanted)]
            event = read_event(int(wanted), body, digest)
            found = [event] if event.kind == "item.heard" else []
    if not found:
        found = app.store.heard(keys=[key_or_seq.strip()])
    if not found:
        raise BadInput(_("no heard item {item!r}; `publish inbox` lists them (the number after # or the key).")
                       .format(item=key_or_seq))
    return folded(app, found)[0]


def inbox(app: App, *, incident: str | None = None, negative: bool = False, unanswered: bool = False,
          limit: int | None = 50, before: int | None = None) -> list[Item]:
    """The newest items first (at most `limit`; None: all), heard before row `before`
    when given (the next page), filtered: belonging to `incident`, negative (by their
    sentiment), not yet answered, handled or ignored. Read a page at a time, newest
    first: an incident's items through the incident index (those it claimed when heard,
    and those attached to it since); with no filter, only the rows the answer shows."""
    shown: list[Item] = []
    size = PAGE if limit is None or negative or unanswered else min(PAGE, limit)
    for page in _pages(app, incident, before, size):
        for found in folded(app, page):
            if incident is not None and found.incident != incident:
                continue
            if negative and found.sentiment != "negative":
                continue
            if unanswered and found.state in ("answered", "handled", "ignored"):
                continue
            shown.append(found)
            if limit is not None and len(shown) >= limit:
                return shown
    return shown


def _pages(app: App, incident: str | None, before: int | None = None,
           size: int = PAGE) -> Iterator[list[Event]]:
    """`item.heard` events older than row `before` (None: all), newest first, `size` at a time."""
    attached: list[Event] = []
    if incident is not None:
        keys = sorted({str(event.data.get("key")) for event in app.store.events(kind="item.attached",
                                                                                   incident=incident)})
        attached = sorted(app.store.heard(keys=keys), key=lambda event: -event.seq) if keys else []
    while True:
        page = app.store.heard(incident=incident, before_seq=before, limit=size, newest_first=True)
        floor = page[-1].seq if len(page) == size else 0
        extra = [event for event in attached if event.seq > floor and (before is None or event.seq < before)]
        merged = {event.seq: event for event in page + extra}
        if merged:
            yield [merged[seq] for seq in sorted(merged, reverse=True)]
        if len(page) < size:
            return
        before = floor


def attach(app: App, key: str, incident_id: str, actor: str) -> Item:
    from publisher.incident.incidents import load_incident, refuse_void

    require_role(app, actor, "inbox")
    refuse_void(load_incident(app, incident_id))
    found = item(app, key)
    if found.incident == incident_id:
        raise BadInput(_("item {item} already belongs to incident {incident}.").format(item=found.key,
                                                                                     incident=incident_id))
    app.store.append("item.attached", actor=actor, incident=incident_id,
                     data={"key": found.key, "from": found.incident})
    return replace(found, incident=incident_id)


def detach(app: App, key: str, actor: str) -> Item:
    require_role(app, actor, "inbox")
    found = item(app, key)
    if found.incident is None:
        raise BadInput(_("item {item} belongs to no incident; it is in the workspace's stream.").format(
            item=found.key))
    app.store.append("item.detached", actor=actor, incident=found.incident, data={"key": found.key})
    return replace(found, incident=None)


def assign(app: App, key: str, person: str, actor: str) -> Item:
    from publisher.incident.authority import people

    require_role(app, actor, "inbox")
    found = item(app, key)
    if person not in people(app):
        raise BadInput(_("{person!r} is not in the cabinet (`publish people list`).").format(person=person))
    app.store.append("item.assigned", actor=actor, incident=found.incident, data={"key": found.key, "to": person})
    return apply(found, _stand_in("item.assigned", {"to": person}))


def close(app: App, key: str, kind: str, text: str, actor: str) -> Item:
    """Mark handled (`note`) or ignored (`reason`); the text is required."""
    require_role(app, actor, "inbox")
    field = "note" if kind == "item.handled" else "reason"
    text = check_text(text, f"--{field}") if text else ""
    if not text.strip():
        raise BadInput(_("say why with --{field} TEXT.").format(field=field))
    found = item(app, key)
    app.store.append(kind, actor=actor, incident=found.incident, data={"key": found.key, field: text})
    return apply(found, _stand_in(kind, {field: text}))


def _stand_in(kind: str, data: dict[str, Any]) -> Event:
    from publisher.log.store import Event

    return Event(0, "", kind, None, None, None, None, data, "")


def set_sentiment(app: App, key: str, label: str, reason: str, actor: str) -> Item:
    """A person's judgement of an item's sentiment (one `item.sentiment` event); the reason is required."""
    from publisher.incident.sentiment import SENTIMENT, override_payload

    require_role(app, actor, "inbox")
    reason = check_text(reason, "--reason").strip() if reason else ""
    if not reason:
        raise BadInput(_("say why with --reason TEXT."))
    found = item(app, key)
    data = override_payload(found.key, label, reason)
    app.store.append(SENTIMENT, actor=actor, incident=found.incident, data=data)
    return apply(found, _stand_in(SENTIMENT, data))
