"""Incidents: opened with the time of the first negative message, read back from the log.

An incident's state is never stored apart from the log: it is derived from its events
(`incident.opened`, `incident.edited`, `incident.resolved`, `incident.voided`), so the log
is the only source of truth; a correction (`incident.edited`) or a voiding
(`incident.voided`, see `corrections`) counts only when its signature verifies.

Guarantees: a void incident keeps every event and stays listed (state "void", who voided
it, when and why); it gets no new draft and nothing of it is sent (`refuse_void`). A
`--first-seen` whose day and month could be swapped into a time closer to now, or one
more than 7 days ago, is refused unless `--confirm` is given (`check_first_seen`), so a
mistyped date never silently opens an incident that is already long late.

Without `--first-seen`, the incident opens at the source post's own time, read from its
platform (`source_lookup`): `first_seen_from` is then "platform", and the post (a heard
item: platform, id, URL, author, text, platform time) is kept in `incident.opened` as
`source_post`; a typed time, and any corrected one, is "declared". A source post more
than 7 days old needs `--confirm` like a typed time; one later than this computer's clock
by more than `CLOCK_SLACK` is refused, and one later by less starts the clock now.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Iterator

from publisher.errors import BadInput, Refused
from publisher.incident.authority import require_role
from publisher.incident.playbooks import freezes_on_open, get_case
from publisher.incident.verdict_set import live_public
from publisher.log.store import NEXT_INCIDENT, Event
from publisher.timeparse import from_iso, hours, human_hours, iso, parse_instant
from publisher.workspace.app import App
from publisher.workspace.inputs import check_text
from publisher.i18n import _

LANGUAGES = ("es", "en")
STATE_KINDS = ("incident.opened", "incident.edited", "incident.resolved", "incident.voided")
SIGNED_STATE_KINDS = ("incident.edited", "incident.voided")
OLDEST_FIRST_SEEN = timedelta(days=3653)
CONFIRM_AFTER = timedelta(days=7)
CLOCK_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class Incident:
    """An incident as its log events describe it."""

    id: str
    case: int
    first_seen: datetime
    opened_at: datetime
    opened_by: str | None
    language: str
    severity: str
    source: str | None = None
    author: str | None = None
    platform: str | None = None
    summary: str | None = None
    what: dict[str, str] | None = None
    state: str = "open"
    resolved_at: datetime | None = None
    void: dict[str, Any] | None = None
    """Who voided the incident, when and why ({"by", "at", "reason"}); None unless void."""
    first_seen_from: str = "declared"
    """"platform" when `first_seen` is the source post's own time, "declared" when typed."""
    source_post: dict[str, Any] | None = None
    """The source post as read from its platform when the incident opened, or None."""

    def prepare_deadline(self, hours: float) -> datetime:
        return self.first_seen + timedelta(hours=hours)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("first_seen", "opened_at", "resolved_at"):
            data[key] = iso(data[key]) if data[key] else None
        for key in ("void", "source_post"):
            if data[key] is None:
                del data[key]
        return data


def open_incident(app: App, *, case: int, first_seen: str | None, actor: str, source: str | None = None,
                  author: str | None = None, platform: str | None = None, summary: str | None = None,
                  language: str | None = None, severity: str = "crisis",
                  what: dict[str, str] | None = None, confirm: bool = False) -> Incident:
    """`confirm`: accept a `first_seen` that `check_first_seen` would question. Without
    `first_seen`, the clock starts at the `source` post's platform time."""
    for flag, text in (("--source", source), ("--author", author), ("--platform", platform), ("--summary", summary)):
        if text is not None:
            check_text(text, flag)
    get_case(case, app.workspace)
    language = language or app.config.language
    if language not in LANGUAGES:
        raise BadInput(_("--lang {language!r} is not shipped; use one of {names}.").format(
                           language=language, names=', '.join(LANGUAGES)))
    heard: dict[str, Any] | None = None
    if first_seen is not None:
        moment = parse_instant(first_seen, "--first-seen", app.config.timezone, not_after=app.clock(),
                               not_before=app.clock() - OLDEST_FIRST_SEEN)
        check_first_seen(moment, app.clock(), confirm)
        require_role(app, actor, "open")
    elif not source:
        raise BadInput(_("give --first-seen TIME (the first negative message's time), or --source URL to read "
                         "it from the post."))
    else:
        require_role(app, actor, "open")
        moment, heard = _from_source(app, source, confirm)
        author = author or heard.get("author") or None
        platform = platform or heard.get("platform")
    data = {"case": case, "first_seen": iso(moment), "first_seen_from": "declared" if heard is None else "platform",
            "language": language, "severity": severity, "source": source, "author": author, "platform": platform,
            "summary": summary, "what": what, "public_channels": live_public(app), "source_post": heard}
    event = app.store.append("incident.opened", actor=actor, incident=NEXT_INCIDENT,
                             data={key: value for key, value in data.items() if value is not None})
    incident = _from_events([event])
    freeze_on_open(app, incident, actor)
    return incident


def _from_source(app: App, source: str, confirm: bool) -> tuple[datetime, dict[str, Any]]:
    """The source post's platform time and the post as the opening event keeps it."""
    from publisher.incident.source_lookup import read_source_post, source_record

    heard = read_source_post(app, source)
    if heard.platform_time is None:
        raise BadInput(_("{url} gives no publication time the tool can read (a post's own time, a page's "
                         "article:published_time or JSON-LD datePublished); give --first-seen TIME.").format(
            url=source))
    moment, now = from_iso(heard.platform_time), app.clock()
    if moment > now + CLOCK_SLACK:
        raise Refused(_("the source post's time ({posted}) is later than this computer's clock ({now}); check "
                        "the clock, or give --first-seen TIME.").format(posted=heard.platform_time, now=iso(now)))
    moment = min(moment, now)
    if not confirm and now - moment > CONFIRM_AFTER:
        raise Refused(_("the source post was published {moment}, more than 7 days ago ({age}), so every deadline "
                        "has long passed; if that is right, run it again with --confirm.").format(
            moment=iso(moment), age=human_hours(hours(now - moment))))
    return moment, source_record(heard)


def freeze_on_open(app: App, incident: Incident, actor: str) -> Event | None:
    """Case 3 stops every outgoing channel as it opens ([cases.N] freeze_on_open, default
    true for case 3 only); an active freeze is left as it is."""
    from publisher.incident.freeze import ALL, active_freezes, freeze, scope_of

    if not freezes_on_open(app, incident.case) or any(scope_of(event) == ALL for event in active_freezes(app)):
        return None
    return freeze(app, actor, f"incident {incident.id} opened (case {incident.case}): all outgoing communication "
                  "stops until the cabinet lifts the freeze", incident=incident.id, automatic=True, everything=True)



def resolve_incident(app: App, incident_id: str, actor: str, note: str | None = None) -> Incident:
    check_text(note or "", "--note")
    incident = load_incident(app, incident_id)
    refuse_void(incident)
    require_role(app, actor, "resolve")
    if incident.state == "resolved":
        raise Refused(_("incident {incident_id} is already resolved.").format(incident_id=incident_id))
    app.store.append("incident.resolved", actor=actor, incident=incident_id,
                     data={"note": note} if note else {})
    return load_incident(app, incident_id)


def check_first_seen(moment: datetime, now: datetime, confirm: bool) -> None:
    """Refuse (unless `confirm`) a first negative message whose day and month could be
    swapped into a time closer to now, or one more than 7 days ago: either opens an
    incident whose deadlines have long passed."""
    if confirm:
        return
    swapped = swapped_date(moment, now)
    if swapped is not None:
        raise Refused(_("--first-seen {moment} could be {swapped} with its day and month swapped, which is "
                        "{ago} closer to now; if {day} is right, run it again with --confirm.").format(
            moment=moment.isoformat(timespec="minutes"), swapped=swapped.isoformat(timespec="minutes"),
            ago=human_hours(hours(swapped - moment)), day=moment.date().isoformat()))
    if now - moment > CONFIRM_AFTER:
        raise Refused(_("--first-seen {moment} is more than 7 days ago ({age}), so every deadline has long "
                        "passed; if that is right, run it again with --confirm.").format(
            moment=moment.isoformat(timespec="minutes"), age=human_hours(hours(now - moment))))


def swapped_date(moment: datetime, now: datetime) -> datetime | None:
    """`moment` with its day and month swapped (as written, in its own offset) when that
    is another real date, not after `now` and closer to it; else None."""
    if moment.day > 12 or moment.day == moment.month:
        return None
    try:
        swapped = moment.replace(month=moment.day, day=moment.month)
    except ValueError:
        return None
    return swapped if moment < swapped <= now else None


def refuse_void(incident: Incident) -> None:
    """Refuse any new draft, send or change for a void incident, in one sentence."""
    if incident.void is not None:
        raise Refused(_("incident {id} is void (voided by {by}: {reason}); it gets no new draft and nothing of it "
                        "is sent.").format(id=incident.id, by=incident.void.get("by"),
                                           reason=incident.void.get("reason")))


def load_incident(app: App, incident_id: str) -> Incident:
    return incident_from(incident_id, _trusted(app, app.store.events(incident=incident_id, kind=STATE_KINDS)))


def incident_from(incident_id: str, trusted: list[Event]) -> Incident:
    """The incident its events describe; `trusted`: its events (any kinds, log order)
    whose signatures were already checked, so none is checked again here."""
    events = [event for event in trusted if event.kind in STATE_KINDS]
    if not events:
        raise BadInput(_("no incident {incident_id!r}; `publish incident list` shows them.").format(
                           incident_id=incident_id))
    return _from_events(events)


def list_incidents(app: App) -> list[Incident]:
    """Every incident as its state events tell it, in the order they were opened."""
    return list(IncidentStream(app))


class IncidentStream:
    """Every incident, final state included, streamed in the order they were opened, as
    many times as it is iterated (a table first measures its columns, then prints).
    Memory holds the events that changed incidents after they opened (corrections,
    resolutions, voidings), never the log and never the list of incidents: they are read once, then each iteration pages through the openings.
    `include_void`: False leaves out the incidents voided by a counted `incident.voided`."""

    def __init__(self, app: App, include_void: bool = True) -> None:
        self.app = app
        self.include_void = include_void
        self.later: dict[str, list[Event]] = {}
        for event in app.store.each(kind=STATE_KINDS[1:]):
            if event.kind in SIGNED_STATE_KINDS and not _trusted(app, [event]):
                continue
            self.later.setdefault(event.incident or "", []).append(event)

    def __iter__(self) -> Iterator[Incident]:
        seen: set[str] = set()
        for event in self.app.store.each(kind=STATE_KINDS[0]):
            key = event.incident or ""
            if key in seen:
                continue
            seen.add(key)
            incident = _from_events([event])
            incident = _applied(incident, self.later.get(key, []))
            if self.include_void or incident.void is None:
                yield incident

    def void_count(self) -> int:
        """How many incidents a counted `incident.voided` made void."""
        return sum(1 for events in self.later.values() if any(event.kind == "incident.voided" for event in events))


def find_incident(app: App, case: int, incident_id: str | None) -> Incident:
    """The incident a command is about: `--incident ID`, else the only open one of `case`."""
    if incident_id:
        incident = load_incident(app, incident_id)
        if incident.case != case:
            raise BadInput(_("incident {incident_id} is case {case}, not case {case2}.").format(
                               incident_id=incident_id, case=incident.case, case2=case))
        return incident
    open_ones = [item for item in list_incidents(app) if item.case == case and item.state == "open"]
    if not open_ones:
        raise BadInput(_("no open case {case} incident; open one with `publish incident open --case {case} "
                         "--first-seen TIME --source URL`.").format(case=case))
    if len(open_ones) > 1:
        ids = ", ".join(item.id for item in open_ones)
        raise BadInput(_("several case {case} incidents are open ({ids}); choose one with --incident ID.").format(
                           case=case, ids=ids))
    return open_ones[0]


def _from_events(events: list[Event]) -> Incident:
    opened = events[0]
    data = opened.data
    incident = Incident(
        id=opened.incident or "", case=int(data["case"]), first_seen=from_iso(data["first_seen"]),
        opened_at=from_iso(opened.ts), opened_by=opened.actor, language=data["language"],
        severity=data.get("severity", "crisis"), source=data.get("source"), author=data.get("author"),
        platform=data.get("platform"), summary=data.get("summary"), what=data.get("what"),
        first_seen_from="platform" if data.get("first_seen_from") == "platform" else "declared",
        source_post=data.get("source_post") if isinstance(data.get("source_post"), dict) else None)
    return _applied(incident, events[1:])


def _applied(incident: Incident, events: list[Event]) -> Incident:
    for event in events:
        if event.kind == "incident.edited":
            incident = _corrected(incident, event.data.get("changes") or {})
        if event.kind == "incident.resolved":
            incident = replace(incident, state="void" if incident.void else "resolved", resolved_at=from_iso(event.ts))
        if event.kind == "incident.voided" and incident.void is None:
            incident = replace(incident, state="void", void={"by": event.actor, "at": event.ts,
                                                             "reason": event.data.get("reason")})
    return incident


def _corrected(incident: Incident, changes: dict[str, Any]) -> Incident:
    values = {field: change.get("to") for field, change in changes.items() if field in ("summary", "source")}
    if "first_seen" in changes:
        values["first_seen"] = from_iso(changes["first_seen"]["to"])
        values["first_seen_from"] = "declared"
    return replace(incident, **values)


def _trusted(app: App, events: list[Event]) -> list[Event]:
    if not any(event.kind in SIGNED_STATE_KINDS for event in events):
        return events
    from publisher.incident.identity import untrusted

    return [event for event in events if event.kind not in SIGNED_STATE_KINDS or untrusted(app, event) is None]
