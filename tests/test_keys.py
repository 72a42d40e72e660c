"""Keys enrolled in the log (issue 10 item 2): `publish keys add` by an approver whose
own enrolled key signs the enrolment, the first key at `publish init`, allowed_signers
as a mirror of the log, and an enrolment forged into the store that never counts."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.trust_support import forged_signature, make_keys, rewrite_log, turn_signing_on

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed")


@pytest.fixture
def keys(tmp_path):
    return make_keys(tmp_path / "keys", "ana", "luis", "mallory")


def _pub(keys, name: str) -> str:
    return str(keys[name]) + ".pub"


@pytest.fixture
def enrolled(workspace, keys):
    """Signing on; ana enrols her own key first (it signs its own enrolment)."""
    turn_signing_on(workspace)
    result = workspace.run("keys", "add", "ana", _pub(keys, "ana"), "--as", "ana", "--key", str(keys["ana"]))
    assert result.exit_code == 0, result.output
    workspace.open_incident(case=2)
    return workspace


def test_an_approver_enrols_another_and_the_mirror_follows(enrolled, keys):
    result = enrolled.run("keys", "add", "luis", _pub(keys, "luis"), "--as", "ana", "--key", str(keys["ana"]))
    assert result.exit_code == 0 and "Enrolled luis's key SHA256:" in result.output
    listed = json.loads(enrolled.run("keys", "list", "--json").output)
    assert [(k["name"], k["by"]) for k in listed["keys"]] == [("ana", "ana"), ("luis", "ana")]
    signers = (enrolled.path / "config" / "allowed_signers").read_text()
    assert signers.count("\n") == 2 and signers.startswith("ana ") and "\nluis " in signers
    draft = enrolled.render("--case", "2", "--template", "apology")
    assert enrolled.run("approve", draft, "--as", "luis", "--key", str(keys["luis"])).exit_code == 0


def test_an_enrolment_needs_an_approver_with_an_enrolled_key(enrolled, keys):
    not_approver = enrolled.run("keys", "add", "luis", _pub(keys, "luis"), "--as", "marta",
                                "--key", str(keys["mallory"]))
    assert not_approver.exit_code == 2 and "only an approver can enrol a key" in not_approver.output
    unenrolled = enrolled.run("keys", "add", "luis", _pub(keys, "mallory"), "--as", "luis",
                              "--key", str(keys["mallory"]))
    assert unenrolled.exit_code == 2 and "'luis' has no key enrolled in the log" in unenrolled.output
    wrong_key = enrolled.run("keys", "add", "luis", _pub(keys, "mallory"), "--as", "ana",
                             "--key", str(keys["mallory"]))
    assert wrong_key.exit_code == 2 and "not 'ana''s key enrolled in the log" in wrong_key.output
    assert [k["name"] for k in json.loads(enrolled.run("keys", "list", "--json").output)["keys"]] == ["ana"]


def test_an_enrolment_forged_into_the_store_never_counts(enrolled, keys):
    mallory = (keys["mallory"].parent / "mallory.pub").read_text().split()
    line = f"{mallory[0]} {mallory[1]}"
    from publisher.log.signatures import ssh_fingerprint

    data = {"name": "luis", "scheme": "ssh", "public_key": line, "fingerprint": ssh_fingerprint(line)}
    data["signature"] = forged_signature("enrol", "luis", dict(data), "ana", keys["mallory"])
    rewrite_log(enrolled, append=({"kind": "key.enrolled", "actor": "ana", "data": data},))
    signers = enrolled.path / "config" / "allowed_signers"
    signers.write_text(signers.read_text() + f'luis namespaces="publish-approval" {line}\n')
    listed = json.loads(enrolled.run("keys", "list", "--json").output)
    assert [k["name"] for k in listed["keys"]] == ["ana"]
    assert "does not count" in listed["not_counted"][0]["reason"]
    draft = enrolled.render("--case", "2", "--template", "apology")
    refused = enrolled.run("approve", draft, "--as", "luis", "--key", str(keys["mallory"]))
    assert refused.exit_code == 2 and "lists a key for luis" in refused.output
    assert enrolled.run("log", "verify").exit_code == 1


def test_init_turns_signing_on_with_the_users_key(workspace, keys, tmp_path):
    target = tmp_path / "fresh"
    result = workspace.run("init", str(target), user="ana", env={"PUBLISH_SSH_KEY": str(keys["ana"]),
                                                                    "PUBLISH_LANG": "en"})
    assert result.exit_code == 0, result.output
    assert "Signing is on" in result.output and "publish keys add NAME THEIR_KEY.pub --as ana" in result.output
    assert 'signing = "ssh"' in (target / "config" / "publisher.toml").read_text()
    assert (target / "config" / "allowed_signers").read_text().startswith("ana ")
    listed = workspace.run("--workspace", str(target), "keys", "list", "--json")
    assert [k["name"] for k in json.loads(listed.output)["keys"]] == ["ana"]


def test_init_makes_the_key_publish_ssh_key_names_when_it_is_not_there_yet(workspace, tmp_path):
    target = tmp_path / "fresh"
    key = tmp_path / "keys" / "mine"
    result = workspace.run("init", str(target), user="ana", env={"PUBLISH_SSH_KEY": str(key), "PUBLISH_LANG": "en"})
    assert result.exit_code == 0 and f"Made your signing key {key} (SHA256:" in result.output
    assert key.exists() and 'signing = "ssh"' in (target / "config" / "publisher.toml").read_text()
    assert (target / "config" / "allowed_signers").read_text() == \
        f'ana namespaces="publish-approval" {" ".join((tmp_path / "keys" / "mine.pub").read_text().split()[:2])}\n'


def test_a_revoked_key_signs_nothing_new_but_its_past_approvals_stand(enrolled, keys):
    assert enrolled.run("keys", "add", "luis", _pub(keys, "luis"), "--as", "ana", "--key", str(keys["ana"])).exit_code == 0
    first = enrolled.render("--case", "2", "--template", "apology")
    assert enrolled.run("approve", first, "--as", "luis", "--key", str(keys["luis"])).exit_code == 0
    revoked = enrolled.run("keys", "revoke", "luis", "--as", "ana", "--key", str(keys["ana"]))
    assert revoked.exit_code == 0 and "Revoked luis's key SHA256:" in revoked.output
    assert "luis" not in (enrolled.path / "config" / "allowed_signers").read_text()
    assert "Approved by: luis (signed, verified)" in enrolled.run("drafts", "show", first).output
    second = enrolled.render("--case", "2", "--template", "reassurance")
    refused = enrolled.run("approve", second, "--as", "luis", "--key", str(keys["luis"]))
    assert refused.exit_code == 2 and "'luis' has no key enrolled in the log" in refused.output
    assert enrolled.run("log", "verify").exit_code == 0
