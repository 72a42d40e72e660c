"""A platform's raw values as the fields of a `Heard`: its time, its text, its author.

Guarantees: `platform_time` is an ISO 8601 time in UTC ending in `Z`, or None for a value
that is not a readable time (never an exception, never a time in a made-up zone: a time
without an offset is read as UTC, as the platforms that send one mean it). `heard_text`
and `heard_author` are `channels.heard_text`'s cleaning, with `extra` saying when a text
was cut and keeping an unreadable time's first characters, so nothing a source got is
silently dropped.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from channels.heard_text import clean_line, clean_text, plain_text
from channels.sources import MAX_TEXT

RAW_KEPT = 64


def platform_time(value: Any) -> str | None:
    """`value` (ISO 8601, with `Z` or an offset, or epoch seconds) as UTC ISO 8601, or None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, (int, float)):
            moment = datetime.fromtimestamp(float(value), timezone.utc)
        elif isinstance(value, str) and 0 < len(value) <= 64:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        utc = moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def time_and_note(value: Any, extra: dict[str, Any]) -> str | None:
    """`platform_time(value)`; an unreadable one is kept, cleaned and cut, in
    `extra["unreadable_time"]`."""
    moment = platform_time(value)
    if moment is None and value not in (None, ""):
        extra["unreadable_time"] = clean_line(str(value), RAW_KEPT)
    return moment


def heard_text(value: Any, extra: dict[str, Any], html: bool = False) -> str:
    """The item's text (`plain_text` for HTML), `extra["cut"]` set when it was longer than kept."""
    raw = value if isinstance(value, str) else ""
    text = plain_text(raw, MAX_TEXT + 1) if html else clean_text(raw, MAX_TEXT + 1)
    if len(text) > MAX_TEXT:
        extra["cut"] = True
        return clean_text(text, MAX_TEXT)
    return text


def heard_author(name: Any, handle: Any) -> str:
    """"Name (@handle)", or whichever of the two there is, on one line."""
    shown = clean_line(name, 120) if isinstance(name, str) else ""
    at = clean_line(handle, 120).lstrip("@") if isinstance(handle, str) else ""
    if shown and at and shown != at:
        return f"{shown} (@{at})"
    return f"@{at}" if at else shown
