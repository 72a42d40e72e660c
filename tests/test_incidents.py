"""Incidents: the clock starts at --first-seen, which must be a real, past, zoned time."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone


def test_open_list_show_resolve(workspace, iso_hours_ago):
    result = workspace.run("incident", "open", "--case", "2", "--first-seen", iso_hours_ago(3),
                           "--source", "https://x.com/maria/status/1", "--author", "@maria",
                           "--platform", "x", "--summary", "a payment outage")
    assert result.exit_code == 0, result.output
    assert "Opened incident 1 (case 2" in result.output
    assert "publish everywhere by" in result.output

    listed = json.loads(workspace.run("incident", "list", "--json").output)
    assert [(item["id"], item["case"], item["state"]) for item in listed] == [("1", 2, "open")]
    shown = json.loads(workspace.run("incident", "show", "1", "--json").output)
    assert shown["source"] == "https://x.com/maria/status/1" and shown["author"] == "@maria"

    assert workspace.run("incident", "resolve", "1").exit_code == 0
    assert json.loads(workspace.run("incident", "show", "1", "--json").output)["state"] == "resolved"
    again = workspace.run("incident", "resolve", "1")
    assert again.exit_code == 2 and "already resolved" in again.output
    assert [kind for _, kind in workspace.events()] == ["incident.opened", "incident.resolved"]


def test_first_seen_keeps_its_offset(workspace):
    result = workspace.run("incident", "open", "--case", "1", "--first-seen", "2026-01-05T08:30:00+01:00", "--confirm",
                           "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["first_seen"] == "2026-01-05T07:30:00Z"


def test_naive_time_is_refused_without_a_configured_timezone(workspace):
    result = workspace.run("incident", "open", "--case", "2", "--first-seen", "2026-01-05T08:30:00")
    assert result.exit_code == 2
    assert "has no UTC offset" in result.output and "[organisation] timezone" in result.output
    assert not (workspace.path / "var" / "publisher.db").exists() or workspace.events() == []


def test_naive_time_uses_the_configured_timezone(workspace):
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace('language = "en"', 'language = "en"\ntimezone = "Europe/Madrid"'))
    result = workspace.run("incident", "open", "--case", "2", "--first-seen", "2026-01-05T08:30:00", "--confirm",
                           "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["first_seen"] == "2026-01-05T07:30:00Z"


def test_future_time_is_refused(workspace):
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat(timespec="seconds")
    result = workspace.run("incident", "open", "--case", "2", "--first-seen", future)
    assert result.exit_code == 2
    assert "is in the future" in result.output


def test_garbage_time_is_refused(workspace):
    result = workspace.run("incident", "open", "--case", "2", "--first-seen", "yesterday at noon")
    assert result.exit_code == 2
    assert "--first-seen 'yesterday at noon' is not an ISO 8601 time" in result.output


def test_first_seen_is_required(workspace):
    result = workspace.run("incident", "open", "--case", "2")
    assert result.exit_code == 2
    assert "--first-seen" in result.output


def test_unknown_case_is_refused(workspace, iso_hours_ago):
    result = workspace.run("incident", "open", "--case", "5", "--first-seen", iso_hours_ago(1))
    assert result.exit_code == 2
    assert "--case 5 does not exist; cases are 1 to 4" in result.output


def test_unknown_incident(workspace):
    result = workspace.run("incident", "show", "42")
    assert result.exit_code == 2
    assert "no incident '42'" in result.output


def test_incident_numbers_are_sequential(workspace):
    assert [workspace.open_incident(case=case) for case in (1, 2, 3)] == ["1", "2", "3"]


def test_a_void_incident_is_not_an_open_one(workspace, iso_hours_ago):
    mistaken = workspace.open_incident(case=2)
    again = workspace.run("incident", "open", "--case", "2", "--first-seen", iso_hours_ago(2), "--json",
                          "--what", "the card payment outage")
    assert "WARNING" in again.output and "WARNING" not in again.stdout
    meant = json.loads(again.stdout)["id"]
    assert workspace.run("incident", "void", mistaken, "--reason", "opened twice", user="ana").exit_code == 0
    statuses = json.loads(workspace.run("status", "--json").output)
    assert [status["incident"]["id"] for status in statuses] == [meant]
    rendered = workspace.run("--case", "2", "--template", "notice", "--json")
    assert rendered.exit_code == 0, rendered.output
    assert json.loads(rendered.output)["draft"]["incident"] == meant
    listed = json.loads(workspace.run("incident", "list", "--all", "--json").output)
    assert [(item["id"], item["state"]) for item in listed] == [(mistaken, "void"), (meant, "open")]
