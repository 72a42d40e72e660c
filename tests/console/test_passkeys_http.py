"""Passkeys over HTTP: enrolment links expire and work once, a replayed assertion and
an assertion made for another draft are refused, sessions expire, logins are
rate-limited, and `publish log verify` re-checks every passkey signature offline."""
from __future__ import annotations

import json

import pytest

from tests.console.support import HttpConsole, https_console

pytestmark = pytest.mark.servers


def setup(workspace, required: int = 1) -> HttpConsole:
    return https_console(workspace, required)


def kinds(workspace) -> list[str]:
    return [kind for _, kind in workspace.events()]


def test_config_base_url(workspace):
    console = setup(workspace)
    assert console.app.config.console_base_url == "https://console.test"


def test_an_expired_invitation_is_refused(workspace):
    console = setup(workspace)
    token = console.invite("luis")
    console.clock.advance(minutes=16)
    page = console.client().get(f"/enrol/{token}")
    assert page.status_code == 409 and "expired" in page.text
    assert "passkey.enrolled" not in kinds(workspace)


def test_an_invitation_enrols_once_and_keeps_only_a_hash(workspace):
    console = setup(workspace)
    console.enrol("luis")
    token = console.invite("vera")
    client = console.client()
    headers = {"X-CSRF-Token": console.csrf(client, f"/enrol/{token}")}
    from tests.console.authenticator import SoftPasskey

    options = client.post(f"/enrol/{token}/options", headers=headers).json()
    created = SoftPasskey("https://console.test", "console.test").create(options)
    assert client.post(f"/enrol/{token}", json={"credential": created, "device": "vera's laptop"},
                       headers=headers).status_code == 200
    again = client.post(f"/enrol/{token}/options", headers=headers)
    assert again.status_code == 409 and "already used" in again.text
    raw = "\n".join(body for (body,) in workspace.db().execute("SELECT body FROM events"))
    assert token not in raw


def test_a_replayed_login_is_refused(workspace):
    console = setup(workspace)
    key = console.enrol("ana")
    client = console.client()
    headers = {"X-CSRF-Token": console.csrf(client)}
    answer = key.get(client.post("/login/options", headers=headers).json())
    assert client.post("/login", json=answer, headers=headers).status_code == 200
    other = console.client()
    replay = other.post("/login", json=answer, headers={"X-CSRF-Token": console.csrf(other)})
    assert replay.status_code == 409 and "replayed" in replay.json()["error"]


def test_a_replayed_approval_is_refused(workspace):
    console = setup(workspace, required=2)
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", user="marta")
    client = console.login("ana")
    body, headers = console.sign(client, "ana", f"/drafts/{draft}/approve")
    assert client.post(f"/drafts/{draft}/approve", json=body, headers=headers).status_code == 200
    replay = client.post(f"/drafts/{draft}/approve", json=body, headers=headers)
    assert replay.status_code == 409 and "replayed" in replay.json()["error"]
    assert kinds(workspace).count("draft.approved") == 1


def test_an_assertion_for_another_drafts_hash_is_refused(workspace):
    console = setup(workspace)
    incident = workspace.open_incident(case=2)
    first = workspace.render("--case", "2", "--template", "apology", user="marta")
    second = workspace.render("--case", "2", "--template", "notice", "--incident", incident, user="marta")
    client = console.login("ana")
    body, headers = console.sign(client, "ana", f"/drafts/{first}/approve")
    refused = client.post(f"/drafts/{second}/approve", json=body, headers=headers)
    assert refused.status_code == 409 and "does not verify" in refused.json()["error"]
    assert "draft.approved" not in kinds(workspace)


def test_a_passkey_approval_verifies_offline_and_a_rewrite_is_caught(workspace):
    console = setup(workspace, required=2)
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", user="marta")
    client = console.login("ana")
    body, headers = console.sign(client, "ana", f"/drafts/{draft}/approve")
    assert client.post(f"/drafts/{draft}/approve", json=body, headers=headers).status_code == 200
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 0, verified.output
    rewrite_approval(workspace, actor="luis")
    result = workspace.run("log", "verify")
    assert result.exit_code == 1 and "signature" in result.output, result.output


def rewrite_approval(workspace, **changes) -> None:
    """What an attacker holding the file does: rewrite the approval, recompute the chain and head."""
    from publisher.log.store import GENESIS, canonical, chain_hash

    with workspace.db() as db:
        prev, last = GENESIS, 0
        for seq, body in db.execute("SELECT seq, body FROM events ORDER BY seq").fetchall():
            event = json.loads(body)
            if event["kind"] == "draft.approved":
                event.update(changes)
                body = canonical(event)
            digest = chain_hash(prev, body)
            db.execute("UPDATE events SET body = ?, prev = ?, hash = ? WHERE seq = ?", (body, prev, digest, seq))
            prev, last = digest, seq
    (workspace.path / "var" / "publisher.db.head").write_text(
        canonical({"seq": last, "hash": prev, "mac": chain_hash("head", f"{last}:{prev}")}))


def test_sessions_expire(workspace):
    console = setup(workspace)
    client = console.login("vera")
    assert client.get("/").status_code == 200
    console.clock.advance(hours=12, seconds=1)
    answer = client.get("/")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_login_attempts_are_rate_limited(workspace):
    console = setup(workspace)
    client = console.client()
    headers = {"X-CSRF-Token": console.csrf(client)}
    codes = [client.post("/login", json={"response": {}}, headers=headers).status_code for _ in range(11)]
    assert codes[:10] == [409] * 10 and codes[10] == 429


def test_session_cookie_flags(workspace):
    console = setup(workspace)
    key = console.enrol("vera")
    client = console.client()
    headers = {"X-CSRF-Token": console.csrf(client)}
    answer = client.post("/login", json=key.get(client.post("/login/options", headers=headers).json()),
                         headers=headers)
    cookie = [value for name, value in answer.headers.multi_items() if name == "set-cookie"
              and value.startswith("publish_session=")][0].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie and "max-age=43200" in cookie
    assert json.loads(answer.text)["person"] == "vera"


def test_freeze_unfreeze_and_decide_are_signed_by_passkey_and_verify_offline(workspace):
    console = setup(workspace)
    incident = workspace.open_incident(case=4)
    client = console.login("ana")
    for action, fields in (("freeze", {"reason": "leak under review"}), ("unfreeze", {"reason": "cleared"}),
                           ("decide", {"decision": "ignore", "reason": "a provocation"})):
        body, headers = console.sign(client, "ana", f"/incidents/{incident}/{action}", **fields)
        answer = client.post(f"/incidents/{incident}/{action}", json=body, headers=headers)
        assert answer.status_code == 200, answer.text
    events = {event.kind: event for event in console.app.store.events(kind=("freeze", "unfreeze", "incident.decided"))}
    assert {kind: event.data["signature"]["scheme"] for kind, event in events.items()} == \
        {"freeze": "webauthn", "unfreeze": "webauthn", "incident.decided": "webauthn"}
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 0, verified.output
    with workspace.db() as db:
        from publisher.log.store import GENESIS, canonical, chain_hash

        prev, last = GENESIS, 0
        for seq, body in db.execute("SELECT seq, body FROM events ORDER BY seq").fetchall():
            event = json.loads(body)
            if event["kind"] == "incident.decided":
                event["data"]["reason"] = "we never decided this"
                body = canonical(event)
            digest = chain_hash(prev, body)
            db.execute("UPDATE events SET body = ?, prev = ?, hash = ? WHERE seq = ?", (body, prev, digest, seq))
            prev, last = digest, seq
    (workspace.path / "var" / "publisher.db.head").write_text(
        canonical({"seq": last, "hash": prev, "mac": chain_hash("head", f"{last}:{prev}")}))
    assert workspace.run("log", "verify").exit_code == 1


def test_a_viewer_cannot_sign_a_freeze(workspace):
    console = setup(workspace)
    incident = workspace.open_incident(case=4)
    client = console.login("vera")
    headers = {"X-CSRF-Token": console.csrf(client, "/")}
    assert client.post(f"/incidents/{incident}/freeze/options", json={"reason": "x"}, headers=headers).status_code == 403
    assert "freeze" not in kinds(workspace)


def test_a_revoked_passkey_can_no_longer_log_in_or_sign(workspace):
    console = setup(workspace, required=2)
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", user="marta")
    client = console.login("ana")
    assert workspace.run("users", "revoke", "ana", user="luis").exit_code == 0
    assert client.get("/").status_code == 303
    again = console.client()
    headers = {"X-CSRF-Token": console.csrf(again)}
    answer = again.post("/login", json=console.keys["ana"].get(again.post("/login/options", headers=headers).json()),
                        headers=headers)
    assert answer.status_code == 409 and "revoked" in answer.json()["error"]
    assert "draft.approved" not in kinds(workspace) and draft


def test_log_verify_refuses_an_action_signed_after_its_passkey_was_revoked(workspace):
    from publisher.log.store import GENESIS, canonical, chain_hash

    console = setup(workspace, required=2)
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", user="marta")
    client = console.login("ana")
    body, headers = console.sign(client, "ana", f"/drafts/{draft}/approve")
    assert client.post(f"/drafts/{draft}/approve", json=body, headers=headers).status_code == 200
    with workspace.db() as db:
        events = [json.loads(row[0]) for row in db.execute("SELECT body FROM events ORDER BY seq")]
        at = next(i for i, event in enumerate(events) if event["kind"] == "draft.approved")
        credential = events[at]["data"]["signature"]["credential_id"]
        events.insert(at, {**events[at], "kind": "passkey.revoked", "actor": "luis", "draft": None,
                           "data": {"person": "ana", "credential_id": credential}})
        db.execute("DELETE FROM events")
        prev = GENESIS
        for seq, event in enumerate(events, start=1):
            body = canonical({**event, "seq": seq})
            digest = chain_hash(prev, body)
            db.execute("INSERT INTO events (seq, body, prev, hash) VALUES (?, ?, ?, ?)", (seq, body, prev, digest))
            prev = digest
    (workspace.path / "var" / "publisher.db.head").write_text(
        canonical({"seq": len(events), "hash": prev, "mac": chain_hash("head", f"{len(events)}:{prev}")}))
    result = workspace.run("log", "verify")
    assert result.exit_code == 1 and f"row {at + 2}:" in result.output and "signature" in result.output, result.output


def test_an_unknown_delivery_is_confirmed_with_a_passkey_and_verifies(workspace, monkeypatch):
    from tests.fakes.server import FakeServer, Reply

    with FakeServer(lambda request: Reply(200, {"ok": True}, delay=3)) as slow:
        monkeypatch.setenv("HOOK_URL", f"{slow.url}/hook")
        console = setup(workspace)
        path = workspace.path / "config" / "publisher.toml"
        path.write_text(path.read_text(encoding="utf-8") + '\n[channels.hook]\ntype = "webhook"\n'
                        'url = "${HOOK_URL}"\ntimeout = 1\n', encoding="utf-8")
        console = HttpConsole(workspace)
        workspace.open_incident(case=2)
        draft = workspace.render("--case", "2", "--template", "apology", "--channel", "hook", user="marta")
        workspace.run("approve", draft, "--as", "luis")
    client = console.login("ana")
    page = client.get(f"/drafts/{draft}").text
    assert "the outcome is unknown" in page and "Confirm with my passkey" in page
    fields = {"channel": "hook", "url": "https://hooks.example/posts/77"}
    body, headers = console.sign(client, "ana", f"/drafts/{draft}/confirm", **fields)
    answer = client.post(f"/drafts/{draft}/confirm", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    confirmed = console.app.store.events(kind="delivery.confirmed")[0]
    assert confirmed.actor == "ana" and confirmed.data["signature"]["scheme"] == "webauthn"
    assert confirmed.data["url"] == "https://hooks.example/posts/77"
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 0, verified.output
