"""Correcting an incident: approvers only, with a reason, recorded as an event; the
deadlines follow the corrected first_seen and the report shows the original value,
the correction, who and why. Unlikely times need --confirm."""
from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pytest

from publisher.log.signatures import _ssh_keygen_check, action_message
from tests.test_cases_flow import SOURCE, T0, Cabinet
from tests.trust_support import allowed_signers, make_keys, turn_signing_on

# The X post id in SOURCE was published at this moment (its snowflake).
POSTED = "2024-11-26T02:24:35"


def _opened(workspace, hours_after: float = 20) -> Cabinet:
    cabinet = Cabinet(workspace)
    cabinet.open(2, "--source", "https://example.org/forum/thread/1")
    cabinet.at(hours_after)
    return cabinet


def test_a_corrected_first_seen_moves_the_clock_and_the_report_keeps_the_original(workspace):
    cabinet = _opened(workspace)
    assert cabinet.status()["prepared"]["verdict"] == "LATE"
    corrected = (T0 + timedelta(hours=10)).isoformat()
    result = cabinet.ok("incident", "edit", "1", "--first-seen", corrected, "--summary", "card payments failed",
                        "--reason", "typed the time of the ticket, not of the first post", "--as", "ana")
    assert "Corrected incident 1: first-seen was 2026-11-20T08:00:00Z, is now 2026-11-20T18:00:00Z" in result.output
    assert "Deadlines now count from 2026-11-20 18:00 UTC" in result.output
    status = cabinet.status()
    assert status["incident"]["first_seen"] == "2026-11-20T18:00:00Z"
    assert status["incident"]["summary"] == "card payments failed"
    assert status["prepared"]["verdict"] == "DUE"
    report = json.loads(cabinet.ok("report", "1", "--format", "json").output)
    rows = {row["field"]: row for row in report["corrections"]}
    assert rows["first_seen"]["from"] == "2026-11-20T08:00:00Z" and rows["first_seen"]["to"] == "2026-11-20T18:00:00Z"
    assert rows["first_seen"]["by"] == "ana" and "typed the time of the ticket" in rows["first_seen"]["reason"]
    assert rows["summary"]["from"] == "a payment outage that blocked card purchases"
    markdown = cabinet.ok("report", "1").output
    assert "## Corrections" in markdown
    assert ("| ana | first seen | 2026-11-20T08:00:00Z | 2026-11-20T18:00:00Z | typed the time of the ticket, "
            "not of the first post |") in markdown
    html = cabinet.ok("report", "1", "--format", "html").output
    assert "<h2>Corrections</h2>" in html and '<td data-label="original value">2026-11-20T08:00:00Z</td>' in html
    kinds = [event["kind"] for event in json.loads(cabinet.ok("log", "--json").output)]
    assert kinds.count("incident.edited") == 1 and kinds.count("incident.opened") == 1


def test_only_approvers_correct_and_always_with_a_reason(workspace):
    cabinet = _opened(workspace)
    operator = cabinet.run("incident", "edit", "1", "--summary", "x", "--reason", "better", "--as", "marta")
    assert operator.exit_code == 2 and "only an approver can correct an incident" in operator.output
    blank = cabinet.run("incident", "edit", "1", "--summary", "x", "--reason", "  ", "--as", "ana")
    assert blank.exit_code == 2 and "--reason must say why" in blank.output
    nothing = cabinet.run("incident", "edit", "1", "--reason", "r", "--as", "ana")
    assert nothing.exit_code == 2 and "nothing to correct" in nothing.output
    future = cabinet.run("incident", "edit", "1", "--first-seen", (T0 + timedelta(hours=30)).isoformat(),
                         "--reason", "r", "--as", "ana")
    assert future.exit_code == 2
    assert "incident.edited" not in [e["kind"] for e in json.loads(cabinet.ok("log", "--json").output)]


def test_a_first_seen_over_7_days_back_needs_confirm(workspace):
    cabinet = _opened(workspace)
    long_ago = (T0 - timedelta(days=8)).isoformat()
    refused = cabinet.run("incident", "edit", "1", "--first-seen", long_ago, "--reason", "older post", "--as", "ana")
    assert refused.exit_code == 2 and "more than 7 days ago" in refused.output and "--confirm" in refused.output
    assert cabinet.status()["incident"]["first_seen"] == "2026-11-20T08:00:00Z"
    confirmed = cabinet.run("incident", "edit", "1", "--first-seen", long_ago, "--reason", "older post",
                            "--confirm", "--as", "ana")
    assert confirmed.exit_code == 0, confirmed.output
    assert cabinet.status()["incident"]["first_seen"] == "2026-11-12T08:00:00Z"


def test_a_first_seen_before_the_source_post_itself_needs_confirm(workspace):
    cabinet = Cabinet(workspace)
    cabinet.clock.now = T0.replace(year=2024, month=11, day=27)
    cabinet.ok("incident", "open", "--case", "1", "--first-seen", "2024-11-26T03:00:00+00:00", "--source", SOURCE)
    before = cabinet.run("incident", "edit", "1", "--first-seen", "2024-11-26T02:00:00+00:00", "--reason", "earlier",
                         "--as", "ana")
    assert before.exit_code == 2, before.output
    assert f"earlier than the source post itself ({POSTED}Z" in before.output
    after = cabinet.run("incident", "edit", "1", "--first-seen", "2024-11-26T02:30:00+00:00", "--reason", "exact",
                        "--as", "ana")
    assert after.exit_code == 0, after.output


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed")
def test_with_signing_on_a_correction_is_signed_and_verified(workspace, tmp_path):
    keys = make_keys(tmp_path / "keys", "ana", "mallory")
    allowed_signers(workspace, keys, "ana")
    turn_signing_on(workspace)
    cabinet = _opened(workspace)
    forged = cabinet.run("incident", "edit", "1", "--summary", "x", "--reason", "r", "--as", "ana",
                         "--key", str(keys["mallory"]))
    assert forged.exit_code == 2 and "nothing was recorded" in forged.output
    cabinet.ok("incident", "edit", "1", "--summary", "cards failed", "--reason", "r", "--as", "ana",
               "--key", str(keys["ana"]))
    [event] = [e for e in json.loads(cabinet.ok("log", "--json").output) if e["kind"] == "incident.edited"]
    assert event["data"]["signature"]["scheme"] == "ssh"
    signed = {key: value for key, value in event["data"].items() if key != "signature"}
    public = " ".join(open(str(keys["ana"]) + ".pub").read().split()[:2])
    message = action_message("edit", event["incident"], signed, "ana")
    assert message.startswith(f"publish edit\nsubject {event['incident']}\n".encode())
    assert _ssh_keygen_check(message, event["data"]["signature"]["signature"], public) is None
    assert cabinet.status()["incident"]["summary"] == "cards failed"
    assert cabinet.run("log", "verify").exit_code == 0
