"""Signed approvals: with [approvals] signing = "ssh", an approval counts only when
signed by the approver's own key enrolled in the log (imported from allowed_signers), and `publish log verify`
re-checks every signature."""
from __future__ import annotations

import json
import shutil

import pytest

from publisher.log.store import GENESIS, canonical, chain_hash
from tests.trust_support import allowed_signers, make_keys, turn_signing_on

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


def test_a_signed_approval_counts_and_sends(signed, keys):
    draft = _draft(signed)
    result = signed.run("approve", draft, "--as", "ana", "--key", str(keys["ana"]))
    assert result.exit_code == 0, result.output
    assert "delivered" in result.output
    approval = [e for e in json.loads(signed.run("log", "--json").output) if e["kind"] == "draft.approved"][0]
    assert approval["data"]["signature"]["scheme"] == "ssh"
    assert approval["data"]["signature"]["signature"].startswith("-----BEGIN SSH SIGNATURE-----")
    verified = signed.run("log", "verify")
    assert verified.exit_code == 0 and "every signature" in verified.output


def test_a_foreign_key_is_refused_and_nothing_is_recorded(signed, keys):
    draft = _draft(signed)
    before = signed.events()
    result = signed.run("approve", draft, "--as", "ana", "--key", str(keys["mallory"]))
    assert result.exit_code == 2
    assert "is not 'ana''s key enrolled in the log" in result.output
    assert [event for event in signed.events() if event[1] != "key.enrolled"] == before


def test_another_approvers_key_is_refused(signed, keys):
    draft = _draft(signed)
    result = signed.run("approve", draft, "--as", "ana", "--key", str(keys["luis"]))
    assert result.exit_code == 2 and "not 'ana''s key" in result.output


def test_an_unsigned_approval_is_refused(signed, tmp_path):
    draft = _draft(signed)
    result = signed.run("approve", draft, "--as", "ana", "--key", str(tmp_path / "no-such-key"))
    assert result.exit_code == 2 and "there is no SSH key at" in result.output


def test_an_unsigned_approval_in_the_log_never_counts(signed, keys):
    draft = _draft(signed)
    config = signed.path / "config" / "publisher.toml"
    signed_text = config.read_text()
    config.write_text("[workspace]\npractice = true\n" + signed_text.replace('signing = "ssh"', 'signing = "none"'))
    assert signed.run("approve", draft, "--as", "ana").exit_code == 0
    config.write_text(signed_text)
    shown = json.loads(signed.run("drafts", "list", "--json").output)[0]
    assert shown["approved_by"] == []


@pytest.mark.sqlite_only
def test_verify_catches_a_rewritten_approval_even_with_the_chain_recomputed(signed, keys):
    draft = _draft(signed)
    assert signed.run("approve", draft, "--as", "ana", "--key", str(keys["ana"])).exit_code == 0
    with signed.db() as db:
        prev = GENESIS
        for seq, body in db.execute("SELECT seq, body FROM events ORDER BY seq").fetchall():
            event = json.loads(body)
            if event["kind"] == "draft.approved":
                event["actor"] = "luis"
                body = canonical(event)
            digest = chain_hash(prev, body)
            db.execute("UPDATE events SET body = ?, prev = ?, hash = ? WHERE seq = ?", (body, prev, digest, seq))
            prev = digest
            last = seq
    (signed.path / "var" / "publisher.db.head").write_text(
        canonical({"seq": last, "hash": prev, "mac": chain_hash("head", f"{last}:{prev}")}))
    result = signed.run("log", "verify")
    assert result.exit_code == 1
    assert "the draft.approved by luis has a bad signature" in result.output
