"""Warnings where a mistake is likely (a second open incident of a case, a draft for a
resolved incident, two drafts of one kind waiting), and `unfreeze` listing the drafts
that waited and sending them with --send."""
from __future__ import annotations

import json


def test_a_second_open_incident_of_the_same_case_is_warned_about(workspace):
    first = workspace.run("incident", "open", "--case", "2", "--first-seen", "2026-01-01T10:00:00Z", "--confirm")
    assert first.exit_code == 0 and "WARNING" not in first.output
    second = workspace.run("incident", "open", "--case", "2", "--first-seen", "2026-01-01T11:00:00Z", "--confirm")
    assert second.exit_code == 0
    assert "WARNING: case 2 already has an open incident (1); this opened another one" in second.output
    assert "publish incident resolve 2" in second.output
    other_case = workspace.run("incident", "open", "--case", "1", "--first-seen", "2026-01-01T11:00:00Z", "--confirm")
    assert "WARNING" not in other_case.output
    as_json = workspace.run("incident", "open", "--case", "1", "--first-seen", "2026-01-01T12:00:00Z", "--confirm",
                            "--json")
    assert json.loads(as_json.stdout)["id"] == "4" and "WARNING: case 1 already" in as_json.stderr


def test_rendering_for_a_resolved_incident_is_warned_about(workspace):
    incident = workspace.open_incident()
    fresh = workspace.run("--case", "2", "--template", "apology", "--dry-run")
    assert "WARNING" not in fresh.output
    assert workspace.run("incident", "resolve", incident).exit_code == 0
    late = workspace.run("--case", "2", "--template", "apology", "--incident", incident, "--dry-run")
    assert late.exit_code == 0 and f"WARNING: incident {incident} was resolved at" in late.output


def test_approving_while_another_draft_of_the_same_kind_waits_is_warned_about(workspace):
    workspace.open_incident()
    assert workspace.run("freeze", "--reason", "legal review").exit_code == 0
    first = workspace.render("--case", "2", "--template", "apology")
    held = workspace.run("approve", first, "--as", "ana")
    assert held.exit_code == 0 and "WARNING" not in held.output
    second = workspace.render("--case", "2", "--template", "apology", "--var", "eta=by 18:00")
    approved = workspace.run("approve", second, "--as", "ana")
    assert approved.exit_code == 0
    assert (f"WARNING: draft {first} (apology) for incident 1 is also waiting (approved, not sent); both will be "
            f"sent. If only one should go out: publish reject {first} --reason TEXT") in approved.output


def _held_draft(workspace) -> str:
    workspace.open_incident(case=3)
    draft = workspace.render("--case", "3", "--template", "apology", "--var", "affected=customer e-mail addresses",
                             "--var", "advice=ignore e-mails asking for your password", "--var", "since=1 December",
                             "--var", "notified_authority=the ICO", "--var", "contact=privacy@acme.example")
    held = workspace.run("approve", draft, "--as", "ana")
    assert "publish unfreeze --reason TEXT --send" in held.output
    return draft


def test_unfreeze_lists_the_drafts_that_waited_and_says_how_to_send_them(workspace):
    draft = _held_draft(workspace)
    lifted = workspace.run("unfreeze", "--reason", "legal cleared it", "--as", "ana")
    assert lifted.exit_code == 0, lifted.output
    assert (f"Approved draft {draft} (apology, incident 1) is waiting: publish send {draft} (not delivered on "
            "outbox, web)") in lifted.output
    assert f"Send them all: publish send {draft}" in lifted.output
    assert json.loads(workspace.run("drafts", "show", draft, "--json").output)["status"] == "approved, not sent"


def test_unfreeze_send_sends_every_draft_that_waited(workspace):
    draft = _held_draft(workspace)
    lifted = workspace.run("unfreeze", "--reason", "legal cleared it", "--send", "--as", "ana")
    assert lifted.exit_code == 0, lifted.output
    assert f"Sending draft {draft}:" in lifted.output and "2 of 2 delivered" in lifted.output
    shown = json.loads(workspace.run("drafts", "show", draft, "--json").output)
    assert shown["status"] == "delivered"
    assert workspace.run("freeze", "--reason", "again").exit_code == 0
    assert workspace.run("unfreeze", "--reason", "nothing waits", "--send", "--json", "--as", "ana").exit_code == 0


def test_unfreeze_send_with_json_is_one_document(workspace):
    draft = _held_draft(workspace)
    lifted = workspace.run("unfreeze", "--reason", "ok", "--send", "--json", "--as", "luis")
    assert lifted.exit_code == 0, lifted.output
    data = json.loads(lifted.stdout)
    assert data["waiting"] == [draft] and data["sent"][0]["draft"] == draft and data["sent"][0]["not_delivered"] == []
