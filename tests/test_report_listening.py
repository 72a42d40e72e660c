"""The report's listening section and the curve's SVG, from hand-made values: the source
with its platform time, items per hour, alerts, answer times with their verdict, items
left unanswered and each day's moderation, in JSON, Markdown and HTML."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from publisher.incident.answer_times import answer_times, daily_moderation
from publisher.incident.crisis_curve import Heard, HourlyTally, curve, detect
from publisher.evidence.curve_svg import curve_svg
from publisher.evidence.report_markdown import _md
from publisher.evidence.report_listening import (listening_facts, listening_html, listening_lines,
                                                 listening_markdown, listening_sections)
from publisher.i18n import speaking

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)
HOSTILE = '<img src=x onerror=alert(1)> | fake | row [link](http://evil.example)'
DATA = {"timezone": "Europe/Madrid"}


@pytest.fixture
def facts():
    tally = HourlyTally()
    for hours_back in range(1, 24 * 7 + 1):
        tally.add(T0 - timedelta(hours=hours_back), False, key=f"old-{hours_back}")
    items = [Heard(f"m{n}", T0 + timedelta(minutes=2 * n), n % 2 == 0, "inc-1",
                   answered_at=T0 + timedelta(minutes=2 * n + 15 + n) if n % 2 == 0 and n < 10 else None,
                   handled_at=T0 + timedelta(hours=2) if n == 10 else None) for n in range(14)]
    for item in items:
        tally.add(item.platform_time, item.negative, item.incident, item.key)
    drawn = curve(tally, T0 - timedelta(hours=2), T0 + timedelta(hours=3), "inc-1")
    alerts = detect(drawn, 3.0, 0.4, tally)
    now = T0 + timedelta(hours=3)
    source = {"platform": "mastodon", "url": "https://social.example/@ana/1", "author": "@ana",
              "platform_time": "2026-12-06T09:00:00+00:00", "time_from": "platform"}
    return listening_facts(drawn, answer_times(items, now, 60), daily_moderation(items, now, timezone.utc), alerts,
                           source, {"m12": HOSTILE})


def test_the_facts_are_json(facts):
    again = json.loads(json.dumps(facts))
    assert again["answers"]["verdict"] == "LATE"
    assert again["answers"]["median_minutes"] == 19.0 and again["answers"]["worst_item"] == "m8"
    assert [row["item"] for row in again["answers"]["unanswered"]] == ["m12"]
    assert again["answers"]["handled"] == ["m10"]
    assert again["alerts"][0]["source"] == "m0" and again["alerts"][0]["first_seen"] == "2026-12-06T09:00:00Z"
    assert again["moderation"] == [{"day": "2026-12-06", "number": None, "negative": 7, "answered": 5, "handled": 1, "open": 1,
                                    "done_at": None, "state": "due"}]


def test_the_lines_name_the_source_time_and_the_verdict(facts):
    lines = listening_lines(DATA, facts)
    assert lines[0] == ("Source: mastodon https://social.example/@ana/1 by @ana, said at 2026-12-06 10:00 CET (UTC+01:00) "
                        "(from the platform).")
    assert "LATE, within 60 minutes asked; median 19 min, worst 23 min; 5 answered, 1 unanswered, 1 handled" in lines[1]
    assert lines[2] == ("7 other heard items, not judged negative, were neither answered nor handled; "
                        "a person can mark any of them negative.")
    assert lines[3].startswith("From 2026-12-06 08:00 to 2026-12-06 13:00: 14 mentions, 7 of them negative (50%).")
    facts["source"]["time_from"] = "declared"
    assert listening_lines(DATA, facts)[0].endswith("(declared).")


def test_the_sections_as_tables(facts):
    titles = [title for title, _, _ in listening_sections(DATA, facts)]
    assert titles == ["Items heard per hour", "Alerts", "Time to answer each negative item",
                      "Negative items left unanswered", "Daily moderation"]
    per_hour = listening_sections(DATA, facts)[0][2]
    assert per_hour[0][:4] == ["2026-12-06 10:00 CET (UTC+01:00)", "14", "7", "50%"]


def test_markdown_escapes_what_was_heard(facts):
    text = listening_markdown(DATA, facts, _md)
    assert "## Listening" in text and "### Daily moderation" in text
    line = next(line for line in text.splitlines() if "m12" in line)
    assert "<img" not in line and "&lt;img" in line and line.count(" | ") == 1
    assert "\\[link\\]" in line


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_html_and_svg_are_self_contained_accessible_and_escaped(facts):
    page = listening_html(DATA, facts)
    parsed = Tags()
    parsed.feed(page)
    names = {tag for tag, _ in parsed.tags}
    assert not names & {"script", "img", "link", "style", "a", "iframe", "image", "use", "foreignobject"}
    assert all(not key.startswith("on") for _, attrs in parsed.tags for key in attrs)
    assert not re.search(r'(href|src)="', page)
    svg = next(attrs for tag, attrs in parsed.tags if tag == "svg")
    assert svg["role"] == "img" and svg["aria-labelledby"] == "curve-inc-1-title curve-inc-1-desc"
    assert '<title id="curve-inc-1-title">Mentions per hour, incident inc-1</title>' in page
    assert '<desc id="curve-inc-1-desc">From 2026-12-06 08:00' in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_spanish_readers_read_spanish_words(facts):
    speaking("es")
    try:
        lines = listening_lines(DATA, facts)
        titles = [title for title, _, _ in listening_sections(DATA, facts)]
    finally:
        speaking(None)
    assert "VENCIDO" in lines[1] and "(según la plataforma)" in lines[0]
    assert "Moderación diaria" in titles


def test_an_empty_curve_still_draws():
    drawn = curve(HourlyTally(), T0, T0 + timedelta(hours=1), None)
    svg = curve_svg(drawn)
    assert "<title id=\"curve-title\">Mentions per hour, whole workspace</title>" in svg
    assert "0 mentions, 0 of them negative (0%)" in svg


def test_a_report_carrying_listening_facts_shows_the_section(workspace, facts):
    """The whole report (a real case 2 incident) with `data["listening"]` set as the report
    builder will set it: the section sits after the checklist in Markdown and HTML, and a
    report without it is unchanged."""
    from publisher.evidence.report import render
    from tests.test_report import _case_2

    cabinet = _case_2(workspace)
    data = json.loads(cabinet.at(6).ok("report", "1", "--format", "json").output)
    plain_md, plain_html = render(data, "md"), render(data, "html")
    assert "Listening" not in plain_md and "Listening" not in plain_html
    data["listening"] = facts
    markdown, page = render(data, "md"), render(data, "html")
    assert markdown.index("## Checklist") < markdown.index("## Listening") < markdown.index("## Timeline")
    assert "### Daily moderation" in markdown and "&lt;img" in markdown
    assert page.count("<svg") == 2 and '<div class="curve">' in page and "<script" not in page
    assert "<img" not in page and 'aria-labelledby="curve-inc-1-title curve-inc-1-desc"' in page
    assert json.loads(render(data, "json"))["listening"]["answers"]["verdict"] == "LATE"
