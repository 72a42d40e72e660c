"""The crisis curve: mentions per hour and the share of negative ones, for the workspace
and per incident, against the workspace's hourly baseline of the 7 days before; and the
alerts it raises: a spike (an hour's mentions over `spike` times the baseline) or a dip
(an hour's share of negative mentions over `negative_share`).

Guarantees:
- Hours are whole UTC hours of each item's platform time (when it was said, not when we
  read it). The workspace's curve counts every heard item; an incident's counts the items
  it claims, drawn against the workspace's baseline (before a crisis nothing belongs to
  its incident, so its own history would be empty).
- The baseline of an hour is the mean of the workspace's hourly mentions over the 168
  hours before it; in a workspace younger than 24 hours there is no baseline and no spike
  (a dip needs none). An hour needs `min_mentions` (default 10) before either alert,
  so one angry message in a quiet night is not a crisis.
- An alert is raised once per run of alerting hours; after a run ends, the same kind of
  alert for the same scope waits `cooldown_minutes` (default 60) after the run's last hour
  (a run that starts within the cooldown raises nothing and extends it).
  Each alert has a stable `id`, so the worker tells the cabinet once: `pending_alerts`
  gives it the alerts of the last hours whose ids it has not yet told (it keeps those ids
  in the log). It names the first negative item of its hour as the suggested
  source and that item's platform time as `first_seen`.
- `HourlyTally` is updated item by item (`add`, `set_negative` when a person changes a
  sentiment, `claim` when an incident claims or drops an item) and holds two counters per
  hour and scope, so the curve never reads the items: over 1,000,000 items a curve of
  any window answers in well under a millisecond (bench/curve_1m.py, 2026-12-06 on the
  shared 2-core machine: 0.2 ms for the workspace's last 48 hours with its alerts, 0.5 ms
  for 7 days; the tally's 1,000,000 additions took 1.5 s to 5.4 s as the machine's load
  varied, 1.5 to 5.4 µs per item heard, which is also what rebuilding it from the log at a
  worker's start costs). The first negative item of an hour is kept
  (one per hour and scope); when a person un-negates it, `first_negative` answers None
  for that hour and the caller looks it up in the log.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from publisher.i18n import _

if TYPE_CHECKING:
    from collections.abc import Iterable

HOUR = 3600
BASELINE_HOURS = 168
YOUNGEST_BASELINE = 24
SPIKE, DIP = "spike", "dip"


def hour_of(moment: datetime | float) -> int:
    """Whole hours since the epoch, UTC."""
    seconds = moment.timestamp() if isinstance(moment, datetime) else float(moment)
    return int(seconds // HOUR)


def hour_start(index: int) -> datetime:
    return datetime.fromtimestamp(index * HOUR, tz=timezone.utc)


@dataclass(frozen=True)
class Heard:
    """What the curve and the answer times need of one heard item."""

    key: str
    platform_time: datetime
    negative: bool
    incident: str | None = None
    answered_at: datetime | None = None
    """Our first answer's delivery time (the platform's time of our reply)."""
    handled_at: datetime | None = None
    """When a person marked it handled or ignored (with a reason) instead of answering."""


@dataclass
class HourlyTally:
    """Per scope (None: the workspace; else an incident id), per hour: [mentions, negative];
    and the first negative item of each hour."""

    hours: dict[str | None, dict[int, list[int]]] = field(default_factory=lambda: {None: {}})
    first: dict[tuple[str | None, int], tuple[float, str]] = field(default_factory=dict)
    oldest: int | None = None

    def add(self, moment: datetime | float, negative: bool, incident: str | None = None, key: str = "") -> None:
        hour = hour_of(moment)
        self.oldest = hour if self.oldest is None else min(self.oldest, hour)
        for scope in (None, incident) if incident is not None else (None,):
            self._count(scope, hour, 1, int(negative))
            if negative:
                self._first(scope, hour, moment, key)

    def set_negative(self, moment: datetime | float, was: bool, now: bool, incident: str | None = None,
                     key: str = "") -> None:
        """A person changed an item's sentiment."""
        if was == now:
            return
        hour = hour_of(moment)
        for scope in (None, incident) if incident is not None else (None,):
            self._count(scope, hour, 0, 1 if now else -1)
            if now:
                self._first(scope, hour, moment, key)
            elif self.first.get((scope, hour), (0.0, ""))[1] == key:
                self.first[(scope, hour)] = (float("nan"), "")

    def claim(self, moment: datetime | float, negative: bool, incident: str | None, before: str | None = None,
              key: str = "") -> None:
        """An item moves from incident `before` to `incident` (either may be None)."""
        hour = hour_of(moment)
        if before is not None:
            self._count(before, hour, -1, -int(negative))
            if negative and self.first.get((before, hour), (0.0, ""))[1] == key:
                self.first[(before, hour)] = (float("nan"), "")
        if incident is not None:
            self._count(incident, hour, 1, int(negative))
            if negative:
                self._first(incident, hour, moment, key)

    def _count(self, scope: str | None, hour: int, mentions: int, negative: int) -> None:
        cell = self.hours.setdefault(scope, {}).setdefault(hour, [0, 0])
        cell[0] += mentions
        cell[1] += negative

    def _first(self, scope: str | None, hour: int, moment: datetime | float, key: str) -> None:
        seconds = moment.timestamp() if isinstance(moment, datetime) else float(moment)
        known = self.first.get((scope, hour))
        if known is None or known[1] and seconds < known[0]:
            self.first[(scope, hour)] = (seconds, key)

    def first_negative(self, hour: int, incident: str | None = None) -> tuple[datetime, str] | None:
        """The first negative item of an hour (its platform time and key), None when unknown."""
        known = self.first.get((incident, hour))
        if known is None or not known[1]:
            return None
        return datetime.fromtimestamp(known[0], tz=timezone.utc), known[1]

    @classmethod
    def of(cls, items: Iterable[Heard]) -> HourlyTally:
        tally = cls()
        for item in items:
            tally.add(item.platform_time, item.negative, item.incident, item.key)
        return tally


@dataclass(frozen=True)
class HourPoint:
    hour: datetime
    mentions: int
    negative: int
    baseline: float | None
    """Mean hourly mentions of the workspace over the 7 days before; None without 24 h of history."""

    @property
    def share(self) -> float:
        return self.negative / self.mentions if self.mentions else 0.0


@dataclass(frozen=True)
class Curve:
    incident: str | None
    points: tuple[HourPoint, ...]

    @property
    def mentions(self) -> int:
        return sum(point.mentions for point in self.points)

    @property
    def negative(self) -> int:
        return sum(point.negative for point in self.points)


def curve(tally: HourlyTally, start: datetime, end: datetime, incident: str | None = None) -> Curve:
    """The hours from the one holding `start` to the one holding `end`, both included."""
    first, last = hour_of(start), hour_of(end)
    workspace = tally.hours.get(None, {})
    own = tally.hours.get(incident, {})
    window = sum(workspace.get(hour, (0, 0))[0] for hour in range(first - BASELINE_HOURS, first))
    points = []
    for hour in range(first, last + 1):
        known = hour - tally.oldest if tally.oldest is not None else 0
        baseline = window / min(BASELINE_HOURS, known) if known >= YOUNGEST_BASELINE else None
        mentions, negative = own.get(hour, (0, 0))
        points.append(HourPoint(hour_start(hour), mentions, negative, baseline))
        window += workspace.get(hour, (0, 0))[0] - workspace.get(hour - BASELINE_HOURS, (0, 0))[0]
    return Curve(incident, tuple(points))


@dataclass(frozen=True)
class Alert:
    kind: str
    incident: str | None
    hour: datetime
    mentions: int
    negative: int
    baseline: float | None
    source: str | None
    """The key of the hour's first negative item: the suggested source."""
    first_seen: datetime | None

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.incident or '-'}:{self.hour.strftime('%Y-%m-%dT%H')}"

    @property
    def share(self) -> float:
        return self.negative / self.mentions if self.mentions else 0.0

    def words(self) -> str:
        """What the cabinet is told, in the interface's language."""
        if self.kind == SPIKE:
            what = _("{mentions} mentions in the hour from {hour}, {times:.1f} times the 7-day hourly "
                     "baseline of {baseline:.1f}").format(
                mentions=self.mentions, hour=self.hour.strftime("%Y-%m-%d %H:%M UTC"),
                times=self.mentions / self.baseline if self.baseline else 0.0, baseline=self.baseline or 0.0)
        else:
            what = _("{share:.0%} of the {mentions} mentions in the hour from {hour} are negative").format(
                share=self.share, mentions=self.mentions, hour=self.hour.strftime("%Y-%m-%d %H:%M UTC"))
        if self.incident is None:
            ask = _("possible crisis: open an incident?")
        else:
            ask = _("incident {id}: the conversation grows again").format(id=self.incident)
        return f"{ask} {what}"


def detect(points: Curve, spike: float, negative_share: float, tally: HourlyTally | None = None,
           cooldown_minutes: float = 60, min_mentions: int = 10) -> list[Alert]:
    """The alerts of a curve, oldest first (see the module's guarantees)."""
    alerts: list[Alert] = []
    for kind in (SPIKE, DIP):
        was_hot = False
        quiet_from: datetime | None = None
        for point in points.points:
            if point.mentions < min_mentions:
                hot = False
            elif kind == SPIKE:
                hot = point.baseline is not None and point.mentions > spike * point.baseline
            else:
                hot = point.share > negative_share
            if hot and not was_hot and (quiet_from is None
                                        or point.hour >= quiet_from + timedelta(minutes=cooldown_minutes)):
                alerts.append(_alert(kind, points.incident, point, tally))
            if hot:
                quiet_from = point.hour + timedelta(hours=1)
            was_hot = hot
    return sorted(alerts, key=lambda alert: (alert.hour, alert.kind))


def _alert(kind: str, incident: str | None, point: HourPoint, tally: HourlyTally | None) -> Alert:
    first = tally.first_negative(hour_of(point.hour), incident) if tally is not None else None
    return Alert(kind, incident, point.hour, point.mentions, point.negative, point.baseline,
                 first[1] if first else None, first[0] if first else None)


def pending_alerts(tally: HourlyTally, now: datetime, spike: float, negative_share: float, told: Iterable[str],
                   incidents: Iterable[str] = (), recent_hours: int = 2, cooldown_minutes: float = 60,
                   min_mentions: int = 10) -> list[Alert]:
    """What the worker tells the cabinet now: the alerts of the workspace (and of each
    open incident in `incidents`) whose hour is one of the last `recent_hours`, the
    current hour included, and whose id is not in `told`. The curve is read from 24 hours
    back so a run or a cooldown that began earlier is honoured."""
    known = set(told)
    start = now - timedelta(hours=YOUNGEST_BASELINE)
    oldest = hour_start(hour_of(now) - recent_hours + 1)
    found = []
    for scope in [None, *incidents]:
        drawn = curve(tally, start, now, scope)
        found += [alert for alert in detect(drawn, spike, negative_share, tally, cooldown_minutes, min_mentions)
                  if alert.hour >= oldest and alert.id not in known]
    return found
