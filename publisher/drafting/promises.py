"""The times a statement promises ("next update: 5 December at 17:30").

Guarantees:
- The next update (`next_update_moment`) is computed at render time: now plus the case's cadence
  (`[cases.N] update_every`, hours), rounded up to the next quarter of an hour, in the
  organisation's time zone. A statement never promises a time earlier than the moment
  it was rendered.
- A `--var next_update=` given by a person is a time (`HH:MM` today in the
  organisation's zone, or ISO 8601); one that is not later than now is refused, naming
  it, so `make demo` and a tired operator cannot promise a time already gone.
- The phrase carries the date, never "today": a statement is read hours after it is
  published, and "today" then means another day. Without a configured time zone the
  phrase says UTC.
- A draft whose text carries the promise keeps its moment (`Draft.promises`); once that
  moment has passed, the draft can no longer be approved, nor start its delivery
  (`refuse_past_promise`): it would be read as a promise already broken. A delivery
  already under way finishes, so every platform shows the same text.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone, tzinfo

from publisher.errors import BadInput, Refused
from publisher.i18n import _

MONTHS = {
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}
QUARTER = 15 * 60


def next_update_moment(now: datetime, every_hours: float, zone: tzinfo | None, given: str | None = None) -> datetime:
    """When the next update is promised: `given` checked to be later than `now`, else now
    plus the cadence rounded up to the next quarter of an hour."""
    local_zone = zone or timezone.utc
    if given:
        moment = _parse(given, now.astimezone(local_zone))
        if moment <= now:
            raise BadInput(_("--var next_update={value} is not later than now ({now}); a statement must never "
                             "promise a time already gone. Give a later time, or leave it out to promise "
                             "now plus the case's update_every.").format(
                value=given, now=now.astimezone(local_zone).strftime("%Y-%m-%d %H:%M")))
    else:
        seconds = (now + timedelta(hours=every_hours)).timestamp()
        moment = datetime.fromtimestamp(math.ceil(seconds / QUARTER) * QUARTER, timezone.utc)
    return moment


def refuse_past_promise(promises: str | None, now: datetime, draft_id: str, zone: tzinfo | None) -> None:
    """Refuse a draft whose promised next update (`Draft.promises`, ISO 8601) is not later than `now`."""
    if not promises:
        return
    moment = datetime.fromisoformat(promises)
    if moment <= now:
        raise Refused(_("draft {draft_id} promises the next update at {when}, which has already passed; it "
                        "would be read as a promise broken. Render it again (the new draft promises a later "
                        "time) and approve that one.").format(
            draft_id=draft_id, when=moment.astimezone(zone or timezone.utc).strftime("%Y-%m-%d %H:%M %Z").strip()))


def phrase(moment: datetime, language: str, utc: bool) -> str:
    months = MONTHS.get(language, MONTHS["en"])
    clock = moment.strftime("%H:%M") + (" (UTC)" if utc else "")
    if language == "es":
        return f"el {moment.day} de {months[moment.month - 1]} a las {clock}"
    return f"{clock} on {moment.day} {months[moment.month - 1]}"


def _parse(text: str, local_now: datetime) -> datetime:
    value = text.strip()
    match = re.fullmatch(r"(\d{1,2})[:.h](\d{2})", value)
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return local_now.replace(hour=int(match.group(1)), minute=int(match.group(2)), second=0, microsecond=0)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(_("--var next_update={value} is not a time; write it as HH:MM (today, in the "
                         "organisation's time zone) or as ISO 8601 (2026-12-05T18:00+01:00).").format(
            value=text)) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=local_now.tzinfo)
