"""Attack 5 of issue 21: with the time-stamp authority unreachable during the actions and
the clock 55 h back, the approval was recorded "within 12 h"; `publish log witness` later
stamped it and the report still said PASS beside "witnessed 2 days later". A verdict now
rests on proof: where the first time-stamp covering the approval or delivery is after the
deadline (or none covers it once the deadline has passed), the verdict is NOT PROVEN
("NO PROBADO"), in status and in the report in every format, with both times. A real
RFC 3161 TSA (OpenSSL) on loopback; SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.test_witness import authority, closed_port_url, report, tsa, use_witness  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.servers, pytest.mark.both_stores]


def behind() -> datetime:
    return datetime.now(timezone.utc) - timedelta(hours=55)


def act_with_the_clock_back(workspace, authority) -> None:  # noqa: F811
    use_witness(workspace, authority, closed_port_url())
    first_seen = (datetime.now(timezone.utc) - timedelta(hours=60)).isoformat(timespec="seconds")
    opened = workspace.run("incident", "open", "--case", "2", "--first-seen", first_seen, "--summary", "an outage",
                           "--what", "the outage",
                           clock=behind)
    assert opened.exit_code == 0, opened.output
    draft = workspace.render("--case", "2", "--template", "apology", clock=behind)
    approved = workspace.run("approve", draft, "--as", "ana", clock=behind)
    assert approved.exit_code == 0, approved.output


def status(workspace, **env: str) -> dict:
    result = workspace.run("status", "1", "--json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)[0]


def test_a_deadline_witnessed_only_after_it_passed_is_not_proven(workspace, authority, tsa):  # noqa: F811
    act_with_the_clock_back(workspace, authority)
    unwitnessed = status(workspace)
    assert unwitnessed["prepared"]["verdict"] == "NOT PROVEN" and unwitnessed["prepared"]["witnessed_at"] is None
    assert any("prepared NOT PROVEN" in warning and "no time-stamp that verifies covers it" in warning
               for warning in unwitnessed["warnings"])

    use_witness(workspace, authority, tsa.url)
    assert workspace.run("log", "witness").exit_code == 0
    shown = status(workspace)
    for clock in ("prepared", "published"):
        verdict = shown[clock]
        assert verdict["verdict"] == "NOT PROVEN", verdict
        assert verdict["done_at"] < verdict["deadline"] < verdict["witnessed_at"]
    assert any("prepared NOT PROVEN: done at" in warning and "after the deadline" in warning
               for warning in shown["warnings"])
    text = workspace.run("status", "1").output
    assert "NOT PROVEN" in text and "PASS" not in text

    data = report(workspace)
    assert data["prepared"]["verdict"] == "NOT PROVEN" and data["published"]["verdict"] == "NOT PROVEN"
    assert data["witness"]["prepared"]["verdict"] == "NOT PROVEN"
    assert {row["verdict"] for row in data["channels"]} == {"NOT PROVEN"}
    markdown = workspace.run("report", "1", "--format", "md").output
    assert "**NOT PROVEN**" in markdown and "**PASS**" not in markdown.split("## ")[1]
    assert "after the deadline" in markdown and "Prepared at " in markdown
    html = workspace.run("report", "1", "--format", "html").output
    assert '<span class="v fail">NOT PROVEN</span>' in html

    spanish = workspace.run("report", "1", "--format", "md", env={"PUBLISH_LANG": "es"}).output
    assert "**NO PROBADO**" in spanish and "después del plazo" in spanish
    assert "NO PROBADO" in workspace.run("status", "1", env={"PUBLISH_LANG": "es"}).output


def test_an_honest_cabinet_witnessed_in_time_still_passes(workspace, authority, tsa):  # noqa: F811
    use_witness(workspace, authority, tsa.url)
    workspace.open_incident()
    draft = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
    shown = status(workspace)
    assert shown["prepared"]["verdict"] == "PASS" and shown["published"]["verdict"] == "PASS"
    assert shown["prepared"]["witnessed_at"] <= shown["prepared"]["deadline"]
    assert report(workspace)["prepared"]["verdict"] == "PASS"


def test_removing_the_witness_from_the_config_does_not_restore_a_pass(workspace, authority, tsa):  # noqa: F811
    act_with_the_clock_back(workspace, authority)
    use_witness(workspace, authority, tsa.url)
    assert workspace.run("log", "witness").exit_code == 0
    workspace.write_config()
    assert status(workspace)["prepared"]["verdict"] == "NOT PROVEN"
