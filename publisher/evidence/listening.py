"""From the log's heard items to the report's listening facts, in one call.

Guarantees: `heard_items` reads `item.heard` events (payload: key, text, platform_time,
read_at, incident...) and `item.sentiment_set` overrides, stores each key once (the first
hearing wins, as the inbox does), and judges each item's sentiment with the workspace's
judge unless a person set it. An item's time is its platform time; one without a usable
platform time (missing or malformed) counts at the time we read it, then at the event's
own time, so it is never dropped. Who claims an item, when it was first answered and
when it was handled are the caller's maps (key -> incident, key -> delivery time, key ->
time), read from the events that record them. `incident_facts` draws the incident's
curve from 24 hours before its first negative message to `now`, with the incident's
alerts, its answer times against `answer_within` and each day's moderation, and returns
`report_listening.listening_facts`.
"""
from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from publisher.evidence.answer_times import DEFAULT_ANSWER_WITHIN, answer_times, daily_moderation
from publisher.evidence.crisis_curve import Heard, HourlyTally, curve, detect
from publisher.evidence.report_listening import listening_facts
from publisher.evidence.sentiment import overrides_from
from publisher.timeparse import from_iso

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from publisher.evidence.sentiment import Classify

HEARD = "item.heard"
BEFORE_FIRST_SEEN = timedelta(hours=24)


def heard_items(events: Iterable[Any], classify: Classify, claims: Mapping[str, str | None] | None = None,
                answered: Mapping[str, datetime] | None = None,
                handled: Mapping[str, datetime] | None = None) -> list[Heard]:
    """Each heard item once, oldest hearing first (events with `kind`, `actor`, `ts`,
    `incident`, `data`)."""
    rows = list(events)
    overrides = overrides_from(rows)
    claims, answered, handled = claims or {}, answered or {}, handled or {}
    found: dict[str, Heard] = {}
    for event in rows:
        if event.kind != HEARD:
            continue
        data = event.data or {}
        key = str(data.get("key") or "")
        if not key or key in found:
            continue
        said = overrides.get(key) or classify(str(data.get("text") or ""), data.get("language"))
        incident = claims[key] if key in claims else (data.get("incident") or event.incident)
        found[key] = Heard(key, _time(data, event), said.negative, incident, answered.get(key), handled.get(key))
    return list(found.values())


def _time(data: dict[str, Any], event: Any) -> datetime:
    for value in (data.get("platform_time"), data.get("read_at")):
        try:
            moment = from_iso(str(value))
        except (TypeError, ValueError):
            continue
        if moment.tzinfo is not None:
            return moment
    return from_iso(event.ts)


def incident_facts(items: Iterable[Heard], incident: str, first_seen: datetime, now: datetime, zone: tzinfo,
                   spike: float, negative_share: float, answer_within: float | None = None,
                   source: Mapping[str, Any] | None = None,
                   described: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The listening facts of one incident (the report's `data["listening"]`)."""
    every = list(items)
    tally = HourlyTally.of(every)
    drawn = curve(tally, first_seen - BEFORE_FIRST_SEEN, now, incident)
    own = [item for item in every if item.incident == incident]
    return listening_facts(drawn, answer_times(own, now, answer_within or DEFAULT_ANSWER_WITHIN),
                           daily_moderation(own, now, zone), detect(drawn, spike, negative_share, tally),
                           source, described)
