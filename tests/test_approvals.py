"""Approvals: who may approve, what an approval binds to, and sending once approved."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.both_stores


def _draft(workspace, *extra: str) -> str:
    workspace.open_incident(case=2)
    return workspace.render("--case", "2", "--template", "apology", *extra)


def test_approval_sends_to_every_channel(workspace):
    draft = _draft(workspace)
    result = workspace.run("approve", draft, "--as", "ana")
    assert result.exit_code == 0, result.output
    assert f"Approved draft {draft} as ana (1 of 1)" in result.output
    outbox_file = workspace.path / "var" / "outbox" / f"{draft}--outbox.txt"
    assert "We apologize for the card payment outage." in outbox_file.read_text()
    assert (workspace.path / "var" / "site" / "index.html").exists()
    kinds = [kind for _, kind in workspace.events()]
    assert kinds.count("delivery.started") == 2 and kinds.count("delivery.delivered") == 2
    assert kinds.index("draft.approved") < kinds.index("delivery.started")


def test_non_approver_is_refused(workspace):
    draft = _draft(workspace)
    before = workspace.events()
    result = workspace.run("approve", draft, "--as", "mallory")
    assert result.exit_code == 2
    assert "'mallory' is not an approver; the approvers are ana, luis" in result.output
    assert workspace.events() == before


def test_identity_comes_from_publish_user(workspace):
    draft = _draft(workspace)
    result = workspace.run("approve", draft, user="luis")
    assert result.exit_code == 0 and "as luis" in result.output


def test_self_approval_is_refused(workspace):
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", user="ana")
    result = workspace.run("approve", draft, "--as", "ana")
    assert result.exit_code == 2
    assert "'ana' wrote draft" in result.output and "self_approval = false" in result.output


def test_self_approval_allowed_when_configured(workspace):
    workspace.write_config(self_approval=True)
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", user="ana")
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0


def test_two_approvals_required_and_no_double_vote(workspace):
    workspace.write_config(required=2)
    draft = _draft(workspace)
    first = workspace.run("approve", draft, "--as", "ana")
    assert first.exit_code == 0 and "(1 of 2)" in first.output and "Sending" not in first.output
    twice = workspace.run("approve", draft, "--as", "ana")
    assert twice.exit_code == 2 and "already approved" in twice.output
    second = workspace.run("approve", draft, "--as", "luis")
    assert second.exit_code == 0 and "(2 of 2)" in second.output and "delivered" in second.output


def test_required_zero_sends_at_once(workspace):
    workspace.write_config(required=0)
    workspace.open_incident(case=2)
    result = workspace.run("--case", "2", "--template", "apology")
    assert result.exit_code == 0, result.output
    assert "Sending draft" in result.output
    assert [kind for _, kind in workspace.events()].count("delivery.delivered") == 2


def test_approving_a_re_rendered_draft_is_refused(workspace):
    old = _draft(workspace)
    new = workspace.render("--case", "2", "--template", "apology", "--var", "eta=before 18:00 today")
    assert new != old
    result = workspace.run("approve", old, "--as", "ana")
    assert result.exit_code == 2
    assert f"draft {old} was superseded by draft {new}" in result.output
    assert workspace.run("approve", new, "--as", "ana").exit_code == 0


def test_approval_binds_to_the_payload_hash(workspace):
    draft = _draft(workspace)
    db = workspace.db()
    body = db.execute("SELECT body FROM events WHERE kind = 'draft.rendered'").fetchone()[0]
    db.execute("UPDATE events SET body = ? WHERE kind = 'draft.rendered'",
               (body.replace("card payment outage", "tiny hiccup"),))
    db.close()
    result = workspace.run("approve", draft, "--as", "ana")
    assert result.exit_code == 2
    assert f"draft {draft} no longer matches its hash" in result.output
    assert not (workspace.path / "var" / "outbox").exists()


def test_reject_stops_the_draft(workspace):
    draft = _draft(workspace)
    result = workspace.run("reject", draft, "--reason", "tone too defensive", "--as", "luis")
    assert result.exit_code == 0
    refused = workspace.run("approve", draft, "--as", "ana")
    assert refused.exit_code == 2 and "rejected by luis: tone too defensive" in refused.output
    listed = json.loads(workspace.run("drafts", "list", "--json").output)
    assert listed[0]["status"] == "rejected"


def test_send_before_approval_is_refused(workspace):
    draft = _draft(workspace)
    result = workspace.run("send", draft)
    assert result.exit_code == 2
    assert "has 0 of 1 required approval(s)" in result.output


def test_send_resumes_and_skips_delivered_channels(workspace):
    draft = _draft(workspace)
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
    again = workspace.run("send", draft, "--json")
    assert again.exit_code == 0
    states = {item["channel"]: item["detail"] for item in json.loads(again.output)["deliveries"]}
    assert states == {"web": "already delivered", "outbox": "already delivered"}
    assert [kind for _, kind in workspace.events()].count("delivery.started") == 2
