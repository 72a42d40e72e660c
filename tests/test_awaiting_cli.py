"""`publish awaiting`: what awaits the person running it, by their role in the log's
cabinet (approvers ana and luis, operator marta): the same list the console opens on."""
from __future__ import annotations

import json

from tests.console.support import configure, free_port


def awaiting(workspace, user: str, *args: str) -> dict:
    result = workspace.run("awaiting", "--json", *args, user=user)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_an_approver_sees_the_drafts_they_may_approve_oldest_deadline_first(workspace):
    configure(workspace, free_port())
    older = workspace.open_incident(case=2, hours_ago=10)
    newer = workspace.open_incident(case=1, hours_ago=1)
    late_draft = workspace.render("--case", "2", "--template", "apology", "--incident", older, user="marta")
    new_draft = workspace.render("--case", "1", "--template", "external-causes", "--incident", newer, user="marta")
    found = awaiting(workspace, "ana")
    assert found["role"] == "approver"
    assert [item["draft"] for item in found["to_approve"]] == [late_draft, new_draft]
    first = found["to_approve"][0]
    assert first["incident"] == older and first["case"] == 2 and first["template"] == "apology"
    assert 1.9 < first["prepare_hours_left"] < 2.1 and 37.9 < first["publish_hours_left"] < 38.1
    assert first["others_who_may_approve"] == ["luis"]
    assert any(step["incident"] == older and step["state"] in ("due", "late") for step in found["steps"])
    text = workspace.run("awaiting", user="ana").output
    assert "Drafts you may approve" in text and late_draft in text and "h" in text and "left" in text


def test_an_approver_never_sees_their_own_draft_when_self_approval_is_off(workspace):
    configure(workspace, free_port())
    incident = workspace.open_incident(case=2)
    own = workspace.render("--case", "2", "--template", "apology", "--incident", incident, user="ana")
    assert own not in [item["draft"] for item in awaiting(workspace, "ana")["to_approve"]]
    luis = awaiting(workspace, "luis")["to_approve"]
    assert [item["draft"] for item in luis] == [own] and luis[0]["others_who_may_approve"] == []


def test_an_approved_draft_leaves_the_list_and_a_freeze_is_there_to_lift(workspace):
    configure(workspace, free_port())
    incident = workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", "--incident", incident, user="marta")
    assert workspace.run("freeze", "--reason", "tracing a leak", user="luis").exit_code == 0
    assert workspace.run("approve", draft, user="ana").exit_code == 0
    found = awaiting(workspace, "luis")
    assert found["to_approve"] == [] and found["freeze"]["reason"] == "tracing a leak"
    assert workspace.run("unfreeze", "--reason", "leak traced", user="luis").exit_code == 0
    found = awaiting(workspace, "luis")
    assert found["freeze"] is None and [item["draft"] for item in found["to_send"]] == [draft]


def test_an_operator_sees_manual_steps_and_their_own_drafts_waiting_or_rejected(workspace):
    configure(workspace, free_port())
    incident = workspace.open_incident(case=2)
    waiting = workspace.render("--case", "2", "--template", "apology", "--incident", incident, user="marta")
    rejected = workspace.render("--case", "2", "--template", "update", "--incident", incident, user="marta")
    assert workspace.run("reject", rejected, "--reason", "too early", user="ana").exit_code == 0
    found = awaiting(workspace, "marta")
    assert found["role"] == "operator" and found["to_approve"] == []
    mine = {item["draft"]: item for item in found["mine"]}
    assert mine[waiting]["status"] == "awaiting approval"
    assert mine[rejected]["status"] == "rejected" and mine[rejected]["reason"] == "too early"
    assert found["steps"] and all(step["manual"] for step in found["steps"])
    assert awaiting(workspace, "vera")["role"] == "viewer" and awaiting(workspace, "vera")["steps"] == []


def test_spanish_output_has_no_english_state_word(workspace):
    configure(workspace, free_port())
    incident = workspace.open_incident(case=2, hours_ago=13)
    workspace.render("--case", "2", "--template", "apology", "--incident", incident, user="marta")
    text = workspace.run("awaiting", user="ana", env={"PUBLISH_LANG": "es"}).output
    assert "Borradores que puede aprobar" in text
    for english in ("awaiting approval", "pending", " due", " late", " left", "Drafts"):
        assert english not in text, english


def test_someone_outside_the_cabinet_is_told_so(workspace):
    configure(workspace, free_port())
    result = workspace.run("awaiting", user="nobody")
    assert result.exit_code == 0 and "not in the cabinet" in result.output


def test_spanish_command_output_says_states_and_verdicts_in_spanish(workspace):
    import re

    configure(workspace, free_port())
    incident = workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", "--incident", incident, user="marta")
    spanish = {"PUBLISH_LANG": "es", "COLUMNS": "200"}
    said = "\n".join(workspace.run(*args, user="ana", env=spanish).output for args in (
        ("incident", "list"), ("drafts", "list"), ("drafts", "show", draft), ("status", incident)))
    assert "abierta" in said and "pendiente de aprobación" in said and "público" in said
    for english in ("open", "awaiting approval", "pending", "public", "due", "late", "PASS", "FAIL"):
        assert not re.search(rf"\b{english}\b", said), english
    assert workspace.run("approve", draft, user="ana").exit_code == 0
    assert "CUMPLE" in workspace.run("status", incident, user="ana", env=spanish).output
