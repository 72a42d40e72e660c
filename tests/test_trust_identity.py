"""Approvals are proven, not declared (issue 10 item 2): with signing on, a signature
forged into the store never counts where approvals are counted (drafts show, status,
send), an allowed_signers file edited outside the log is refused naming the difference,
freeze/unfreeze/decide are signed, and with signing off every output says approvals are
unsigned and self-declared."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.trust_support import allowed_signers, forged_signature, make_keys, rewrite_log, turn_signing_on

pytestmark = [pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed"),
              pytest.mark.both_stores]


@pytest.fixture
def keys(tmp_path):
    return make_keys(tmp_path / "keys", "ana", "luis", "mallory")


@pytest.fixture
def signed(workspace, keys):
    allowed_signers(workspace, keys, "ana", "luis")
    turn_signing_on(workspace)
    workspace.open_incident(case=2)
    return workspace


def _draft(workspace) -> str:
    return workspace.render("--case", "2", "--template", "apology")


def _enrol_keys(workspace, keys) -> None:
    """The first signed action imports allowed_signers into the log (a held approval)."""
    assert workspace.run("freeze", "--reason", "review", "--as", "ana", "--key", str(keys["ana"])).exit_code == 0


def _forge_approval(workspace, draft: str, actor: str, key) -> None:
    rendered = next(e for e in json.loads(workspace.run("log", "--json").output) if e["kind"] == "draft.rendered")
    digest = rendered["data"]["hash"]
    rewrite_log(workspace, append=({"kind": "draft.approved", "actor": actor, "incident": "1", "draft": draft,
                                    "data": {"hash": digest,
                                             "signature": forged_signature("approve", draft, digest, actor, key)}},))


def test_a_forged_approval_in_the_store_never_counts(signed, keys):
    draft = _draft(signed)
    _enrol_keys(signed, keys)
    assert signed.run("unfreeze", "--reason", "ok", "--as", "ana", "--key", str(keys["ana"])).exit_code == 0
    _forge_approval(signed, draft, "ana", keys["mallory"])

    shown = signed.run("drafts", "show", draft)
    assert "Approved by: nobody yet" in shown.output
    assert "draft.approved by ana" in shown.output and "does not count" in shown.output
    assert json.loads(signed.run("drafts", "list", "--json").output)[0]["approved_by"] == []
    status = signed.run("status", "1")
    assert "does not count" in status.output
    sent = signed.run("send", draft)
    assert sent.exit_code == 2 and "0 of 1 required approval" in sent.output
    assert not [kind for _, kind in signed.events() if kind.startswith("delivery.")]
    verified = signed.run("log", "verify")
    assert verified.exit_code == 1 and "the draft.approved by ana has a bad signature" in verified.output


def test_a_real_approval_counts_and_shows_as_signed(signed, keys):
    draft = _draft(signed)
    result = signed.run("approve", draft, "--as", "ana", "--key", str(keys["ana"]))
    assert result.exit_code == 0, result.output
    assert "Approved by: ana (signed, verified)" in signed.run("drafts", "show", draft).output


def test_an_allowed_signers_edit_outside_the_log_is_refused_naming_it(signed, keys):
    draft = _draft(signed)
    _enrol_keys(signed, keys)
    signers = signed.path / "config" / "allowed_signers"
    mallory = (keys["mallory"].parent / "mallory.pub").read_text().strip()
    signers.write_text(signers.read_text() + f'luis namespaces="publish-approval" {mallory}\n')
    result = signed.run("approve", draft, "--as", "luis", "--key", str(keys["mallory"]))
    assert result.exit_code == 2
    assert "allowed_signers lists a key for luis" in result.output and "the log never enrolled" in result.output
    assert "draft.approved" not in [kind for _, kind in signed.events()]
    assert signed.run("log", "verify").exit_code == 1


def test_an_unsigned_unfreeze_forged_into_the_store_does_not_lift_the_freeze(signed, keys):
    draft = _draft(signed)
    _enrol_keys(signed, keys)
    assert signed.run("approve", draft, "--as", "ana", "--key", str(keys["ana"])).exit_code == 0
    freeze_seq = next(seq for seq, kind in signed.events() if kind == "freeze")
    rewrite_log(signed, append=({"kind": "unfreeze", "actor": "ana",
                                 "data": {"reason": "forged", "freeze": freeze_seq}},))
    sent = signed.run("send", draft)
    assert sent.exit_code == 2 and "publishing is frozen" in sent.output
    assert not [kind for _, kind in signed.events() if kind.startswith("delivery.")]


def test_unfreeze_and_decide_are_signed_by_the_actors_own_key(signed, keys):
    _enrol_keys(signed, keys)
    refused = signed.run("unfreeze", "--reason", "ok", "--as", "luis", "--key", str(keys["ana"]))
    assert refused.exit_code == 2 and "not 'luis''s key enrolled in the log" in refused.output
    assert signed.run("unfreeze", "--reason", "ok", "--as", "luis", "--key", str(keys["luis"])).exit_code == 0
    events = json.loads(signed.run("log", "--json").output)
    assert [e["data"]["signature"]["scheme"] for e in events if e["kind"] in ("freeze", "unfreeze")] == ["ssh", "ssh"]


def test_a_replayed_signed_decision_does_not_count(workspace, keys):
    allowed_signers(workspace, keys, "ana", "luis")
    turn_signing_on(workspace)
    workspace.open_incident(case=4)
    key = ["--as", "ana", "--key", str(keys["ana"])]
    assert workspace.run("decide", "ignore", "--reason", "a troll", *key).exit_code == 0
    assert workspace.run("decide", "respond", "--reason", "it spread", *key).exit_code == 0
    ignore = next(e for e in json.loads(workspace.run("log", "--json").output) if e["kind"] == "incident.decided")
    copy = {key: ignore[key] for key in ("kind", "actor", "incident", "data")}
    rewrite_log(workspace, append=(copy,))
    status = json.loads(workspace.run("status", "1", "--json").output)[0]
    assert "WAIVED" not in json.dumps(status["published"]) and not status["published"].get("waived")


def test_with_signing_off_approvals_are_said_to_be_self_declared(workspace):
    workspace.open_incident(case=2)
    draft = _draft(workspace)
    approved = workspace.run("approve", draft, "--as", "ana")
    assert approved.exit_code == 0 and "(1 of 1); unsigned, self-declared" in approved.output
    assert "ana (unsigned, self-declared" in workspace.run("drafts", "show", draft).output
    assert "ana (unsigned, self-declared" in workspace.run("status", "1").output
    report = workspace.run("report", "1", "--format", "md").output
    assert "ana at" in report and "(unsigned, self-declared)" in report


def test_a_confirmation_forged_into_the_store_does_not_count_as_delivered(signed, keys):
    draft = _draft(signed)
    _enrol_keys(signed, keys)
    assert signed.run("approve", draft, "--as", "ana", "--key", str(keys["ana"])).exit_code == 0
    rewrite_log(signed, append=({"kind": "delivery.started", "actor": "ana", "incident": "1", "draft": draft,
                                 "channel": "outbox", "data": {"attempt": 1}},
                                {"kind": "delivery.confirmed", "actor": "ana", "incident": "1", "draft": draft,
                                 "channel": "outbox", "data": {"id": "x", "url": "https://example.org/x",
                                                               "confirmed_by": "ana", "checked": False}}))
    shown = json.loads(signed.run("drafts", "show", draft, "--json").output)
    assert any("delivery.confirmed by ana" in line for line in shown["not_counted"])
    assert signed.run("log", "verify").exit_code == 1
    assert signed.run("unfreeze", "--reason", "ok", "--as", "ana", "--key", str(keys["ana"])).exit_code == 0
    assert signed.run("send", draft).exit_code == 0
    assert (signed.path / "var" / "outbox" / f"{draft}--outbox.txt").exists()


def test_other_approver_actions_sign_through_the_same_helper(signed, keys):
    _enrol_keys(signed, keys)
    edited = signed.run("incident", "edit", "1", "--summary", "a card outage", "--reason", "typo", "--as", "luis",
                        "--key", str(keys["luis"]))
    assert edited.exit_code == 0, edited.output
    event = [e for e in json.loads(signed.run("log", "--json").output) if e["kind"] == "incident.edited"][0]
    assert event["data"]["signature"]["scheme"] == "ssh"
    assert signed.run("log", "verify").exit_code == 0


def test_the_report_names_what_does_not_count(signed, keys):
    draft = _draft(signed)
    _enrol_keys(signed, keys)
    _forge_approval(signed, draft, "ana", keys["mallory"])
    report = json.loads(signed.run("report", "1", "--format", "json").output.split("\nError")[0])
    shown = next(item for item in report["drafts"] if item["id"] == draft)
    assert shown["approvals"] == [] and shown["not_counted"][0]["kind"] == "draft.approved"
    markdown = signed.run("report", "1", "--format", "md").output
    assert "draft.approved by ana does not count" in markdown
