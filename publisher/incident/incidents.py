"""Incidents: opened with the time of the first negative message, read back from the log.

An incident's state is never stored apart from the log: it is derived from its events
(`incident.opened`, `incident.edited`, `incident.resolved`), so the log is the only source
of truth; a correction (`incident.edited`, see `corrections`) counts only when its
signature verifies.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Iterator

from publisher.errors import BadInput, Refused
from publisher.incident.playbooks import get_case
from publisher.incident.verdict_set import live_public
from publisher.log.store import NEXT_INCIDENT, Event
from publisher.timeparse import from_iso, iso, parse_instant
from publisher.workspace.app import App
from publisher.workspace.inputs import check_text
from publisher.i18n import _

LANGUAGES = ("es", "en")
STATE_KINDS = ("incident.opened", "incident.edited", "incident.resolved")
OLDEST_FIRST_SEEN = timedelta(days=3653)


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

    def prepare_deadline(self, hours: float) -> datetime:
        return self.first_seen + timedelta(hours=hours)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("first_seen", "opened_at", "resolved_at"):
            data[key] = iso(data[key]) if data[key] else None
        return data


def open_incident(app: App, *, case: int, first_seen: str, actor: str, source: str | None = None,
                  author: str | None = None, platform: str | None = None, summary: str | None = None,
                  language: str | None = None, severity: str = "crisis",
                  what: dict[str, str] | None = None) -> Incident:
    for flag, text in (("--source", source), ("--author", author), ("--platform", platform), ("--summary", summary)):
        if text is not None:
            check_text(text, flag)
    get_case(case, app.workspace)
    language = language or app.config.language
    if language not in LANGUAGES:
        raise BadInput(_("--lang {language!r} is not shipped; use one of {names}.").format(
                           language=language, names=', '.join(LANGUAGES)))
    moment = parse_instant(first_seen, "--first-seen", app.config.timezone, not_after=app.clock(),
                           not_before=app.clock() - OLDEST_FIRST_SEEN)
    data = {"case": case, "first_seen": iso(moment), "language": language, "severity": severity,
            "source": source, "author": author, "platform": platform, "summary": summary, "what": what,
            "public_channels": live_public(app)}
    event = app.store.append("incident.opened", actor=actor, incident=NEXT_INCIDENT,
                             data={key: value for key, value in data.items() if value is not None})
    incident = _from_events([event])
    freeze_on_open(app, incident, actor)
    return incident


def freeze_on_open(app: App, incident: Incident, actor: str) -> Event | None:
    """Case 3 stops every outgoing channel as it opens ([cases.N] freeze_on_open, default
    true for case 3 only); an active freeze is left as it is."""
    from publisher.incident.freeze import active_freeze, freeze

    if not app.config.case_setting(incident.case, "freeze_on_open", incident.case == 3) or active_freeze(app):
        return None
    return freeze(app, actor, f"incident {incident.id} opened (case {incident.case}): all outgoing communication "
                  "stops until the cabinet lifts the freeze", incident=incident.id, automatic=True)


def resolve_incident(app: App, incident_id: str, actor: str, note: str | None = None) -> Incident:
    check_text(note or "", "--note")
    incident = load_incident(app, incident_id)
    if incident.state == "resolved":
        raise Refused(_("incident {incident_id} is already resolved.").format(incident_id=incident_id))
    app.store.append("incident.resolved", actor=actor, incident=incident_id,
                     data={"note": note} if note else {})
    return load_incident(app, incident_id)


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
    Memory holds what changed incidents after they opened (a correction's fields, a
    resolution's time), never the log and never the list of incidents: the corrections
    and resolutions are folded once, then each iteration pages through the openings."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.later: dict[str, list[tuple[str, str, dict[str, Any] | None]]] = {}
        for event in app.store.each(kind=STATE_KINDS[1:]):
            if event.kind == "incident.edited" and not _trusted(app, [event]):
                continue
            changes = event.data.get("changes") or {} if event.kind == "incident.edited" else None
            self.later.setdefault(event.incident or "", []).append((event.kind, event.ts, changes))

    def __iter__(self) -> Iterator[Incident]:
        seen: set[str] = set()
        for event in self.app.store.each(kind=STATE_KINDS[0]):
            key = event.incident or ""
            if key in seen:
                continue
            seen.add(key)
            incident = _from_events([event])
            for kind, ts, changes in self.later.get(key, ()):
                if kind == "incident.edited":
                    incident = _corrected(incident, changes or {})
                else:
                    incident = replace(incident, state="resolved", resolved_at=from_iso(ts))
            yield incident


def find_incident(app: App, case: int, incident_id: str | None) -> Incident:
    """The incident a command is about: `--incident ID`, else the only open one of `case`."""
    if incident_id:
        incident = load_incident(app, incident_id)
        if incident.case != case:
            raise BadInput(_("incident {incident_id} is case {case}, not case {case2}.").format(
                               incident_id=incident_id, case=incident.case, case2=case))
        return incident
    open_ones = [item for item in list_incidents(app) if item.case == case and item.state != "resolved"]
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
        platform=data.get("platform"), summary=data.get("summary"), what=data.get("what"))
    return _applied(incident, events[1:])


def _applied(incident: Incident, events: list[Event]) -> Incident:
    for event in events:
        if event.kind == "incident.edited":
            incident = _corrected(incident, event.data.get("changes") or {})
        if event.kind == "incident.resolved":
            incident = replace(incident, state="resolved", resolved_at=from_iso(event.ts))
    return incident


def _corrected(incident: Incident, changes: dict[str, Any]) -> Incident:
    values = {field: change.get("to") for field, change in changes.items() if field in ("summary", "source")}
    if "first_seen" in changes:
        values["first_seen"] = from_iso(changes["first_seen"]["to"])
    return replace(incident, **values)


def _trusted(app: App, events: list[Event]) -> list[Event]:
    if not any(event.kind == "incident.edited" for event in events):
        return events
    from publisher.incident.identity import untrusted

    return [event for event in events if event.kind != "incident.edited" or untrusted(app, event) is None]
