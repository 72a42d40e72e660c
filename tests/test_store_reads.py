"""Reads that stream: `Store.each` pages through the log by sequence number, so a
fold over it (incident list) holds one page, and it yields exactly what `events()` does."""
from __future__ import annotations

import json

from publisher.incident.incidents import STATE_KINDS
from publisher.workspace.app import App


def test_each_yields_every_event_of_its_kinds_in_order_across_pages(workspace):
    for case in (1, 2, 3, 4):
        workspace.open_incident(case=case)
    workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("incident", "resolve", "2").exit_code == 0
    store = App(workspace.path).store
    wanted = store.events(kind=STATE_KINDS)
    assert len(wanted) == 5
    for page in (1, 2, 4, 5, 100):
        assert list(store.each(kind=STATE_KINDS, page=page)) == wanted
    assert list(store.each(page=3)) == store.events()
    assert list(store.each(kind="incident.edited", page=2)) == []


def test_incident_list_folds_the_streamed_events(workspace):
    for case in (1, 2, 3):
        workspace.open_incident(case=case)
    assert workspace.run("incident", "resolve", "2").exit_code == 0
    result = workspace.run("incident", "list", "--json")
    assert result.exit_code == 0
    states = {item["id"]: item["state"] for item in json.loads(result.output)}
    assert states["2"] == "resolved" and states["1"] != "resolved" and len(states) == 3
