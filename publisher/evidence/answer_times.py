"""How fast we answered what we heard: for every negative item, the time from its
platform time to the delivery of our first answer to it; and each day's moderation.

Guarantees:
- Only negative items count. An item a person marked handled or ignored (with a reason)
  is not waiting for an answer: it is listed as handled and left out of the times. The
  other items left neither answered nor handled are counted (`others_open`): the judge
  misses complaints, and the report says how many items it did not call negative.
- The answer verdict (case 3 "responde al instante": `[cases.3] answer_within`, minutes,
  default 60) uses the deadlines' tokens: FAIL when any item was answered after the
  limit; else LATE when one still unanswered has waited past it; else DUE while one
  waits within it; else PASS. With no negative item heard it is NOT PROVEN: listening
  proved nothing. An answer stamped before its item (clocks disagree) counts as 0 minutes.
- A day's moderation (the day of each item's platform time, in the report's time zone)
  is "done" when every negative item of that day is answered or handled, with the time
  of the last of those; else "due" while the day lasts and "late" once it is over. It
  replaces the `done moderation` checkbox with what the log proves.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from publisher.evidence.crisis_curve import Heard

DEFAULT_ANSWER_WITHIN = 60.0


@dataclass(frozen=True)
class Answered:
    key: str
    platform_time: datetime
    answered_at: datetime
    minutes: float


@dataclass(frozen=True)
class Waiting:
    key: str
    platform_time: datetime


@dataclass(frozen=True)
class AnswerTimes:
    limit_minutes: float
    answered: tuple[Answered, ...]
    unanswered: tuple[Waiting, ...]
    """Negative items neither answered nor handled, oldest first."""
    handled: tuple[str, ...]
    now: datetime
    others_open: int = 0
    """Items not judged negative, neither answered nor handled: what a missed complaint hides in."""

    @property
    def waiting_since(self) -> datetime | None:
        """The platform time of the oldest unanswered negative item."""
        return self.unanswered[0].platform_time if self.unanswered else None

    @property
    def median_minutes(self) -> float | None:
        return statistics.median(item.minutes for item in self.answered) if self.answered else None

    @property
    def worst(self) -> Answered | None:
        return max(self.answered, key=lambda item: item.minutes) if self.answered else None

    @property
    def late(self) -> tuple[Answered, ...]:
        return tuple(item for item in self.answered if item.minutes > self.limit_minutes)

    @property
    def verdict(self) -> str:
        if not self.answered and not self.unanswered and not self.handled:
            return "NOT PROVEN"
        if self.late:
            return "FAIL"
        if self.waiting_since is not None:
            waited = (self.now - self.waiting_since).total_seconds() / 60
            return "LATE" if waited > self.limit_minutes else "DUE"
        return "PASS"


def answer_times(items: Iterable[Heard], now: datetime,
                 limit_minutes: float = DEFAULT_ANSWER_WITHIN) -> AnswerTimes:
    answered: list[Answered] = []
    waiting: list[tuple[datetime, str]] = []
    handled: list[str] = []
    others_open = 0
    for item in items:
        if not item.negative:
            others_open += _settled(item, now) is None
            continue
        if item.answered_at is not None and item.answered_at <= now:
            minutes = max(0.0, (item.answered_at - item.platform_time).total_seconds() / 60)
            answered.append(Answered(item.key, item.platform_time, item.answered_at, minutes))
        elif item.handled_at is not None and item.handled_at <= now:
            handled.append(item.key)
        else:
            waiting.append((item.platform_time, item.key))
    waiting.sort()
    answered.sort(key=lambda item: item.platform_time)
    return AnswerTimes(float(limit_minutes), tuple(answered), tuple(Waiting(key, at) for at, key in waiting),
                       tuple(handled), now, others_open)


@dataclass(frozen=True)
class ModerationDay:
    day: date
    negative: int
    answered: int
    handled: int
    open: int
    done_at: datetime | None
    state: str
    """"done", "due" or "late" (state words)."""


def daily_moderation(items: Iterable[Heard], now: datetime, zone: tzinfo) -> list[ModerationDay]:
    """One row per day that heard a negative item, oldest first."""
    days: dict[date, list[Heard]] = {}
    for item in items:
        if item.negative:
            days.setdefault(item.platform_time.astimezone(zone).date(), []).append(item)
    rows = []
    for day in sorted(days):
        answered = handled = 0
        last: datetime | None = None
        for item in days[day]:
            at = _settled(item, now)
            if at is None:
                continue
            answered += at == item.answered_at
            handled += at != item.answered_at
            last = at if last is None or at > last else last
        still = len(days[day]) - answered - handled
        ends = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        state = "done" if not still else ("late" if now >= ends else "due")
        rows.append(ModerationDay(day, len(days[day]), answered, handled, still, None if still else last, state))
    return rows


def _settled(item: Heard, now: datetime) -> datetime | None:
    """When the item was answered (first) or handled, if by `now`."""
    if item.answered_at is not None and item.answered_at <= now:
        return item.answered_at
    if item.handled_at is not None and item.handled_at <= now:
        return item.handled_at
    return None
