"""`publish status`: clocks, the case's checklist (done / late / due / waived), warnings
when a deadline is less than 2 h away, `publish done` for steps outside the tool, and
playbooks as data (shipped, overridable in a workspace)."""
from __future__ import annotations

import json
import re

import pytest

from tests.fakes.server import Reply
from tests.fakes.webhooks import ReceiverFake
from tests.test_cases_flow import Cabinet

pytestmark = pytest.mark.servers


def test_status_text_shows_clocks_channels_checklist_and_how_to_mark(workspace):
    cabinet = Cabinet(workspace)
    cabinet.open(2, "--source", "https://forum.example.org/t/4411")
    text = cabinet.at(3).ok("status").output
    assert "Incident 1: case 2 (technical fault, clearly ours), open, severity crisis" in text
    assert "First negative message 2026-11-20 08:00 UTC, 3 h 00 min ago - https://forum.example.org/t/4411" in text
    assert "Prepared : not yet, 9 h 00 min left (limit 12 h, deadline 2026-11-20 20:00 UTC)" in text
    assert "Published: not yet, 45 h 00 min left (limit 48 h" in text
    assert "web             site    not sent" in text
    assert "Checklist:" in text and "publish done trace-source" in text
    assert "WARNING" not in text


def test_a_deadline_less_than_2_h_away_is_warned(workspace):
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    warnings = cabinet.at(10.5).status()["warnings"]
    assert "the prepare deadline is less than 2 h away (2026-11-20 20:00 UTC)" in warnings
    assert any(note.startswith("step notice is due in 1 h 30 min (2026-11-20 20:00 UTC)") for note in warnings)
    assert "WARNING: the prepare deadline is less than 2 h away" in cabinet.ok("status").output


def test_late_steps_and_late_completion(workspace):
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    text = cabinet.at(13).ok("status").output
    assert "Prepared : not yet, 1 h 00 min late (limit 12 h) LATE" in text
    assert cabinet.steps()["prepare"] == "late" and cabinet.steps()["notice"] == "late"
    draft = cabinet.render("--case", "2", "--template", "notice")
    cabinet.at(14).ok("approve", draft, "--as", "ana")
    status = cabinet.status()
    assert status["prepared"]["verdict"] == "FAIL" and status["prepared"]["after_hours"] == 14
    assert cabinet.steps()["prepare"] == "done late" and cabinet.steps()["notice"] == "done late"
    assert status["published"]["verdict"] == "DUE" and status["published"]["kinds"] == ["apology"]


def test_done_marks_manual_steps_with_who_and_note(workspace):
    cabinet = Cabinet(workspace)
    cabinet.open(1)
    marked = cabinet.at(2).ok("done", "contact-customer", "--note", "called Maria, refund sent", "--as", "luis")
    assert "Step contact-customer of incident 1 marked done at 2026-11-20 10:00 UTC by luis" in marked.output
    item = next(item for item in cabinet.status()["checklist"] if item["id"] == "contact-customer")
    assert item["state"] == "done" and item["by"] == "luis" and item["note"] == "called Maria, refund sent"
    again = cabinet.run("done", "contact-customer")
    assert again.exit_code == 2 and "already marked done by luis" in again.output


def test_done_refuses_steps_the_tool_marks_and_unknown_steps(workspace):
    cabinet = Cabinet(workspace)
    cabinet.open(1)
    tool = cabinet.run("done", "prepare")
    assert tool.exit_code == 2 and "marked done by the tool itself (prepared)" in tool.output
    unknown = cabinet.run("done", "pray")
    assert unknown.exit_code == 2
    assert "case 1 (crisis) has no step 'pray' to mark; the steps marked by hand are trace-source, " \
           "contact-customer" in unknown.output


def test_done_needs_an_incident_when_several_are_open(workspace):
    cabinet = Cabinet(workspace)
    cabinet.open(1)
    cabinet.open(3)
    result = cabinet.run("done", "trace-source")
    assert result.exit_code == 2 and "several incidents are open (1 (case 1), 2 (case 3))" in result.output
    assert cabinet.ok("done", "trace-source", "--incident", "1").exit_code == 0
    none = Cabinet(workspace)
    for incident in ("1", "2"):
        none.ok("incident", "resolve", incident)
    assert "no open incident" in none.run("done", "trace-source").output


def test_status_without_incidents_and_with_several(workspace):
    cabinet = Cabinet(workspace)
    assert "No open incident." in cabinet.ok("status").output
    cabinet.open(1)
    cabinet.open(2)
    reports = json.loads(cabinet.ok("status", "--json").output)
    assert [report["incident"]["case"] for report in reports] == [1, 2]
    assert all(report["checklist"] for report in reports)


def test_a_workspace_playbook_replaces_a_case(workspace):
    (workspace.path / "config" / "playbooks.toml").write_text("""
[cases.2]
title = "our own outage"
templates = ["apology", "update"]

[[cases.2.steps]]
id = "call-the-regulator"
title = "Inform the energy regulator"
deadline = 4
done = "manual"
severity = ["crisis", "single"]
""", encoding="utf-8")
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    status = cabinet.at(5).status()
    assert [(item["id"], item["state"]) for item in status["checklist"]] == [("call-the-regulator", "late")]
    assert "case 2 (our own outage)" in cabinet.ok("status").output
    refused = cabinet.run("--case", "2", "--template", "notice")
    assert refused.exit_code == 2 and "its templates are apology, update" in refused.output
    other = Cabinet(workspace)
    other.open(1)
    assert "explain" in other.steps("2")


def test_a_broken_playbook_names_the_file_case_step_and_key(workspace):
    path = workspace.path / "config" / "playbooks.toml"
    path.write_text('[cases.2]\ntitle = "x"\ntemplates = []\n[[cases.2.steps]]\nid = "a"\ntitle = "b"\n'
                    'done = "someday"\n', encoding="utf-8")
    cabinet = Cabinet(workspace)
    result = cabinet.run("incident", "open", "--case", "2", "--first-seen", "2026-11-20T08:00:00Z")
    assert result.exit_code == 2
    assert "config/playbooks.toml: [cases.2] step 1 (a) done: expected one of manual, prepared" in result.output
    path.write_text("[cases.2\n", encoding="utf-8")
    invalid = cabinet.run("incident", "open", "--case", "2", "--first-seen", "2026-11-20T08:00:00Z")
    assert invalid.exit_code == 2 and "config/playbooks.toml is not valid TOML" in invalid.output
    path.write_text('[cases.7]\ntitle = "x"\n', encoding="utf-8")
    bad_case = cabinet.run("incident", "open", "--case", "2", "--first-seen", "2026-11-20T08:00:00Z")
    assert bad_case.exit_code == 2 and "[cases.7]: cases are tables numbered 1 to 4" in bad_case.output


def test_public_channels_read_delivered_failing_or_not_sent(workspace):
    workspace.write_config(extra='\n[channels.hook]\ntype = "webhook"\nurl = "${HOOK_URL}"\n')
    with ReceiverFake() as receiver:
        cabinet = Cabinet(workspace, {"HOOK_URL": f"{receiver.url}/hooks/incident"})
        receiver.queue(Reply(403, {"error": "forbidden"}))
        cabinet.open(2)
        draft = cabinet.at(1).render("--case", "2", "--template", "apology")
        assert cabinet.run("approve", draft, "--as", "ana").exit_code == 1
        text = cabinet.ok("status").output
    assert re.search(r"web\s+site\s+delivered", text) and re.search(r"hook\s+webhook\s+failing", text)
    assert "Published: not yet" in text
