"""Paging: a notice reaches a person, and waits for someone to answer it.

Guarantees:
- a notice goes first to the first person of its list (the people who can act on it, in
  the cabinet's order) through their own contact in the log, with a one-use
  acknowledgement link: Web Push to a phone they installed the console on
  (`publisher.delivery.webpush`) first, else their e-mail or Telegram contact (by
  `publisher.delivery.direct`); when nobody in the list can be reached in person it
  goes to the internal channels at once;
- a notice that needs action and is not acknowledged within `[notices] escalate_after`
  minutes goes further, one step each time: the next person of the list, then everyone
  in it, then the internal channels; an acknowledgement (`acknowledge`) stops it;
- each step is sent at most once per key, whatever number of processes run: under the
  store's lock for that key and step, and only when the log does not have it yet (as
  `publisher.delivery.notify`); each is an event (`notice.sent`, `notice.escalated`,
  `notice.acknowledged`) with who was told, through which channel, what failed (and,
  in `detours`, why a person was reached by a later route than their first) and what a
  freeze held;
- nothing is posted on a channel a freeze holds for the notice's incident (the notice
  is still recorded, so the console shows it). Web Push to the cabinet is not held: it
  is the console's own secure path, like the console itself (end to end encrypted to
  the console on the person's phone, RFC 8291; the push service carries only
  ciphertext), not one of the messengers, social networks or e-mail that the case 3
  seed forbids while a leak is traced; a freeze's allow-list is for the other channels;
- the log keeps only a digest of each acknowledgement link's token.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from publisher.delivery import direct, notify, webpush
from publisher.errors import BadInput, NotDelivered, Refused
from publisher.i18n import _
from publisher.incident import roster
from publisher.incident.roster import Person
from publisher.incident.freeze import freeze_holding
from publisher.log.store import Event
from publisher.timeparse import from_iso
from publisher.workspace.app import App

FIRST, NEXT, EVERYONE, CHANNELS = 0, 1, 2, 3
KINDS = ("notice.sent", "notice.escalated", "notice.acknowledged")


@dataclass(frozen=True)
class Notice:
    """What to tell, about which incident, to whom (who can act, in order)."""

    key: str
    title: str
    text: str
    incident: str | None
    people: tuple[str, ...] = ()
    needs_action: bool = True


@dataclass
class Page:
    """What one notice's events say so far."""

    key: str
    title: str
    text: str
    incident: str | None
    people: list[str]
    needs_action: bool
    level: int
    told: list[str]
    last_ts: str
    tokens: dict[str, str] = field(default_factory=dict)
    acknowledged: Event | None = None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def pages(app: App) -> dict[str, Page]:
    """Every paged notice in the log, by key."""
    found: dict[str, Page] = {}
    for event in app.store.events(kind=KINDS):
        data = event.data
        key = str(data.get("key", ""))
        if event.kind == "notice.sent":
            if key in found or "people" not in data:
                continue
            found[key] = Page(key, str(data.get("title", "")), str(data.get("text", "")), event.incident,
                              list(data["people"]), bool(data.get("needs_action")), FIRST, list(data.get("to", [])),
                              event.ts, dict(data.get("tokens", {})))
        elif key in found and event.kind == "notice.escalated":
            page = found[key]
            page.level = max(page.level, int(data.get("level", 0)))
            page.told += [name for name in data.get("to", []) if name not in page.told]
            page.last_ts = event.ts
            page.tokens.update(data.get("tokens", {}))
        elif key in found and event.kind == "notice.acknowledged" and found[key].acknowledged is None:
            found[key].acknowledged = event
    return found


def routes(app: App, person: Person) -> list[tuple[str, str]]:
    """How `person` can be told, best first: ("push", "webpush") for a phone with the
    console installed, then their own e-mail or Telegram contact (`direct.reachable`)."""
    found = [("push", webpush.CHANNEL)] if webpush.reachable(app, person.name) else []
    route = direct.reachable(app, person)
    return found + ([route] if route else [])


def _tell_people(app: App, names: list[str], key: str, title: str, text: str,
                 incident: str | None) -> dict[str, Any]:
    """Send to each person's own contact, with their acknowledgement link: the first of
    their routes that takes it (a freeze never holds Web Push, the console's own path)."""
    cabinet = roster.cabinet(app)
    reached: dict[str, str] = {}
    failed: dict[str, str] = {}
    held: list[str] = []
    tokens: dict[str, str] = {}
    detours: dict[str, str] = {}
    for name in names:
        person = cabinet.people.get(name)
        ways = routes(app, person) if person else []
        if not ways:
            failed[name] = _("no contact a configured channel can reach")
            continue
        token = secrets.token_urlsafe(18)
        link = f"{app.config.console_base_url}/ack/{token}"
        body = _("{text}\n\nAcknowledge (so that nobody else is woken): {link} or publish notices ack {key}").format(
            text=text, link=link, key=key)
        reasons = []
        for how, channel in ways:
            if how != "push" and freeze_holding(app, incident, channel) is not None:
                held.append(channel)
                continue
            try:
                if how == "push":
                    reached[name] = webpush.send_to(app, name, title, text, link, key)
                else:
                    reached[name] = direct.send_to(app, person, how, f"{key}:{name}", title, body)  # type: ignore[arg-type]
            except (NotDelivered, Refused) as error:
                reasons.append(app.redact(str(error)))
                continue
            tokens[digest(token)] = name
            break
        if name not in reached and reasons:
            failed[name] = " ".join(reasons)
        elif reasons:
            detours[name] = " ".join(reasons)
    told = {"to": list(reached), "reached": reached, "failed": failed, "held": sorted(set(held)), "tokens": tokens}
    return {**told, "detours": detours} if detours else told


def _tell(app: App, names: list[str], key: str, title: str, text: str, incident: str | None) -> dict[str, Any]:
    """Tell `names` in person; when none of them was reached, the internal channels
    instead (those a freeze holds excepted)."""
    told = _tell_people(app, names, key.split("#")[0], title, text, incident) if names else \
        {"to": [], "reached": {}, "failed": {}, "held": [], "tokens": {}}
    told["channels"] = []
    if not told["to"]:
        reached, failed, held = notify.post(app, notify.internal_channels(app), key, title, text, incident)
        told.update(channels=reached, failed={**told["failed"], **failed}, held=sorted({*told["held"], *held}))
    return told


def _reachable(app: App, names: tuple[str, ...]) -> bool:
    cabinet = roster.cabinet(app)
    return any(cabinet.people.get(name) and routes(app, cabinet.people[name]) for name in names)


def page(app: App, notice: Notice, in_person_only: bool = False) -> bool:
    """Send `notice` once per key (its first step); return whether this call sent it.
    `in_person_only`: when nobody of its list can be reached in person, leave it (to the
    next round, which tells the internal channels) instead of posting there now."""
    if in_person_only and not _reachable(app, notice.people):
        return False
    with app.store.delivery_lock("notice", notice.key) as take:
        if not take() or notify.already_sent(app, notice.key):
            return False
        data: dict[str, Any] = {"key": notice.key, "title": notice.title, "text": notice.text,
                                "people": list(notice.people), "needs_action": notice.needs_action}
        first = list(notice.people[:1]) if notice.needs_action else list(notice.people)
        if not _reachable(app, notice.people):
            data["needs_action"], first = False, []
        data.update(_tell(app, first, notice.key, notice.title, notice.text, notice.incident))
        app.store.append("notice.sent", incident=notice.incident, data=data)
        return True


def _next_step(page_: Page) -> tuple[int, list[str]]:
    """The step after `page_.level` and who it tells (none for the internal channels)."""
    untold = [name for name in page_.people if name not in page_.told]
    if page_.level < NEXT and untold:
        return NEXT, untold[:1]
    if page_.level < EVERYONE and untold:
        return EVERYONE, untold
    return CHANNELS, []


def escalate(app: App) -> list[str]:
    """One round: every unacknowledged notice whose last step is older than
    `[notices] escalate_after` goes one step further; return "key#level" of each step
    this call sent."""
    after = timedelta(minutes=app.config.escalate_after_minutes)
    now = app.clock()
    sent: list[str] = []
    for key, found in pages(app).items():
        if not found.needs_action or found.acknowledged or found.level >= CHANNELS:
            continue
        if now - from_iso(found.last_ts) < after:
            continue
        level, names = _next_step(found)
        step = f"{key}#{level}"
        with app.store.delivery_lock("notice", step) as take:
            if not take() or pages(app)[key].level >= level or pages(app)[key].acknowledged:
                continue
            text = _("Nobody has acknowledged this yet ({minutes} min): {text}").format(
                minutes=int(app.config.escalate_after_minutes), text=found.text)
            data: dict[str, Any] = {"key": key, "level": level}
            data.update(_tell(app, names, step, found.title, text, found.incident))
            app.store.append("notice.escalated", incident=found.incident, data=data)
            sent.append(step)
    return sent


def acknowledge(app: App, key: str, person: str, via: str = "command") -> Event:
    """Record that `person` answers the notice `key`; it goes no further."""
    found = pages(app).get(key)
    if found is None:
        raise BadInput(_("no notice {key} in the log; `publish notices list` shows them.").format(key=key))
    if person not in roster.cabinet(app).people:
        raise Refused(_("{name} is not in the cabinet; only its people acknowledge notices.").format(name=person))
    if found.acknowledged is not None:
        raise Refused(_("notice {key} was already acknowledged at {ts} by {actor}.").format(
            key=key, ts=found.acknowledged.ts, actor=found.acknowledged.actor))
    return app.store.append("notice.acknowledged", actor=person, incident=found.incident,
                            data={"key": key, "via": via})


def page_for_token(app: App, token: str) -> tuple[Page, str]:
    """The notice behind an acknowledgement link, and the person it was sent to."""
    wanted = digest(token)
    for found in pages(app).values():
        if wanted in found.tokens:
            return found, found.tokens[wanted]
    raise BadInput(_("this acknowledgement link is not valid."))


def acknowledge_link(app: App, token: str) -> Event:
    """Acknowledge the notice behind an acknowledgement link, as the person it was sent to."""
    found, person = page_for_token(app, token)
    return acknowledge(app, found.key, person, via="link")
