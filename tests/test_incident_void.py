"""Mistakes undone, visibly: an approver voids an incident opened by mistake (signed,
once, kept in the log and shown as void everywhere, with no verdict, no new draft and no
send); and a `--first-seen` that looks like a day/month swap or is over 7 days old
needs --confirm before it opens an incident already long late."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

import pytest

from tests.test_cases_flow import T0, Cabinet
from tests.trust_support import allowed_signers, forged_signature, make_keys, rewrite_log, turn_signing_on

NOW = datetime(2026, 12, 5, 8, 30, tzinfo=timezone.utc)
VOID_WORDS = "it gets no new draft and nothing of it is sent"


def _at_now(workspace) -> Cabinet:
    cabinet = Cabinet(workspace)
    cabinet.clock.now = NOW
    return cabinet


def _kinds(cabinet: Cabinet) -> list[str]:
    return [event["kind"] for event in json.loads(cabinet.ok("log", "--json").output)]


def test_a_day_month_swap_is_refused_naming_the_other_date_until_confirmed(workspace):
    cabinet = _at_now(workspace)
    swapped = cabinet.run("incident", "open", "--case", "2", "--first-seen", "2026-04-12T09:00:00Z")
    assert swapped.exit_code == 2
    assert ("--first-seen 2026-04-12T09:00+00:00 could be 2026-12-04T09:00+00:00 with its day and month swapped"
            in swapped.output)
    assert "if 2026-04-12 is right, run it again with --confirm" in swapped.output
    assert "Traceback" not in swapped.output and len(swapped.output.strip().splitlines()) == 1
    assert "incident.opened" not in _kinds(cabinet)
    meant = cabinet.ok("incident", "open", "--case", "2", "--first-seen", "2026-12-04T09:00:00Z", "--json")
    assert json.loads(meant.output)["first_seen"] == "2026-12-04T09:00:00Z"
    confirmed = cabinet.ok("incident", "open", "--case", "1", "--first-seen", "2026-04-12T09:00:00Z", "--confirm",
                           "--json")
    assert json.loads(confirmed.stdout)["first_seen"] == "2026-04-12T09:00:00Z"


def test_only_a_swap_into_a_nearer_past_time_is_questioned(workspace):
    cabinet = _at_now(workspace)
    for first_seen in ("2026-12-01T10:00:00Z", "2026-12-03T07:00:00+01:00", "2026-12-05T01:00:00Z"):
        assert cabinet.run("incident", "open", "--case", "2", "--first-seen", first_seen).exit_code == 0, first_seen
    edit = cabinet.run("incident", "edit", "1", "--first-seen", "2026-03-12T10:00:00Z", "--reason", "typo",
                       "--as", "ana")
    assert edit.exit_code == 2 and "could be 2026-12-03T10:00+00:00 with its day and month swapped" in edit.output


def test_a_first_seen_over_7_days_ago_names_its_age_until_confirmed(workspace):
    cabinet = _at_now(workspace)
    old = (NOW - timedelta(days=8)).isoformat()
    refused = cabinet.run("incident", "open", "--case", "2", "--first-seen", old)
    assert refused.exit_code == 2
    assert "is more than 7 days ago (192 h 00 min)" in refused.output and "--confirm" in refused.output
    assert "incident.opened" not in _kinds(cabinet)
    assert cabinet.run("incident", "open", "--case", "2", "--first-seen", old, "--confirm").exit_code == 0


def _void_ready(workspace) -> tuple[Cabinet, str, str]:
    """Incident 1 opened at T0, 20 h later (prepare LATE); a draft awaiting approval and
    one approved but held by a freeze."""
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    waiting = cabinet.at(1).render("--case", "2", "--template", "notice")
    held = cabinet.at(2).render("--case", "2", "--template", "apology")
    cabinet.ok("freeze", "--reason", "check the figures", "--as", "ana")
    cabinet.ok("approve", held, "--as", "ana")
    cabinet.at(20)
    return cabinet, waiting, held


def test_an_approver_voids_an_incident_and_it_is_void_everywhere(workspace):
    cabinet, waiting, held = _void_ready(workspace)
    assert cabinet.status()["prepared"]["verdict"] in ("PASS", "LATE")
    voided = cabinet.ok("incident", "void", "1", "--reason", "opened with the wrong date", "--as", "ana")
    assert "Voided incident 1 (ana: opened with the wrong date)" in voided.output
    assert _kinds(cabinet).count("incident.voided") == 1 and "incident.opened" in _kinds(cabinet)

    status = cabinet.status()
    assert status["incident"]["state"] == "void"
    assert status["incident"]["void"]["by"] == "ana" and status["incident"]["void"]["reason"] == "opened with the wrong date"
    assert status["prepared"]["verdict"] == "VOID" and status["published"]["verdict"] == "VOID"
    assert status["published"]["hours_left"] is None
    assert status["warnings"][0].startswith("VOID: ana voided incident 1 at ")
    assert not [item for item in status["checklist"] if item["state"] in ("due", "late")]
    text = cabinet.ok("status", "1").output
    assert "Incident 1: case 2" in text and ", void, " in text and "Prepared : VOID" in text
    assert "No open incident." in cabinet.ok("status").output

    assert json.loads(cabinet.ok("incident", "list", "--json").output) == []
    listed = cabinet.ok("incident", "list").output
    assert "1 void incident(s) not shown; `publish incident list --all` shows them." in listed
    everything = json.loads(cabinet.ok("incident", "list", "--all", "--json").output)
    assert [(item["id"], item["state"], item["void"]["by"]) for item in everything] == [("1", "void", "ana")]
    assert "void" in cabinet.ok("incident", "list", "--all").output
    assert "voided by ana at" in cabinet.ok("incident", "show", "1").output

    report = json.loads(cabinet.ok("report", "1", "--format", "json").output)
    assert report["prepared"]["verdict"] == "VOID" and report["published"]["verdict"] == "VOID"
    assert {row["verdict"] for row in report["channels"]} == {"VOID"}
    assert any(entry["text"] == "Incident voided: opened with the wrong date" for entry in report["timeline"])
    sentence = "VOID: ana voided this incident at 2026-11-21 04:00 UTC (opened with the wrong date)"
    markdown = cabinet.ok("report", "1").output
    assert sentence in markdown and "**PASS**" not in markdown and "**FAIL**" not in markdown
    html = cabinet.ok("report", "1", "--format", "html").output
    assert sentence in html and ">FAIL<" not in html and ">PENDING<" not in html


def test_a_void_incident_gets_no_new_draft_approval_or_send(workspace):
    cabinet, waiting, held = _void_ready(workspace)
    cabinet.ok("incident", "void", "1", "--reason", "a test incident", "--as", "ana")
    before = _kinds(cabinet)
    for args in (("--case", "2", "--template", "update", "--incident", "1", "--var", "progress=x"),
                 ("approve", waiting, "--as", "luis"), ("unfreeze", "--reason", "figures checked", "--as", "ana"),
                 ("send", held), ("incident", "resolve", "1"),
                 ("incident", "edit", "1", "--summary", "x", "--reason", "r", "--as", "ana")):
        result = cabinet.run(*args)
        if args[0] == "unfreeze":
            assert result.exit_code == 0, result.output
            before = _kinds(cabinet)
            continue
        assert result.exit_code == 2, (args, result.output)
        assert f"incident 1 is void (voided by ana: a test incident); {VOID_WORDS}." in result.output, args
        assert _kinds(cabinet) == before, args
    assert not [kind for kind in _kinds(cabinet) if kind.startswith("delivery.")]
    fresh = cabinet.run("--case", "2", "--template", "update", "--var", "progress=x")
    assert fresh.exit_code == 2 and "no open case 2 incident" in fresh.output


def test_voiding_twice_by_a_non_approver_or_without_a_reason_is_refused(workspace):
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    operator = cabinet.run("incident", "void", "1", "--reason", "mistake", "--as", "marta")
    assert operator.exit_code == 2 and "only an approver can void an incident" in operator.output
    blank = cabinet.run("incident", "void", "1", "--reason", " ", "--as", "ana")
    assert blank.exit_code == 2 and "--reason must say why the incident is voided" in blank.output
    missing = cabinet.run("incident", "void", "9", "--reason", "mistake", "--as", "ana")
    assert missing.exit_code == 2 and "no incident '9'" in missing.output
    assert "incident.voided" not in _kinds(cabinet)
    cabinet.ok("incident", "void", "1", "--reason", "mistake", "--as", "ana")
    again = cabinet.run("incident", "void", "1", "--reason", "again", "--as", "luis")
    assert again.exit_code == 2 and "incident 1 was already voided by ana at" in again.output
    assert _kinds(cabinet).count("incident.voided") == 1


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed")
@pytest.mark.both_stores
def test_with_signing_on_only_a_verified_void_counts(workspace, tmp_path):
    keys = make_keys(tmp_path / "keys", "ana", "luis", "mallory")
    allowed_signers(workspace, keys, "ana", "luis")
    turn_signing_on(workspace)
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    cabinet.at(20).ok("freeze", "--reason", "enrol the keys", "--as", "ana", "--key", str(keys["ana"]))
    wrong_key = cabinet.run("incident", "void", "1", "--reason", "r", "--as", "ana", "--key", str(keys["mallory"]))
    assert wrong_key.exit_code == 2 and "nothing was recorded" in wrong_key.output

    data = {"reason": "hide the late incident"}
    rewrite_log(workspace, append=(
        {"kind": "incident.voided", "actor": "ana", "incident": "1", "data": dict(data)},
        {"kind": "incident.voided", "actor": "ana", "incident": "1",
         "data": {**data, "signature": forged_signature("void", "1", data, "ana", keys["mallory"])}}))
    status = cabinet.status()
    assert status["incident"]["state"] == "open" and status["prepared"]["verdict"] == "LATE"
    assert [item["id"] for item in json.loads(cabinet.ok("incident", "list", "--json").output)] == ["1"]
    verified = cabinet.run("log", "verify")
    assert verified.exit_code == 1 and "incident.voided" in verified.output

    cabinet.ok("incident", "void", "1", "--reason", "opened by mistake", "--as", "luis", "--key", str(keys["luis"]))
    status = cabinet.status()
    assert status["incident"]["state"] == "void" and status["incident"]["void"]["by"] == "luis"
    assert status["prepared"]["verdict"] == "VOID"
    [event] = [e for e in json.loads(cabinet.ok("log", "--json").output)
               if e["kind"] == "incident.voided" and e["actor"] == "luis"]
    assert event["data"]["signature"]["scheme"] == "ssh"


def test_the_opening_rules_leave_recent_times_alone(workspace):
    cabinet = Cabinet(workspace)
    cabinet.clock.now = T0 + timedelta(hours=3)
    assert cabinet.run("incident", "open", "--case", "2", "--first-seen", T0.isoformat()).exit_code == 0
