"""Parsing and printing the times people type and read.

Guarantees: every time shown to people goes through `for_people()`: in the
organisation's time zone (`[organisation] timezone`) with its UTC offset, so no one
has to convert; the log and JSON keep UTC (`iso()`)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

from publisher.errors import BadInput
from publisher.i18n import _


def now() -> datetime:
    return datetime.now(timezone.utc)


def parse_instant(text: str, flag: str, default_zone: tzinfo | None = None,
                  not_after: datetime | None = None, not_before: datetime | None = None) -> datetime:
    """Parse an ISO 8601 time with an offset. A naive time is accepted only when
    `default_zone` is given; a time later than `not_after` or earlier than `not_before`,
    or one that has no UTC equivalent (year 1 at +14:00), is refused."""
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith(("Z", "z")) else value)
    except ValueError:
        raise BadInput(_("{flag} {text!r} is not an ISO 8601 time; write it like 2026-11-21T08:30:00+01:00.").format(
                           flag=flag, text=text)) from None
    if parsed.tzinfo is None:
        if default_zone is None:
            raise BadInput(_("{flag} {text!r} has no UTC offset; add one (e.g. +01:00 or Z) or set "
                             "[organisation] timezone in the config.").format(flag=flag, text=text))
        parsed = parsed.replace(tzinfo=default_zone)
    try:
        parsed.astimezone(timezone.utc)
    except OverflowError:
        raise BadInput(_("{flag} {text!r} is out of range; write a time of this era.").format(
                           flag=flag, text=text)) from None
    if not_before is not None and parsed < not_before:
        raise BadInput(_("{flag} {text!r} is too far in the past; it must be after {not_before}.").format(
                           flag=flag, text=text, not_before=not_before.isoformat(timespec='seconds')))
    if not_after is not None and parsed > not_after:
        raise BadInput(_("{flag} {text!r} is in the future; the first negative message cannot be later "
                         "than now ({not_after}).").format(
                           flag=flag, text=text, not_after=not_after.isoformat(timespec='seconds')))
    return parsed


def iso(moment: datetime, timespec: str = "seconds") -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec=timespec).replace("+00:00", "Z")


def for_people(moment: datetime | str | None, zone: tzinfo | None) -> str:
    """`2026-11-21 09:30 CET (UTC+01:00)` in `zone`; `2026-11-21 08:30 UTC` without one."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = from_iso(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if zone is None:
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    shown = moment.astimezone(zone)
    offset = shown.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}"
    name = shown.tzname() or ""
    label = f"{name} ({offset})" if name.isalpha() else offset
    return shown.strftime("%Y-%m-%d %H:%M ") + label


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def human_hours(value: float) -> str:
    sign = "-" if value < 0 else ""
    minutes = round(abs(value) * 60)
    return f"{sign}{minutes // 60} h {minutes % 60:02d} min"
