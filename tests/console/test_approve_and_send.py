"""Approving on the console goes through the same approve-and-send as `publish approve`
and says what happened: sent, held by a freeze (named), awaiting more approvals, or
sending refused with its reason (shown as an error, never dropped)."""
from __future__ import annotations

import shutil
import time

import pytest

from tests.console.support import https_console

pytestmark = pytest.mark.servers


def _approve(console, workspace, person: str = "ana"):
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", user="marta")
    client = console.login(person)
    body, headers = console.sign(client, person, f"/drafts/{draft}/approve")
    return draft, client, client.post(f"/drafts/{draft}/approve", json=body, headers=headers)


def _kinds(workspace) -> list[str]:
    return [kind for _, kind in workspace.events()]


def test_an_approved_draft_is_sent_and_the_page_says_so(workspace):
    console = https_console(workspace)
    draft, client, answer = _approve(console, workspace)
    assert answer.status_code == 200, answer.text
    said = answer.json()
    assert said["result"] == "sent" and said["redirect"] == f"/drafts/{draft}"
    assert said["message"] == f"Approved draft {draft} (1 of 1); no worker is running, so it is being sent here."
    for _ in range(200):
        if client.get(f"/drafts/{draft}/progress").text.count("delivered") and "delivery.delivered" in _kinds(workspace):
            break
        time.sleep(0.05)
    assert "delivery.delivered" in _kinds(workspace)


def test_a_draft_approved_while_frozen_is_held_and_the_freeze_is_named(workspace):
    console = https_console(workspace)
    assert workspace.run("freeze", "--reason", "legal review").exit_code == 0
    draft, _, answer = _approve(console, workspace)
    assert answer.status_code == 200, answer.text
    said = answer.json()
    assert said["result"] == "held by a freeze" and "frozen since" in said["message"]
    assert "by marta: legal review" in said["message"]
    assert "draft.approved" in _kinds(workspace) and "delivery.started" not in _kinds(workspace)


def test_a_draft_short_of_its_approvals_waits(workspace):
    console = https_console(workspace, required=2)
    draft, _, answer = _approve(console, workspace)
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"] == "awaiting approvals"
    assert answer.json()["message"] == f"Approved draft {draft} (1 of 2); it waits for more approvals."


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed")
def test_a_refusal_to_send_is_shown_not_dropped(workspace, tmp_path):
    from tests.trust_support import allowed_signers, make_keys, turn_signing_on

    console = https_console(workspace)
    keys = make_keys(tmp_path / "keys", "ana", "luis")
    allowed_signers(workspace, keys, "ana", "luis")
    turn_signing_on(workspace)
    key = ("--as", "ana", "--key", str(keys["ana"]))
    assert workspace.run("freeze", "--reason", "drill", *key).exit_code == 0
    assert workspace.run("unfreeze", "--reason", "drill over", *key).exit_code == 0
    console.ssh_keys = keys
    console.enrol("ana")
    allowed_signers(workspace, keys, "ana")
    enrolled, console = console, type(console)(workspace)
    console.keys = enrolled.keys
    draft, _, answer = _approve(console, workspace)
    assert answer.status_code == 409, answer.text
    said = answer.json()
    assert said["result"] == "sending refused"
    assert said["error"].startswith(f"Approved draft {draft} (1 of 1), but it was not sent: refused:")
    assert "allowed_signers" in said["error"]
    assert "draft.approved" in _kinds(workspace) and "delivery.started" not in _kinds(workspace)
