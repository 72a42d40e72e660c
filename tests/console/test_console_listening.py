"""The console's incident page shows the crisis curve when the workspace listens: the
inline SVG (no script), its text alternative and the answer verdict; a workspace that
listens to nothing shows no listening section."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from publisher.workspace.app import App
from tests.console.support import https_console

pytestmark = pytest.mark.servers


def test_the_incident_page_draws_the_curve_of_what_was_heard(workspace):
    console = https_console(workspace, extra="""
[listen.prensa]
type = "feed"
urls = ["https://news.example/search.rss"]
""")
    incident = workspace.open_incident(case=3, hours_ago=3)
    said = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()
    App(workspace.path).store.append_heard("prensa", [(incident, {
        "key": "feed:n1", "source": "prensa", "platform": "feed", "id": "n1", "sentiment": "negative",
        "text": "<img src=x onerror=alert(1)> Acme filtra datos", "author": "<b>Pepe</b>",
        "url": "https://news.example/n1", "platform_time": said})])
    page = console.login("vera").get(f"/incidents/{incident}").text
    assert '<div class="curve"><svg' in page and "<script" not in page.split('<div class="curve">')[1].split("</svg>")[0]
    assert "Answers to negative items" in page and "<b>Pepe</b>" not in page
    assert "Moderate every platform" in page


def test_no_listening_section_without_a_source(workspace):
    console = https_console(workspace)
    incident = workspace.open_incident(case=3)
    page = console.login("vera").get(f"/incidents/{incident}").text
    assert '<div class="curve">' not in page
