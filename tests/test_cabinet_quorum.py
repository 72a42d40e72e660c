"""The rest of the cabinet in the log (issue 21): the quorum (`[approvals] required`)
is a log fact changed only by the approvers it binds, never by one machine's config;
and the command line asks the log's roles before opening an incident, rendering a
draft, marking a step done or resolving. On SQLite and PostgreSQL; two workspace
folders on one log stand for two machines."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.test_people import kinds, people, second_machine

pytestmark = pytest.mark.both_stores


def add_viewer(workspace) -> None:
    """Change the cabinet once (vera joins as a viewer), which records the log's first people."""
    added = workspace.run("people", "add", "vera", "--role", "viewer", "--as", "ana")
    assert added.exit_code == 0, added.output


def draft(workspace) -> str:
    workspace.open_incident(case=2)
    return workspace.render("--case", "2", "--template", "apology", "--channel", "web", "--channel", "outbox")


def status_of(workspace, draft_id: str) -> str:
    shown = workspace.run("drafts", "show", draft_id, "--json")
    assert shown.exit_code == 0, shown.output
    return json.loads(shown.output)["status"]


def test_the_quorum_is_recorded_with_the_first_people_and_the_config_is_its_mirror(workspace):
    workspace.write_config(required=2)
    add_viewer(workspace)
    assert people(workspace)["required"] == 2 and people(workspace)["required_recorded"] is True
    made = draft(workspace)
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("required = 2", "required = 1"), encoding="utf-8")
    refused = workspace.run("approve", made, "--as", "ana")
    assert refused.exit_code == 2
    assert "config/publisher.toml says [approvals] required = 1, but the log's quorum is 2" in refused.output


def test_one_machine_lowering_required_in_its_config_does_not_let_one_approval_send(workspace):
    """Attack: on a shared log, a second machine's config says required = 1 while the
    cabinet needs 2; its approver's single approval must not send."""
    workspace.write_config(required=2)
    add_viewer(workspace)
    made = draft(workspace)
    other = second_machine(workspace, lambda text: text.replace("required = 2", "required = 1"))
    refused = other.run("approve", made, "--as", "ana")
    assert refused.exit_code == 2 and "but the log's quorum is 2" in refused.output
    assert workspace.run("approve", made, "--as", "ana").exit_code == 0
    assert status_of(workspace, made) == "awaiting approval"


def test_changing_the_quorum_needs_the_quorum_in_force(workspace):
    workspace.write_config(required=2)
    proposed = workspace.run("people", "quorum", "1", "--as", "ana")
    assert proposed.exit_code == 0, proposed.output
    assert people(workspace)["required"] == 2
    waiting = people(workspace)["pending"]
    assert len(waiting) == 1 and waiting[0]["required"] == 1
    change = waiting[0]["change"]
    again = workspace.run("people", "approve", change, "--as", "ana")
    assert again.exit_code == 2 and "already signed" in again.output
    signed = workspace.run("people", "approve", change, "--as", "luis")
    assert signed.exit_code == 0, signed.output
    assert people(workspace)["required"] == 1
    assert "required = 1" in (workspace.path / "config" / "publisher.toml").read_text(encoding="utf-8")
    assert "quorum.changed" in kinds(workspace)


def test_a_quorum_larger_than_the_cabinet_or_from_a_non_approver_is_refused(workspace):
    too_many = workspace.run("people", "quorum", "3", "--as", "ana")
    assert too_many.exit_code == 2 and "has 2 approver(s), so it cannot need 3 approvals" in too_many.output
    operator = workspace.run("people", "quorum", "2", "--as", "marta")
    assert operator.exit_code == 2 and "only an approver can" in operator.output
    assert "quorum.changed" not in kinds(workspace)


def test_raising_the_quorum_binds_drafts_rendered_after_it(workspace):
    before = draft(workspace)
    assert workspace.run("people", "quorum", "2", "--as", "ana").exit_code == 0
    after = workspace.render("--case", "2", "--template", "update", "--channel", "web")
    assert workspace.run("approve", after, "--as", "ana").exit_code == 0
    assert status_of(workspace, after) == "awaiting approval"
    assert workspace.run("approve", before, "--as", "luis").exit_code == 0
    assert status_of(workspace, before) != "awaiting approval"


def test_a_forged_quorum_change_in_the_log_does_not_count_and_is_named(workspace):
    workspace.write_config(required=2)
    add_viewer(workspace)
    from publisher.workspace.app import App

    App(workspace.path).store.append("quorum.changed", actor="marta", data={"name": "", "required": 1, "needs": 1})
    assert people(workspace)["required"] == 2
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 1 and "the quorum.changed by marta does not count" in verified.output


@pytest.mark.parametrize("args", [
    ("incident", "open", "--case", "2", "--first-seen", "FIRST_SEEN", "--summary", "outage", "--what",
     "the outage"),
    ("--case", "2", "--template", "apology", "--channel", "web"),
    ("done", "trace-source"),
])
def test_the_command_line_asks_the_logs_roles_before_running_the_playbook(workspace, args):
    if args[0] != "incident":  # render (the main command) and done run on an open incident
        workspace.open_incident(case=2)
    add_viewer(workspace)
    before = workspace.events()
    first_seen = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat(timespec="seconds")
    args = tuple(first_seen if arg == "FIRST_SEEN" else arg for arg in args)
    stranger = workspace.run(*args, user="mallory")
    assert stranger.exit_code == 2, stranger.output
    assert "'mallory' is not in the cabinet" in stranger.output and "people add mallory --role operator" in \
        stranger.output
    viewer = workspace.run(*args, user="vera")
    assert viewer.exit_code == 2 and "'vera' is viewer; only operator or approver can" in viewer.output
    assert workspace.events() == before


def test_with_signing_on_a_quorum_change_is_signed_and_co_signed(workspace, tmp_path):
    from tests.trust_support import allowed_signers, make_keys, turn_signing_on

    workspace.write_config(required=2)
    keys = make_keys(tmp_path / "keys", "ana", "luis")
    allowed_signers(workspace, keys, "ana", "luis")
    turn_signing_on(workspace)
    unsigned = workspace.run("people", "quorum", "1", "--as", "ana")
    assert unsigned.exit_code == 2 and "quorum.changed" not in kinds(workspace)
    proposed = workspace.run("people", "quorum", "1", "--as", "ana", "--key", str(keys["ana"]))
    assert proposed.exit_code == 0, proposed.output
    change = people(workspace)["pending"][0]["change"]
    signed = workspace.run("people", "approve", change, "--as", "luis", "--key", str(keys["luis"]))
    assert signed.exit_code == 0, signed.output
    assert people(workspace)["required"] == 1
    events = [e for e in json.loads(workspace.run("log", "--json").output) if e["kind"] == "quorum.changed"]
    assert events[0]["data"]["signature"]["scheme"] == "ssh"
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 0, verified.output
