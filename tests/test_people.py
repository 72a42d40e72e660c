"""People and roles live in the log (issue 21, item 1 and attack 2): the config's lists
only bootstrap an empty log and are afterwards a mirror that grants nothing; adding or
removing an approver, or raising a role, needs `[approvals] required` approvers'
signatures; an approval counts only when its actor was an approver at that row; and
`publish log verify` names every change of the cabinet that does not count. On SQLite
and PostgreSQL; two workspace folders on one log stand for two machines."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.conftest import Workspace
from tests.trust_support import rewrite_log

pytestmark = pytest.mark.both_stores


def second_machine(workspace: Workspace, edit=lambda text: text) -> Workspace:
    """Another machine of the cabinet: a folder of its own whose config is a copy of the
    first one's (edited by `edit`), on the same log (the same SQLite file, or database)."""
    folder = workspace.path.parent / "machine-2"
    (folder / "config").mkdir(parents=True)
    (folder / "var").mkdir(mode=0o700)
    text = (workspace.path / "config" / "publisher.toml").read_text(encoding="utf-8")
    if not workspace.store_url:
        text = text.replace('path = "var/publisher.db"', f'path = "{workspace.path / "var" / "publisher.db"}"', 1)
    (folder / "config" / "publisher.toml").write_text(edit(text), encoding="utf-8")
    return Workspace(folder, CliRunner(), [], workspace.store_url)


def without_operators(workspace: Workspace) -> None:
    """The test config without its operator marta, for tests that add her themselves."""
    path = workspace.path / "config" / "publisher.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('operators = ["marta"]\n', "", 1), encoding="utf-8")


def people(workspace: Workspace) -> dict:
    result = workspace.run("people", "list", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def roles(workspace: Workspace) -> dict[str, str]:
    return {person["name"]: person["role"] for person in people(workspace)["people"]}


def kinds(workspace: Workspace) -> list[str]:
    return [kind for _seq, kind in workspace.events()]


def draft(workspace: Workspace) -> str:
    workspace.open_incident(case=2)
    return workspace.render("--case", "2", "--template", "apology", "--channel", "web", "--channel", "outbox")


def test_the_configs_lists_become_the_first_people_once(workspace):
    workspace.write_config(extra="")
    without_operators(workspace)
    assert people(workspace)["recorded"] is False
    assert workspace.run("people", "add", "marta", "--role", "operator", "--as", "ana").exit_code == 0
    assert kinds(workspace).count("people.bootstrap") == 1
    assert roles(workspace) == {"ana": "approver", "luis": "approver", "marta": "operator"}
    config = (workspace.path / "config" / "publisher.toml").read_text(encoding="utf-8")
    assert 'operators = ["marta"]' in config and 'approvers = ["ana", "luis"]' in config


def test_a_refused_action_writes_nothing_not_even_the_first_people(workspace):
    made = draft(workspace)
    before = workspace.events()
    refused = workspace.run("approve", made, "--as", "mallory")
    assert refused.exit_code == 2 and workspace.events() == before


def test_contacts_live_only_in_the_log_and_people_add_updates_them(workspace):
    assert workspace.run("people", "add", "vera", "--role", "viewer", "--email", "vera@acme.example",
                         "--as", "ana").exit_code == 0
    changed = workspace.run("people", "add", "vera", "--telegram", "123456789", "--as", "luis")
    assert changed.exit_code == 0, changed.output
    vera = next(person for person in people(workspace)["people"] if person["name"] == "vera")
    assert (vera["email"], vera["telegram"], vera["role"]) == ("vera@acme.example", "123456789", "viewer")
    assert "vera@acme.example" not in (workspace.path / "config" / "publisher.toml").read_text(encoding="utf-8")
    bad = workspace.run("people", "add", "vera", "--email", "not-an-address", "--as", "ana")
    assert bad.exit_code == 2 and "is not an e-mail address" in bad.output


def test_only_an_approver_changes_the_cabinet(workspace):
    without_operators(workspace)
    assert workspace.run("people", "add", "marta", "--role", "operator", "--as", "ana").exit_code == 0
    before = workspace.events()
    for args in (["people", "add", "mallory", "--role", "approver"], ["people", "remove", "ana"],
                 ["people", "add", "marta", "--role", "approver"]):
        refused = workspace.run(*args, "--as", "marta")
        assert refused.exit_code == 2 and "only an approver can change the cabinet" in refused.output
    assert workspace.events() == before


def test_adding_an_approver_needs_the_required_signatures(workspace):
    workspace.write_config(required=2)
    proposed = workspace.run("people", "add", "eva", "--role", "approver", "--email", "eva@acme.example",
                             "--as", "ana")
    assert proposed.exit_code == 0, proposed.output
    change = json.loads(workspace.run("people", "list", "--json").output)["pending"][0]
    assert change["what"] == "add eva as approver" and change["signed_by"] == ["ana"] and change["needs"] == 2
    assert f"publish people approve {change['change']}" in proposed.output
    assert "eva" not in roles(workspace)
    made = draft(workspace)
    refused = workspace.run("approve", made, "--as", "eva")
    assert refused.exit_code == 2 and "'eva' is not an approver" in refused.output
    again = workspace.run("people", "approve", change["change"], "--as", "ana")
    assert again.exit_code == 2 and "already signed" in again.output
    done = workspace.run("people", "approve", change["change"], "--as", "luis")
    assert done.exit_code == 0, done.output
    assert roles(workspace)["eva"] == "approver" and people(workspace)["pending"] == []
    assert 'approvers = ["ana", "eva", "luis"]' in (workspace.path / "config" / "publisher.toml").read_text()
    assert workspace.run("approve", made, "--as", "eva").exit_code == 0
    assert workspace.run("log", "verify").exit_code == 0


def test_raising_a_role_and_removing_an_approver_wait_for_signatures_too(workspace):
    workspace.write_config(required=2)
    without_operators(workspace)
    assert workspace.run("people", "add", "marta", "--role", "operator", "--as", "ana").exit_code == 0
    assert roles(workspace)["marta"] == "operator"
    assert workspace.run("people", "add", "marta", "--role", "approver", "--as", "ana").exit_code == 0
    assert roles(workspace)["marta"] == "operator"
    raised = people(workspace)["pending"][0]
    assert raised["what"] == "make marta approver (was operator)"
    assert workspace.run("people", "approve", raised["change"], "--as", "luis").exit_code == 0
    assert roles(workspace)["marta"] == "approver"
    assert workspace.run("people", "remove", "luis", "--as", "ana").exit_code == 0
    assert roles(workspace)["luis"] == "approver"
    removal = people(workspace)["pending"][0]
    assert workspace.run("people", "approve", removal["change"], "--as", "marta").exit_code == 0
    assert "luis" not in roles(workspace)
    last = workspace.run("people", "remove", "ana", "--as", "marta")
    assert last.exit_code == 2 and "fewer than the 2 it needs" in last.output


def test_attack_2_an_approver_added_to_one_machines_config_is_refused_and_never_counted(workspace):
    """Issue 21, attack 2: on one shared log, `mallory` added to `[approvals] approvers`
    on one machine let mallory approve and send, and the other machine counted it."""
    made = draft(workspace)
    assert workspace.run("freeze", "--reason", "review first", "--as", "ana").exit_code == 0
    other = second_machine(workspace, lambda text: text.replace('approvers = ["ana", "luis"]',
                                                               'approvers = ["ana", "luis", "mallory"]'))
    before = workspace.events()
    refused = other.run("approve", made, "--as", "mallory")
    assert refused.exit_code == 2, refused.output
    assert "config/publisher.toml lists mallory in [approvals] approvers, but the log has no mallory" in \
        refused.output
    assert other.run("people", "add", "mallory", "--role", "approver", "--as", "mallory").exit_code == 2
    assert workspace.events() == before

    from publisher.workspace.app import App

    rendered = next(event for event in json.loads(workspace.run("log", "--json").output)
                    if event["kind"] == "draft.rendered")
    App(other.path).store.append("draft.approved", actor="mallory", incident="1", draft=made,
                                 data={"hash": rendered["data"]["hash"]})
    for machine in (workspace, other):
        shown = machine.run("drafts", "show", made)
        assert "Approved by: nobody yet" in shown.output, shown.output
        assert "mallory was not an approver" in shown.output
    assert workspace.run("unfreeze", "--reason", "reviewed", "--as", "ana").exit_code == 0
    assert workspace.run("send", made).exit_code != 0
    assert not (workspace.path / "var" / "outbox").exists() or not list((workspace.path / "var" / "outbox").iterdir())
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 1
    assert "the draft.approved by mallory does not count (mallory was not an approver at row" in verified.output


def test_the_config_is_a_mirror_a_difference_is_refused_and_export_rewrites_it(workspace):
    without_operators(workspace)
    assert workspace.run("people", "add", "vera", "--role", "viewer", "--as", "ana").exit_code == 0
    path = workspace.path / "config" / "publisher.toml"
    path.write_text(path.read_text().replace('viewers = ["vera"]', 'viewers = ["vera"]\noperators = ["marta"]'))
    refused = workspace.run("people", "add", "eva", "--role", "viewer", "--as", "ana")
    assert refused.exit_code == 2
    assert "config/publisher.toml lists marta in [approvals] operators, but the log has no marta" in refused.output
    assert "`publish people export` rewrites the config from it" in refused.output
    assert workspace.run("log", "verify").exit_code == 1
    assert workspace.run("people", "export").exit_code == 0
    assert "marta" not in path.read_text()
    assert workspace.run("people", "add", "eva", "--role", "viewer", "--as", "ana").exit_code == 0


def test_log_verify_names_a_change_of_the_cabinet_written_by_a_non_approver(workspace):
    without_operators(workspace)
    assert workspace.run("people", "add", "marta", "--role", "operator", "--as", "ana").exit_code == 0
    if workspace.store_url:
        from publisher.workspace.app import App

        App(workspace.path).store.append("person.changed", actor="marta",
                                         data={"name": "marta", "role": "approver", "needs": 1})
    else:
        rewrite_log(workspace, append=({"kind": "person.changed", "actor": "marta",
                                        "data": {"name": "marta", "role": "approver", "needs": 1}},))
    assert roles(workspace)["marta"] == "operator"
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 1
    assert "the person.changed by marta does not count: marta was not an approver at row" in verified.output


@pytest.mark.sqlite_only
def test_an_approval_counts_only_if_its_actor_was_an_approver_when_it_was_made(workspace):
    made = draft(workspace)
    assert workspace.run("approve", made, "--as", "luis").exit_code == 0
    assert workspace.run("people", "add", "eva", "--role", "approver", "--as", "ana").exit_code == 0
    assert workspace.run("people", "remove", "luis", "--as", "eva").exit_code == 0
    shown = workspace.run("drafts", "show", made)
    assert "Approved by: luis" in shown.output, shown.output
    assert workspace.run("log", "verify").exit_code == 0


def test_people_list_in_spanish(workspace):
    without_operators(workspace)
    assert workspace.run("people", "add", "marta", "--role", "operator", "--as", "ana").exit_code == 0
    listed = workspace.run("people", "list", env={"PUBLISH_LANG": "es"})
    assert listed.exit_code == 0 and "aprobador" in listed.output and "operador" in listed.output


def test_a_forged_co_signature_does_not_make_a_change_take_effect(workspace):
    workspace.write_config(required=2)
    assert workspace.run("people", "add", "eva", "--role", "approver", "--as", "ana").exit_code == 0
    change = people(workspace)["pending"][0]
    from publisher.incident.roster import cabinet
    from publisher.workspace.app import App

    app = App(workspace.path)
    digest = cabinet(app).pending[change["change"]].digest
    app.store.append("people.approved", actor="marta", data={"change": change["change"], "name": "eva",
                                                           "proposal": digest})
    assert "eva" not in roles(workspace) and people(workspace)["pending"][0]["signed_by"] == ["ana"]
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 1
    assert "the people.approved by marta does not count: marta was not an approver at row" in verified.output


@pytest.mark.servers
@pytest.mark.skipif(__import__("shutil").which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed")
def test_with_signing_on_every_change_is_signed_and_an_unsigned_one_never_counts(workspace, tmp_path):
    from tests.trust_support import allowed_signers, make_keys, turn_signing_on

    keys = make_keys(tmp_path / "keys", "ana", "luis")
    allowed_signers(workspace, keys, "ana", "luis")
    turn_signing_on(workspace)
    unsigned = workspace.run("people", "add", "vera", "--role", "viewer", "--as", "ana")
    assert unsigned.exit_code == 2 and "no SSH key at" in unsigned.output
    added = workspace.run("people", "add", "vera", "--role", "viewer", "--as", "ana", "--key", str(keys["ana"]))
    assert added.exit_code == 0, added.output
    assert "unsigned" not in added.output
    event = next(e for e in json.loads(workspace.run("log", "--json").output) if e["kind"] == "person.added")
    assert event["data"]["signature"]["scheme"] == "ssh"
    from publisher.workspace.app import App

    App(workspace.path).store.append("person.added", actor="ana",
                                     data={"name": "mallory", "role": "operator", "needs": 1})
    assert "mallory" not in roles(workspace)
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 1
    assert "the person.added by ana does not count: its signature does not verify (it is not signed)" in \
        verified.output


@pytest.mark.sqlite_only
def test_init_records_the_shipped_configs_people_as_the_first(workspace, tmp_path):
    target = tmp_path / "crisis"
    assert workspace.run("init", str(target)).exit_code == 0
    listed = workspace.run("people", "list", "--json", env={"PUBLISH_WORKSPACE": str(target)})
    made = json.loads(listed.output)
    assert made["recorded"] is True and {p["name"]: p["role"] for p in made["people"]} == \
        {"ana": "approver", "luis": "approver", "marta": "operator"}
