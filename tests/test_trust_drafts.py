"""What is approved is what is sent (issue 10 item 1): a draft's payloads edited in the
store after approval are never sent, with or without [store] hmac_key, even when the
insider recomputes the chain; `publish log verify` recomputes every draft's hash."""
from __future__ import annotations

import json

from tests.trust_support import rewrite_log

FORGED = "We did nothing wrong. Send your card number to scam.example to get a refund."


def _approved_and_held(workspace) -> str:
    """An approved draft that has not been sent (approved during a freeze, then unfrozen)."""
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("freeze", "--reason", "legal review").exit_code == 0
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
    assert workspace.run("unfreeze", "--reason", "cleared", "--as", "ana").exit_code == 0
    return draft


def _forge_payload(event: dict) -> dict:
    if event["kind"] == "draft.rendered":
        event["data"]["payloads"]["outbox"]["parts"] = [FORGED]
    return event


def _rendered_seq(workspace, draft: str) -> int:
    return next(seq for seq, kind in workspace.events() if kind == "draft.rendered")


def test_an_edited_payload_is_not_sent_and_the_event_is_named(workspace):
    draft = _approved_and_held(workspace)
    rewrite_log(workspace, _forge_payload)
    result = workspace.run("send", draft)
    assert result.exit_code == 1, result.output
    assert f"draft {draft} was changed after approval (event #{_rendered_seq(workspace, draft)}" in result.output
    assert "nothing was sent" in result.output
    assert not (workspace.path / "var" / "outbox").exists() or not list((workspace.path / "var" / "outbox").iterdir())
    assert not [kind for _, kind in workspace.events() if kind.startswith("delivery.")]


def test_an_edited_payload_with_its_hash_and_approval_rewritten_is_not_sent(workspace):
    draft = _approved_and_held(workspace)
    from publisher.drafting.drafts import _draft_from, draft_hash

    def rewrite(event: dict) -> dict:
        event = _forge_payload(event)
        if event["kind"] == "draft.rendered":
            forged = _draft_from(event["data"])
            event["data"]["hash"] = draft_hash(forged.incident, forged.template, forged.language, forged.reply_to,
                                               forged.payloads)
            rewrite.hash = event["data"]["hash"]
        if event["kind"] == "draft.approved":
            event["data"]["hash"] = rewrite.hash
        return event

    rewrite_log(workspace, rewrite)
    result = workspace.run("send", draft)
    assert result.exit_code == 1 and "was changed after approval" in result.output
    assert "its id is not the start of its hash" in result.output
    assert not [kind for _, kind in workspace.events() if kind.startswith("delivery.")]


def test_with_hmac_key_an_edit_without_the_key_is_still_not_sent(workspace, monkeypatch):
    monkeypatch.setenv("LOG_KEY", "CANARY-log-key-trust-1")
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace('path = "var/publisher.db"',
                                                 'path = "var/publisher.db"\nhmac_key = "${LOG_KEY}"'))
    draft = _approved_and_held(workspace)
    with workspace.db() as db:
        seq, body = db.execute("SELECT seq, body FROM events WHERE kind = 'draft.rendered'").fetchone()
        event = _forge_payload(json.loads(body))
        db.execute("UPDATE events SET body = ? WHERE seq = ?", (json.dumps(event), seq))
    result = workspace.run("send", draft)
    assert result.exit_code == 1 and f"(event #{seq}" in result.output
    assert not [kind for _, kind in workspace.events() if kind.startswith("delivery.")]


def test_log_verify_recomputes_every_drafts_hash(workspace):
    draft = _approved_and_held(workspace)
    assert workspace.run("log", "verify").exit_code == 0
    rewrite_log(workspace, _forge_payload)
    result = workspace.run("log", "verify")
    assert result.exit_code == 1
    assert f"row {_rendered_seq(workspace, draft)}: draft {draft} was changed after it was rendered" in result.output


def test_log_verify_names_every_edited_draft_in_its_one_pass(workspace):
    first = _approved_and_held(workspace)
    second = workspace.render("--case", "2", "--template", "apology", "--var", "eta=tomorrow")
    rewrite_log(workspace, _forge_payload)
    result = workspace.run("log", "verify", "--json")
    assert result.exit_code == 1
    named = " ".join(json.JSONDecoder().raw_decode(result.output)[0]["trust_problems"])
    assert f"draft {first} was changed" in named and f"draft {second} was changed" in named


def test_log_verify_names_a_draft_given_a_field_a_draft_does_not_have(workspace):
    draft = _approved_and_held(workspace)

    def add_field(event: dict) -> dict:
        if event["kind"] == "draft.rendered":
            event["data"]["sent_to"] = "scam.example"
        return event

    rewrite_log(workspace, add_field)
    result = workspace.run("log", "verify")
    assert result.exit_code == 1
    assert f"draft {draft} was changed after it was rendered (its payloads cannot be read)" in result.output


def test_log_verify_checks_a_draft_whose_body_is_not_in_canonical_order(workspace):
    from publisher.log.store import GENESIS, chain_hash

    draft = _approved_and_held(workspace)
    with workspace.db() as db:
        rows = db.execute("SELECT seq, body FROM events ORDER BY seq").fetchall()
        db.execute("DELETE FROM events")
        prev = GENESIS
        for seq, body in rows:
            event = json.loads(body)
            if event["kind"] == "draft.rendered":
                event = _forge_payload(event)
                body = json.dumps({"kind": event.pop("kind"), **event}, separators=(",", ":"))
            digest = chain_hash(prev, body)
            db.execute("INSERT INTO events (seq, body, prev, hash) VALUES (?, ?, ?, ?)", (seq, body, prev, digest))
            prev = digest
    last = len(rows)
    (workspace.path / "var" / "publisher.db.head").write_text(json.dumps(
        {"seq": last, "hash": prev, "mac": chain_hash("head", f"{last}:{prev}")}, separators=(",", ":")))
    result = workspace.run("log", "verify")
    assert result.exit_code == 1
    assert f"draft {draft} was changed after it was rendered" in result.output
