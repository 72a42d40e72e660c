"""Credentials are enrolled only by the cabinet (issue 21, item 2 and attack 1): `users
invite` and `users revoke` are approvers' signed actions; a passkey made through an
invitation counts only once another approver (not its owner, not the inviter when the
cabinet has a third) confirms it, comparing its fingerprint and device; an invitation
dies with `users revoke` or `people remove`; a revocation ends the person's sessions at
once on every console server. SSH signing on, as in the attack."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.console.authenticator import SoftPasskey
from tests.console.support import ORIGIN, HttpConsole, https_console, second_server
from tests.trust_support import allowed_signers, make_keys, turn_signing_on

pytestmark = [pytest.mark.servers, pytest.mark.both_stores,
              pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed")]


@pytest.fixture
def keys(tmp_path):
    return make_keys(tmp_path / "keys", "ana", "luis", "eva", "marta")


@pytest.fixture
def console(workspace, keys) -> HttpConsole:
    """Approvers ana and luis (their SSH keys enrolled, signing on), operator marta, viewer vera."""
    made = https_console(workspace)
    allowed_signers(workspace, keys, "ana", "luis")
    turn_signing_on(workspace)
    made = HttpConsole(workspace, made.clock)
    made.ssh_keys = dict(keys)
    assert workspace.run("freeze", "--reason", "drill", *signed(keys, "ana"), user="ana").exit_code == 0
    assert workspace.run("unfreeze", "--reason", "drill over", *signed(keys, "ana"), user="ana").exit_code == 0
    return made


def signed(keys, name: str) -> tuple[str, ...]:
    return ("--as", name, "--key", str(keys[name]))


def kinds(workspace) -> list[str]:
    return [kind for _seq, kind in workspace.events()]


def enrol_with(console: HttpConsole, token: str, device: str = "marta's phone"):
    """What whoever holds the link does: make a passkey on their own device."""
    client = console.client()
    headers = {"X-CSRF-Token": console.csrf(client, f"/enrol/{token}")}
    options = client.post(f"/enrol/{token}/options", json={}, headers=headers)
    if options.status_code != 200:
        return None, options
    key = SoftPasskey(ORIGIN, "console.test")
    answer = client.post(f"/enrol/{token}", json={"credential": key.create(options.json()), "device": device},
                         headers=headers)
    return key, answer


def log_in(console: HttpConsole, key: SoftPasskey):
    client = console.client()
    headers = {"X-CSRF-Token": console.csrf(client)}
    options = client.post("/login/options", headers=headers).json()
    return client, client.post("/login", json=key.get(options), headers=headers)


def invite_in_person(workspace, keys, name: str, by: str) -> str:
    result = workspace.run("users", "invite", name, *signed(keys, by), user=by)
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1].rsplit("/", 1)[1]


def test_attack_1_an_operator_cannot_invite_an_approver(console, workspace, keys):
    before = workspace.events()
    refused = workspace.run("users", "invite", "ana", user="marta")
    assert refused.exit_code == 2, refused.output
    assert "only an approver can invite someone to the console; 'marta' is not one" in refused.output
    assert "/enrol/" not in refused.output and workspace.events() == before


def test_attack_1_a_passkey_made_from_a_link_counts_only_once_another_approver_confirms_it(console, workspace,
                                                                                            keys):
    """The link reached the wrong hands (marta): her passkey "for ana" logs nobody in and
    signs nothing until an approver who compares the fingerprint with ana confirms it."""
    added = workspace.run("people", "add", "eva", "--role", "approver", *signed(keys, "ana"), user="ana")
    assert added.exit_code == 0, added.output
    assert workspace.run("keys", "add", "eva", str(keys["eva"]) + ".pub", *signed(keys, "ana"), user="ana").exit_code == 0
    token = invite_in_person(workspace, keys, "ana", by="luis")
    key, answer = enrol_with(console, token, device="marta's phone")
    assert answer.status_code == 200, answer.text
    fingerprint = answer.json()["fingerprint"]
    page = console.client().get(answer.json()["redirect"])
    assert fingerprint in page.text and "marta&#39;s phone" in page.text and "confirms it" in page.text

    _client, login = log_in(console, key)
    assert login.status_code == 409 and "waits for another approver to confirm it" in login.json()["error"]
    for who, why in (("ana", "cannot confirm their own passkey"), ("luis", "luis invited ana, so another approver"),
                     ("marta", "only an approver can confirm a passkey")):
        refused = workspace.run("users", "confirm", "ana", "--fingerprint", fingerprint, *signed(keys, who), user=who)
        assert refused.exit_code == 2 and why in refused.output, refused.output
    unlisted = workspace.run("users", "confirm", "ana", *signed(keys, "eva"), user="eva")
    assert unlisted.exit_code == 2 and fingerprint in unlisted.output and "marta's phone" in unlisted.output
    wrong = workspace.run("users", "confirm", "ana", "--fingerprint", "0000-0000", *signed(keys, "eva"), user="eva")
    assert wrong.exit_code == 2 and "has the fingerprint 0000-0000" in wrong.output
    assert "passkey.confirmed" not in kinds(workspace)
    assert workspace.run("log", "verify").exit_code == 0


def test_a_confirmed_passkey_logs_in_and_signs_and_verifies_offline(console, workspace, keys):
    token = invite_in_person(workspace, keys, "vera", by="ana")
    key, answer = enrol_with(console, token, device="vera's laptop")
    assert answer.status_code == 200
    fingerprint = answer.json()["fingerprint"]
    luis = console.login("luis")
    page = luis.get("/people")
    assert page.status_code == 200 and fingerprint in page.text and "vera&#39;s laptop" in page.text
    body, headers = console.sign(luis, "luis", "/people/vera/confirm", fingerprint=fingerprint[:9])
    confirmed = luis.post("/people/vera/confirm", json=body, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    event = console.app.store.events(kind="passkey.confirmed")[-1]
    assert event.actor == "luis" and event.data["signature"]["scheme"] == "webauthn"
    assert event.data["fingerprint"] == fingerprint and event.data["device"] == "vera's laptop"
    _client, login = log_in(console, key)
    assert login.status_code == 200 and login.json()["person"] == "vera"
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 0, verified.output


def test_attack_1_a_viewer_cannot_revoke_approvers(console, workspace, keys):
    ana = console.login("ana")
    before = workspace.events()
    refused = workspace.run("users", "revoke", "ana", user="vera")
    assert refused.exit_code == 2 and "only an approver can revoke" in refused.output
    assert workspace.events() == before
    assert ana.get("/").status_code == 200


def test_attack_1_an_invitation_made_before_users_revoke_no_longer_enrols(console, workspace, keys):
    token = invite_in_person(workspace, keys, "ana", by="luis")
    revoked = workspace.run("users", "revoke", "ana", *signed(keys, "luis"), user="luis")
    assert revoked.exit_code == 0, revoked.output
    page = console.client().get(f"/enrol/{token}")
    assert page.status_code == 409 and "revoked" in page.text
    _key, answer = enrol_with(console, token)
    assert answer.status_code == 409 and "revoked" in answer.json()["error"]
    assert "passkey.enrolled" not in kinds(workspace)


def test_an_invitation_dies_with_people_remove(console, workspace, keys):
    token = invite_in_person(workspace, keys, "vera", by="ana")
    assert workspace.run("people", "remove", "vera", *signed(keys, "ana"), user="ana").exit_code == 0
    _key, answer = enrol_with(console, token)
    assert answer.status_code == 409 and "revoked" in answer.json()["error"]


def test_a_passkey_enrolled_through_a_forged_invitation_never_counts(console, workspace, keys):
    """An insider writes an unsigned invitation into the log and enrols through it."""
    from publisher.incident.people import digest
    from publisher.timeparse import iso

    token = "forged-token-0123456789abcdef"
    console.app.store.append("person.invited", actor="ana", data={
        "name": "ana", "token_hash": digest(token), "expires": iso(console.clock.now.replace(year=2100)),
        "delivery": "in person"})
    _key, answer = enrol_with(console, token)
    assert answer.status_code == 409 and "not valid" in answer.json()["error"]
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 1 and "the person.invited by ana does not count" in verified.output



def test_a_revocation_ends_the_sessions_on_every_server_at_once(console, workspace, keys):
    console.enrol("ana")
    other = second_server(workspace)
    other.keys = console.keys
    on_other = other.login("ana")
    on_first = console.login("ana")
    assert on_other.get("/").status_code == 200 and on_first.get("/").status_code == 200
    assert workspace.run("users", "revoke", "ana", *signed(keys, "luis"), user="luis").exit_code == 0
    for client in (on_other, on_first):
        answer = client.get("/")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    _client, again = log_in(other, console.keys["ana"])
    assert again.status_code == 409 and "revoked" in again.json()["error"]


def test_the_send_option_to_a_shared_channel_is_gone(console, workspace, keys):
    result = workspace.run("users", "invite", "luis", "--send", "cabinet", *signed(keys, "ana"), user="ana")
    assert result.exit_code == 2 and "No such option '--send'" in result.output
    listed = json.loads(workspace.run("people", "list", "--json").output)
    assert {person["name"] for person in listed["people"]} == {"ana", "luis", "marta", "vera"}
