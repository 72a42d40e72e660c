"""The console shows a void incident as void (no verdict, no render form) and asks for
the same confirmation as `incident open --confirm` before opening a doubtful time."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.console.support import HttpConsole, configure, free_port

pytestmark = pytest.mark.servers


@pytest.fixture
def console(workspace):
    configure(workspace, free_port())
    path = workspace.path / "config" / "publisher.toml"
    path.write_text(re.sub(r'base_url = "http://localhost:\d+"', 'base_url = "https://console.test"',
                           path.read_text(encoding="utf-8")), encoding="utf-8")
    return HttpConsole(workspace)


def test_a_void_incident_is_shown_void_and_offers_no_render(console, workspace):
    incident = workspace.open_incident(case=2)
    client = console.login("marta")
    assert "Render a draft" in client.get(f"/incidents/{incident}").text
    assert workspace.run("incident", "void", incident, "--reason", "a drill typed as real", user="ana").exit_code == 0
    page = client.get(f"/incidents/{incident}").text
    assert "void: no verdict" in page and "VOID: ana voided incident" in page and "a drill typed as real" in page
    assert "Render a draft" not in page
    assert "void: no verdict" in client.get("/").text


def test_opening_a_doubtful_time_needs_the_confirmation_box(console, workspace):
    client = console.login("marta")
    token = console.csrf(client, "/incidents/new")
    old = (console.clock.now - timedelta(days=30)).replace(day=20).isoformat(timespec="seconds")
    before = workspace.events()
    refused = client.post("/incidents", data={"csrf": token, "case": "2", "first_seen": old})
    assert refused.status_code != 303 and "more than 7 days ago" in refused.text
    assert workspace.events() == before
    accepted = client.post("/incidents", data={"csrf": token, "case": "2", "first_seen": old, "confirm": "1"})
    assert accepted.status_code == 303
