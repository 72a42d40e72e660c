"""The time a source post was published, read from its URL where the platform puts it
in the post id: X (a snowflake, milliseconds since 2010-11-04 in its upper bits) and
Mastodon (milliseconds since 1970 in the id's upper 48 bits). None when unknown."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

X_EPOCH_MS = 1288834974657
X_POST = re.compile(r"^https?://(?:www\.|mobile\.)?(?:x|twitter)\.com/[^/]+/status(?:es)?/(\d{15,20})(?:[/?#]|$)")
MASTODON_POST = re.compile(r"^https?://[^/]+/@[^/]+/(\d{16,19})(?:[/?#]|$)")
EARLIEST = datetime(2006, 3, 21, tzinfo=timezone.utc)


def source_post_time(url: str | None, now: datetime) -> datetime | None:
    if not url:
        return None
    found = X_POST.match(url.strip())
    if found:
        return _plausible(((int(found.group(1)) >> 22) + X_EPOCH_MS) / 1000, now)
    found = MASTODON_POST.match(url.strip())
    if found:
        return _plausible((int(found.group(1)) >> 16) / 1000, now)
    return None


def _plausible(seconds: float, now: datetime) -> datetime | None:
    try:
        moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment if EARLIEST <= moment <= now + timedelta(days=1) else None
