"""A past verdict never changes: the public channels the 48 h verdict is judged against
are recorded when the incident opens and when each draft is rendered, and a channel
enabled later (after resolution above all) does not turn a PASS into PENDING."""
from __future__ import annotations

import json

from tests.test_cases_flow import Cabinet

LATE_CHANNEL = '\n[channels.later]\ntype = "outbox"\npath = "var/later"\n'


def _published_case(workspace) -> Cabinet:
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    draft = cabinet.at(2).render("--case", "2", "--template", "apology")
    cabinet.at(3).ok("approve", draft, "--as", "ana")
    return cabinet


def _report(cabinet: Cabinet) -> dict:
    return json.loads(cabinet.ok("report", "1", "--format", "json").output)


def test_a_channel_enabled_after_resolution_does_not_change_the_verdict(workspace):
    cabinet = _published_case(workspace)
    cabinet.at(10).ok("incident", "resolve", "1")
    before = _report(cabinet.at(11))
    assert before["published"]["verdict"] == "PASS"

    workspace.write_config(extra=LATE_CHANNEL)
    after = _report(cabinet.at(60))
    assert after["published"]["verdict"] == "PASS"
    assert [row["channel"] for row in after["channels"]] == ["web", "outbox"]
    judged = after["judged_against"]
    assert judged["source"] == "log" and [item["name"] for item in judged["channels"]] == ["web", "outbox"]
    assert cabinet.status()["published"]["verdict"] == "PASS"
    markdown = cabinet.ok("report", "1", "--format", "md").output
    assert "Public channels the 48 h verdict is judged against" in markdown


def test_rendering_after_resolution_records_nothing(workspace):
    cabinet = _published_case(workspace)
    cabinet.at(10).ok("incident", "resolve", "1")
    workspace.write_config(extra=LATE_CHANNEL)
    cabinet.at(12).run("--case", "2", "--template", "update", "--incident", "1", "--var", "progress=fixed")
    assert "incident.channels" not in [kind for _, kind in workspace.events()]
    assert _report(cabinet.at(60))["published"]["verdict"] == "PASS"


def test_a_channel_enabled_while_open_counts_from_the_next_draft(workspace):
    cabinet = _published_case(workspace)
    workspace.write_config(extra=LATE_CHANNEL)
    assert _report(cabinet.at(4))["published"]["verdict"] == "PASS"
    apology = cabinet.at(5).render("--case", "2", "--template", "apology", "--var", "eta=tonight")
    assert [kind for _, kind in workspace.events()].count("incident.channels") == 1
    report = _report(cabinet.at(6))
    assert [row["channel"] for row in report["channels"]] == ["web", "outbox", "later"]
    assert report["published"]["verdict"] == "PENDING"
    cabinet.at(7).ok("approve", apology, "--as", "ana")
    assert _report(cabinet.at(8))["published"]["verdict"] == "PASS"


def test_the_set_is_recorded_in_the_opening_event(workspace):
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    opened = json.loads(cabinet.ok("log", "--json").output)[0]
    assert opened["data"]["public_channels"] == [{"name": "web", "type": "site"}, {"name": "outbox", "type": "outbox"}]
