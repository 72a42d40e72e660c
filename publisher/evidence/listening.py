"""From the log to an incident's listening facts (the report's `data["listening"]`).

Guarantees: everything comes from the log. The workspace's tally is folded from the
`item.*` events (`heard_tally.LogTally`: each item once, at its platform time, negative
by the sentiment stored when it was heard or the last one a person set, claimed by the
incident it belongs to now after attach and detach). For the incident's own items, each
public answer delivered (`item.answered`) is kept in order, one thread per item (case 1's
reply and its "solved" follow-up); the first answer is the platform time of the first `item.answered` (our reply's delivery;
the event's own time when the platform gave none) and "handled" the first
`item.handled` or `item.ignored`. The source is the incident's: its platform time
"from the platform" when the incident opened from the source post's own time, or an item
heard at the source's URL gives it, else the typed `first_seen`, "declared". The curve runs from 24 hours before `first_seen` to `now`,
with the incident's alerts; the answer verdict weighs `[cases.N] answer_within` (default
60 minutes); each of the incident's days (24 hours from `first_seen`, as its checklist
counts them) has its moderation. `incident_listening` answers None when the workspace
listens to nothing and heard nothing for the incident.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from publisher.evidence.report_listening import FROM_PLATFORM, DECLARED, listening_facts
from publisher.incident.answer_times import DEFAULT_ANSWER_WITHIN, answer_times, daily_moderation
from publisher.incident.crisis_curve import Heard, curve, detect
from publisher.incident.heard_tally import LogTally, item_time
from publisher.timeparse import from_iso, iso

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from publisher.incident.answer_times import ModerationDay
    from publisher.incident.incidents import Incident
    from publisher.log.store import Event
    from publisher.workspace.app import App

BEFORE_FIRST_SEEN = timedelta(hours=24)
SETTLED = ("item.answered", "item.handled", "item.ignored")
CHUNK = 500




class IncidentItems:
    """An incident's heard items, read once: what the report, the checklist and the
    console need of them (`heard`: Heard rows with their answer and handling times)."""

    def __init__(self, app: App, incident_id: str, tally: LogTally | None = None):
        self.tally = tally or LogTally(keywords=tuple(app.config.listen.keywords))
        self.tally.catch_up(app.store)
        keys = self.tally.keys_of(incident_id)
        self.events: dict[str, Event] = {}
        actions: list[Event] = []
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start:start + CHUNK]
            self.events.update((str(event.data["key"]), event) for event in app.store.heard(keys=chunk))
            actions += app.store.item_events(chunk, kind=SETTLED)
        answered: dict[str, datetime] = {}
        handled: dict[str, datetime] = {}
        self.threads: dict[str, list[dict[str, Any]]] = {}
        follow_ups = _follow_ups(app, incident_id) if any(event.kind == "item.answered" for event in actions) else set()
        for event in sorted(actions, key=lambda found: found.seq):
            key = str(event.data.get("key"))
            if event.kind == "item.answered":
                answered.setdefault(key, _answered_at(event))
                self.threads.setdefault(key, []).append(_answer(event, follow_ups))
            else:
                handled.setdefault(key, from_iso(event.ts))
        self.heard = [Heard(key, datetime.fromtimestamp(self.tally.items[key].moment, tz=timezone.utc),
                            self.tally.items[key].negative, incident_id, answered.get(key), handled.get(key))
                      for key in keys]

    def moderation(self, first_seen: datetime, now: datetime, zone: tzinfo) -> list[ModerationDay]:
        """Each of the incident's days that heard a negative item (24 hours from `first_seen`)."""
        return daily_moderation(self.heard, now, zone, first_seen)

    def described(self) -> dict[str, str]:
        """Each item's author and URL, to name it beside its key."""
        return {key: " ".join(str(part) for part in (event.data.get("author"), event.data.get("url")) if part)
                for key, event in self.events.items()}


def listens(app: App) -> bool:
    """Whether the workspace has a listening source configured."""
    return bool(app.config.sources)


def incident_listening(app: App, incident: Incident, now: datetime, items: IncidentItems | None = None,
                       ) -> dict[str, Any] | None:
    """The listening facts of one incident, or None (no source configured, nothing heard)."""
    items = items or IncidentItems(app, incident.id)
    if not listens(app) and not items.heard:
        return None
    zone = app.config.timezone or timezone.utc
    settings = app.config.listen
    within = app.config.case_setting(incident.case, "answer_within", DEFAULT_ANSWER_WITHIN)
    drawn = curve(items.tally.tally, incident.first_seen - BEFORE_FIRST_SEEN, now, incident.id)
    return listening_facts(drawn, answer_times(items.heard, now, float(within)),
                           items.moderation(incident.first_seen, now, zone),
                           detect(drawn, settings.spike, settings.negative_share, items.tally.tally),
                           source_facts(incident, items.events.values()), items.described(), items.threads)


def incident_curve(app: App, incident: Incident, now: datetime) -> tuple[str, list[str]] | None:
    """The console's view of an incident's listening: the curve as inline SVG markup (no
    script, no external resource) and the report's sentences (source, answers, the
    curve's text alternative); None when `incident_listening` has nothing."""
    from publisher.evidence.report_listening import listening_lines, listening_svg

    facts = incident_listening(app, incident, now)
    if facts is None:
        return None
    data = {"timezone": app.config.timezone.key if app.config.timezone else "UTC"}
    return listening_svg(data, facts), listening_lines(data, facts)


def source_facts(incident: Incident, heard: Iterable[Event]) -> Mapping[str, Any]:
    """The incident's source: "from the platform" when the incident opened from the source
    post's own time (`first_seen_from`) or an item heard at its URL has a platform time."""
    post = incident.source_post or {}
    if incident.first_seen_from == FROM_PLATFORM:
        return {"platform": post.get("platform") or incident.platform, "url": incident.source,
                "author": post.get("author") or incident.author, "platform_time": iso(incident.first_seen),
                "time_from": FROM_PLATFORM}
    found = next((event for event in heard if incident.source and event.data.get("url") == incident.source
                  and event.data.get("platform_time")), None)
    if found is not None:
        return {"platform": found.data.get("platform") or incident.platform, "url": incident.source,
                "author": found.data.get("author") or incident.author,
                "platform_time": iso(item_time(found.data, found.ts)), "time_from": FROM_PLATFORM}
    return {"platform": incident.platform, "url": incident.source, "author": incident.author,
            "platform_time": iso(incident.first_seen), "time_from": DECLARED}


def _follow_ups(app: App, incident_id: str) -> set[str]:
    """The incident's drafts that say the problem is solved (`--var solved=...`), read once."""
    return {str(event.draft) for event in app.store.events(kind="draft.rendered", incident=incident_id)
            if "solved" in (event.data.get("variables") or {})}


def _answer(event: Event, follow_ups: set[str]) -> dict[str, Any]:
    """One of our public answers to an item: its draft, where and when it was delivered,
    and whether it is the follow-up saying the problem is solved."""
    draft = str(event.data.get("draft") or event.draft)
    return {"draft": draft, "channel": event.channel, "url": event.data.get("url"),
            "at": iso(_answered_at(event)), "solved": draft in follow_ups}


def _answered_at(event: Event) -> datetime:
    try:
        return from_iso(str(event.data["at"]))
    except (KeyError, TypeError, ValueError):
        return from_iso(event.ts)
