"""Issue 22, item 3 on the console: the freeze form has a scope (this incident or
everything, everything by default for a case 3 incident) and an allow-list, and calls
the same core function as `publish freeze` (the signed data says both)."""
from __future__ import annotations

import json

import pytest

from tests.console.support import https_console
from tests.console.test_awaiting import _signed

pytestmark = pytest.mark.servers

CHANNELS = """
[channels.cabinet-console]
type = "outbox"
path = "var/cabinet"
audience = "internal"

[channels.newsroom]
type = "outbox"
path = "var/newsroom"
audience = "internal"

[freeze]
allow = ["newsroom"]
"""


def _freezes(workspace) -> list[dict]:
    return [json.loads(body) for (body,) in workspace.db().execute("SELECT body FROM events WHERE kind = 'freeze'")]


def test_the_form_offers_scope_and_allow_list_and_records_them(workspace):
    console = https_console(workspace, extra=CHANNELS)
    two = workspace.open_incident(case=2)
    client = console.login("luis")
    page = client.get(f"/incidents/{two}").text
    assert 'name="scope" value="incident" checked' in page and 'name="scope" value="all">' in page
    assert 'name="allow" value="cabinet-console">' in page
    assert 'value="newsroom" checked disabled' in page
    frozen = _signed(console, client, "luis", f"/incidents/{two}/freeze", reason="checking a rumour",
                     scope="incident", allow=["cabinet-console"])
    assert frozen.status_code == 200, frozen.text
    [event] = _freezes(workspace)
    assert event["incident"] == two and event["data"]["scope"] == "incident"
    assert event["data"]["allow"] == ["cabinet-console"] and event["data"]["signature"]["scheme"] == "webauthn"
    listed = workspace.run("status", "--json")
    assert listed.exit_code == 0
    unknown = client.post("/freeze/options", json={"reason": "x", "scope": "all", "allow": ["nope"]},
                          headers={"X-CSRF-Token": console.csrf(client, "/")})
    assert unknown.status_code == 400 and "no such channel" in unknown.json()["error"]
    everything = _signed(console, client, "luis", "/freeze", reason="a leak is traced", scope="all")
    assert everything.status_code == 200, everything.text
    assert _freezes(workspace)[-1]["data"]["scope"] == "all"
    assert workspace.run("log", "verify").exit_code == 0


def test_a_case_3_incident_offers_everything_first(workspace):
    console = https_console(workspace, extra=CHANNELS)
    three = workspace.open_incident(case=3)
    client = console.login("luis")
    lifted = _signed(console, client, "luis", "/unfreeze", reason="the seed's freeze is lifted for the test")
    assert lifted.status_code == 200, lifted.text
    page = client.get(f"/incidents/{three}").text
    assert 'name="scope" value="all" checked' in page
