"""`publish approve` through the one core approve-and-send: it says what happened
(awaiting more approvals, held by a freeze, sent), and with signing on a forged or
unsigned unfreeze lifts nothing anywhere: the command line, `status`, the engine and
the console all say frozen."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.trust_support import allowed_signers, make_keys, turn_signing_on

pytestmark = pytest.mark.servers


def _draft(workspace) -> str:
    workspace.open_incident(case=2)
    return workspace.render("--case", "2", "--template", "apology")


def test_short_of_its_approvals_a_draft_is_approved_and_waits(workspace):
    workspace.write_config(required=2)
    draft = _draft(workspace)
    result = workspace.run("approve", draft, "--as", "ana")
    assert result.exit_code == 0, result.output
    assert f"Approved draft {draft} as ana (1 of 2)" in result.output
    assert "Sending draft" not in result.output and "frozen" not in result.output
    assert "delivery.started" not in [kind for _, kind in workspace.events()]


def test_an_approved_draft_is_sent_at_once(workspace):
    draft = _draft(workspace)
    result = workspace.run("approve", draft, "--as", "ana")
    assert result.exit_code == 0, result.output
    assert f"Sending draft {draft}:" in result.output and "delivered in" in result.output
    summary = json.loads(workspace.run("drafts", "show", draft, "--json").output)
    assert set(summary["channels"].values()) == {"delivered"}


def test_an_approved_draft_held_by_a_freeze_names_the_freeze_in_json(workspace):
    draft = _draft(workspace)
    assert workspace.run("freeze", "--reason", "legal review").exit_code == 0
    result = workspace.run("approve", draft, "--as", "ana", "--json")
    assert result.exit_code == 0, result.output
    held = json.loads(result.output)
    assert held == {"practice": True, "draft": draft, "approved": True, "held": True, "frozen_by": "marta", "reason": "legal review"}


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed")
def test_an_unsigned_unfreeze_lifts_no_freeze_on_any_face(workspace, tmp_path):
    from publisher.workspace.app import App

    keys = make_keys(tmp_path / "keys", "ana", "luis")
    allowed_signers(workspace, keys, "ana", "luis")
    turn_signing_on(workspace)
    draft = _draft(workspace)
    frozen = workspace.run("freeze", "--reason", "legal review", "--as", "ana", "--key", str(keys["ana"]), "--json")
    assert frozen.exit_code == 0, frozen.output
    seq = json.loads(frozen.output)["seq"]
    App(workspace.path).store.append("unfreeze", actor="luis", data={"reason": "forged", "freeze": seq})

    approved = workspace.run("approve", draft, "--as", "luis", "--key", str(keys["luis"]))
    assert approved.exit_code == 0, approved.output
    assert "Publishing is frozen since" in approved.output and "legal review" in approved.output
    assert "Sending draft" not in approved.output
    assert "WARNING: publishing is frozen since" in workspace.run("status").output
    sent = workspace.run("send", draft)
    assert sent.exit_code == 2 and "publishing is frozen since" in sent.output
    assert "delivery.started" not in [kind for _, kind in workspace.events()]

    from tests.console.support import HttpConsole, https_console

    for name, role in (("vera", "viewer"),):
        added = workspace.run("people", "add", name, "--role", role, "--as", "ana", "--key", str(keys["ana"]))
        assert added.exit_code == 0, added.output
    https_console(workspace)
    turn_signing_on(workspace)
    console = HttpConsole(workspace)
    console.ssh_keys = keys
    page = console.login("vera").get("/")
    assert page.status_code == 200 and "Publishing is frozen since" in page.text and "legal review" in page.text
