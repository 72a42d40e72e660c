"""Times for people (issue 13 item 11): status, the checklist, the log listing and the
reports show every time in `[organisation] timezone` with its offset; the log and the
JSON keep UTC. One helper formats them: `publisher.timeparse.for_people`."""
from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from publisher.timeparse import for_people
from tests.test_cases_flow import Cabinet

MADRID = ZoneInfo("Europe/Madrid")


def test_for_people_shows_the_zone_and_its_offset_across_summer_time():
    assert for_people("2026-11-20T08:00:00Z", MADRID) == "2026-11-20 09:00 CET (UTC+01:00)"
    assert for_people("2026-07-20T08:00:00.123Z", MADRID) == "2026-07-20 10:00 CEST (UTC+02:00)"
    assert for_people("2026-07-20T08:00:00Z", ZoneInfo("America/Sao_Paulo")) == "2026-07-20 05:00 UTC-03:00"
    assert for_people("2026-07-20T08:00:00+02:00", None) == "2026-07-20 06:00 UTC"
    assert for_people(None, MADRID) == "" and for_people("", MADRID) == ""


def _madrid(workspace) -> Cabinet:
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        'language = "en"', 'language = "en"\ntimezone = "Europe/Madrid"'), encoding="utf-8")
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    cabinet.at(1).ok("done", "trace-source", "--note", "forum thread")
    return cabinet


def test_status_checklist_and_log_speak_the_organisations_time(workspace):
    cabinet = _madrid(workspace)
    text = cabinet.at(3).ok("status").output
    assert "First negative message 2026-11-20 09:00 CET (UTC+01:00), 3 h 00 min ago" in text
    assert "deadline 2026-11-20 21:00 CET (UTC+01:00)" in text
    assert "2026-11-20 10:00 CET (UTC+01:00) by marta" in text
    assert "T08:00:00" not in text
    listing = cabinet.ok("log").output
    assert "2026-11-20 09:00 CET (UTC+01:00)" in listing and "Z " not in listing


def test_the_log_and_json_keep_utc(workspace):
    cabinet = _madrid(workspace)
    status = json.loads(cabinet.at(3).ok("status", "--json").output)[0]
    assert status["incident"]["first_seen"] == "2026-11-20T08:00:00Z"
    events = json.loads(cabinet.ok("log", "--json").output)
    assert all(event["ts"].endswith("Z") for event in events)
    report = json.loads(cabinet.ok("report", "1", "--format", "json").output)
    assert report["timezone"] == "Europe/Madrid" and report["generated_at"].endswith("Z")
    markdown = cabinet.ok("report", "1").output
    assert "First negative message: 2026-11-20 09:00 CET (UTC+01:00)" in markdown


def test_the_warnings_speak_the_organisations_time(workspace):
    cabinet = _madrid(workspace)
    cabinet.at(2).ok("freeze", "--reason", "cabinet meeting")
    text = cabinet.at(11).ok("status").output
    assert "WARNING: publishing is frozen since 2026-11-20 11:00 CET (UTC+01:00) by marta" in text
    assert "the prepare deadline is less than 2 h away (2026-11-20 21:00 CET (UTC+01:00))" in text
