"""A platform's raw values as a heard item's fields: never an exception, always bounded."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from channels.heard_fields import heard_author, heard_text, platform_time, time_and_note
from channels.sources import MAX_TEXT

ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=80),
                     st.lists(st.integers(), max_size=3))


@settings(max_examples=300, deadline=None)
@given(ANYTHING)
def test_platform_time_is_utc_iso_or_none(value):
    moment = platform_time(value)
    assert moment is None or (moment.endswith("Z") and len(moment) == 24)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300), st.booleans())
def test_text_and_author_are_clean_and_bounded(text, name, html):
    extra: dict = {}
    cleaned = heard_text(text * 100, extra, html=html)
    assert len(cleaned) <= MAX_TEXT and extra.get("cut", False) in (True, False)
    author = heard_author(name, name)
    assert len(author) <= 250 and "\n" not in author and "\x00" not in author + cleaned


def test_known_forms():
    assert platform_time("2026-12-05T08:14:00+01:00") == "2026-12-05T07:14:00.000Z"
    assert platform_time("2026-12-05T07:14:00") == "2026-12-05T07:14:00.000Z"
    assert platform_time(1764900000) == "2025-12-05T02:00:00.000Z"
    assert platform_time("mañana") is None and platform_time(True) is None
    extra: dict = {}
    assert time_and_note("ayer\x07", extra) is None and extra["unreadable_time"] == "ayer"
    big: dict = {}
    assert len(heard_text("a" * (MAX_TEXT + 5), big)) == MAX_TEXT and big["cut"] is True
    assert heard_author("Ana", "@ana@x.example") == "Ana (@ana@x.example)" and heard_author("", "") == ""
