"""The cabinet changed from the console (issue 21): an approver adds, changes and
removes people, co-signs a waiting change and sets the quorum, each signed by passkey
through the same core functions as `publish people`, and `publish log verify` re-checks
every one offline; a viewer is refused (HTTP 403) and a forged or replayed answer is
refused with nothing recorded."""
from __future__ import annotations

import json

import pytest

from tests.console.support import https_console

pytestmark = pytest.mark.servers


def roles(workspace) -> dict[str, str]:
    listed = json.loads(workspace.run("people", "list", "--json").output)
    return {person["name"]: person["role"] for person in listed["people"]}


def sign(console, client, signer: str, path: str, fields: dict) -> tuple[dict, dict]:
    """The action's options signed with `signer`'s passkey: (body, headers)."""
    headers = {"X-CSRF-Token": console.csrf(client, "/")}
    options = client.post(f"{path}/options", json=fields, headers=headers)
    assert options.status_code == 200, options.text
    return {"credential": console.keys[signer].get(options.json()), **fields}, headers


def signed(console, client, signer: str, path: str, **fields: str):
    body, headers = sign(console, client, signer, path, fields)
    return client.post(path, json=body, headers=headers)


def test_an_approver_adds_changes_and_removes_people_with_a_passkey(workspace):
    console = https_console(workspace)
    client = console.login("ana")
    added = signed(console, client, "ana", "/people/add", name="eva", role="operator", email="eva@acme.example")
    assert added.status_code == 200, added.text
    assert roles(workspace)["eva"] == "operator"
    changed = signed(console, client, "ana", "/people/add", name="eva", telegram="123456789")
    assert changed.status_code == 200, changed.text
    removed = signed(console, client, "ana", "/people/eva/remove")
    assert removed.status_code == 200, removed.text
    assert "eva" not in roles(workspace)
    events = [event for event in console.app.store.events(kind=("person.added", "person.changed", "person.removed"))
              if event.data.get("name") == "eva"]
    assert [event.kind for event in events] == ["person.added", "person.changed", "person.removed"]
    assert all(event.data["signature"]["scheme"] == "webauthn" for event in events)
    page = client.get("/people")
    assert page.status_code == 200 and 'data-options="/people/add/options"' in page.text
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 0, verified.output


def test_a_new_approver_waits_for_the_quorum_and_another_approver_co_signs_it_on_the_console(workspace):
    console = https_console(workspace, required=2)
    ana, luis = console.login("ana"), console.login("luis")
    proposed = signed(console, ana, "ana", "/people/add", name="eva", role="approver")
    assert proposed.status_code == 200, proposed.text
    assert "eva" not in roles(workspace)
    change = json.loads(workspace.run("people", "list", "--json").output)["pending"][0]["change"]
    assert f"/people/changes/{change}/approve" in luis.get("/people").text
    again = ana.post(f"/people/changes/{change}/approve/options", json={},
                     headers={"X-CSRF-Token": console.csrf(ana, "/")})
    assert again.status_code in (400, 409) and "already signed" in again.text
    cosigned = signed(console, luis, "luis", f"/people/changes/{change}/approve")
    assert cosigned.status_code == 200, cosigned.text
    assert roles(workspace)["eva"] == "approver"
    quorum = signed(console, luis, "luis", "/people/quorum", required="3")
    assert quorum.status_code == 200, quorum.text
    assert json.loads(workspace.run("people", "list", "--json").output)["required"] == 2
    assert workspace.run("log", "verify").exit_code == 0


def test_a_viewer_cannot_change_the_cabinet_and_a_replayed_answer_records_nothing(workspace):
    console = https_console(workspace)
    vera = console.login("vera")
    headers = {"X-CSRF-Token": console.csrf(vera, "/")}
    assert vera.post("/people/add/options", json={"name": "mallory", "role": "approver"},
                     headers=headers).status_code == 403
    ana = console.login("ana")
    body, ana_headers = sign(console, ana, "ana", "/people/add", {"name": "eva", "role": "viewer"})
    assert ana.post("/people/add", json=body, headers=ana_headers).status_code == 200
    before = workspace.events()
    body["name"] = "mallory"
    forged = ana.post("/people/add", json=body, headers=ana_headers)
    assert 400 <= forged.status_code < 500 and workspace.events() == before
    assert "mallory" not in roles(workspace)
