"""Issue 22, item 4: Web Push to the console installed on a phone. The VAPID key pair is
made by `publish notices vapid` (the private key only in the secrets file); a signed-in
member subscribes on /phone; a notice is pushed to the push-service stand-in on loopback
(tests/fakes/push_service.py), which checks the VAPID JWT (RFC 8292) and decrypts the
payload with the subscription's keys (RFC 8291) as the phone would; 404/410 end the
subscription, 429 is said with its Retry-After, and the person is then told by e-mail.
A freeze does not hold Web Push (the console's own path)."""
from __future__ import annotations

import json
import re
import stat

import pytest

from tests.console.support import https_console
from tests.fakes.push_service import FakePushService
from tests.fakes.server import FakeServer, Reply
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_api import FakeTelegram
from tests.test_notices_escalation import LUIS_CHAT, TOKEN, config, mails, render, started_before

pytestmark = pytest.mark.servers


@pytest.fixture
def phone(workspace, monkeypatch):
    """The night's cabinet on https://console.test, VAPID keys made, a push service."""
    with SmtpServer("none") as smtp, FakeTelegram(token=TOKEN) as telegram, FakePushService() as service, \
            FakeServer(lambda request: Reply(200, "ok", {"Content-Type": "text/html"})) as cabinet:
        telegram.chats[str(LUIS_CHAT)] = {"id": LUIS_CHAT, "first_name": "Luis", "type": "private"}
        monkeypatch.setenv("TG_TOKEN", TOKEN)
        monkeypatch.setenv("CABINET_WEBHOOK", f"{cabinet.url}/services/T0/B0/secret")
        console = https_console(workspace, extra=config(smtp, telegram))
        clock = started_before(120)
        console.clock.offset = clock.offset
        console.enrol("ana"), console.enrol("luis")
        for args in (("ana", "--email", "ana@acme.example"), ("luis", "--telegram", str(LUIS_CHAT))):
            added = workspace.run("people", "add", *args, "--as", "ana", clock=console.clock)
            assert added.exit_code == 0, added.output
        made = workspace.run("notices", "vapid", clock=console.clock)
        assert made.exit_code == 0, made.output
        yield console, service, smtp, cabinet, made.output


def public_key(output: str) -> str:
    return re.search(r"([A-Za-z0-9_-]{86,88})\.?$", output.strip()).group(1)


def subscribe(console, service: FakePushService, name: str, key: str) -> tuple[object, dict]:
    client = console.login(name)
    page = client.get("/phone")
    assert page.status_code == 200 and f'data-vapid-key="{key}"' in page.text
    subscription = service.subscribe(key)
    answer = client.post("/phone/subscribe", json={"subscription": subscription, "device": "Pixel 8"},
                         headers={"X-CSRF-Token": console.csrf(client, "/phone")})
    assert answer.status_code == 200, answer.text
    return client, subscription


def test_vapid_keys_are_made_once_and_the_private_key_is_never_shown(workspace, phone):
    console, service, smtp, cabinet, output = phone
    secrets = workspace.path / "config" / "secrets.toml"
    private = re.search(r'PUBLISH_VAPID_KEY = "([\w-]+)"', secrets.read_text()).group(1)
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert private not in output and public_key(output) in output
    again = workspace.run("notices", "vapid")
    assert again.exit_code == 2 and "--replace" in again.output and "Traceback" not in again.output
    stored = "\n".join(body for (body,) in workspace.db().execute("SELECT body FROM events"))
    assert private not in stored


def test_a_rendered_draft_is_pushed_to_the_phone_and_decrypted_there(workspace, phone):
    console, service, smtp, cabinet, output = phone
    key = public_key(output)
    client, subscription = subscribe(console, service, "ana", key)
    assert "Pixel 8" in client.get("/phone").text
    draft = render(workspace, console.clock)
    [pushed] = service.delivered
    assert pushed["endpoint"] == subscription["endpoint"] and pushed["urgency"] == "high"
    assert draft in pushed["payload"]["body"] and "/ack/" in pushed["payload"]["url"]
    assert pushed["payload"]["tag"] == f"rendered:{draft}"
    assert not [to for to, _ in mails(smtp) if to == "ana@acme.example" and draft in _]
    listed = json.loads(workspace.run("notices", "list", "--json").output)
    assert listed[0]["told"] == ["ana"]
    sent = [json.loads(body) for (body,) in workspace.db().execute(
        "SELECT body FROM events WHERE kind = 'notice.sent'")]
    assert "webpush" in json.dumps(sent)
    tapped = client.get(pushed["payload"]["url"].replace("https://console.test", ""))
    assert tapped.status_code == 200 and "I am on it (ana)" in tapped.text


def test_a_gone_subscription_is_dropped_and_the_person_told_by_email(workspace, phone):
    console, service, smtp, cabinet, output = phone
    client, subscription = subscribe(console, service, "ana", public_key(output))
    service.expire(subscription["endpoint"])
    draft = render(workspace, console.clock)
    assert not service.delivered
    assert [to for to, body in mails(smtp) if draft in body] == ["ana@acme.example"]
    kinds = [kind for (kind,) in workspace.db().execute("SELECT kind FROM events WHERE kind LIKE 'push.%'")]
    assert kinds == ["push.subscribed", "push.unsubscribed"]
    assert "Pixel 8" not in client.get("/phone").text


def test_a_rate_limited_push_says_when_and_falls_back(workspace, phone):
    console, service, smtp, cabinet, output = phone
    subscribe(console, service, "ana", public_key(output))
    service.queue(Reply(429, {"code": 429, "errno": 999, "error": "Too Many Requests"}, {"Retry-After": "120"}))
    draft = render(workspace, console.clock)
    assert [to for to, body in mails(smtp) if draft in body] == ["ana@acme.example"]
    assert len(workspace.db().execute("SELECT 1 FROM events WHERE kind = 'push.unsubscribed'").fetchall()) == 0


def test_a_wrong_vapid_key_is_refused_by_the_push_service(workspace, phone):
    console, service, smtp, cabinet, output = phone
    subscribe(console, service, "ana", public_key(output))
    replaced = workspace.run("notices", "vapid", "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert not workspace.run("notices", "list", "--json").output.count("webpush")
    kinds = [kind for (kind,) in workspace.db().execute("SELECT kind FROM events WHERE kind LIKE 'push.%'")]
    assert kinds == ["push.subscribed", "push.unsubscribed"], "new keys end every subscription"


def test_a_bad_subscription_is_one_sentence(workspace, phone):
    console, service, smtp, cabinet, output = phone
    client = console.login("ana")
    headers = {"X-CSRF-Token": console.csrf(client, "/phone")}
    good = service.subscribe(public_key(output))
    for bad, words in (({"endpoint": "ftp://x", "keys": good["keys"]}, "https"),
                       ({**good, "keys": {"p256dh": "AAAA", "auth": good["keys"]["auth"]}}, "P-256"),
                       ("nope", "endpoint and keys")):
        answer = client.post("/phone/subscribe", json={"subscription": bad}, headers=headers)
        assert answer.status_code == 400 and words in answer.json()["error"], answer.text
    assert not workspace.db().execute("SELECT 1 FROM events WHERE kind = 'push.subscribed'").fetchall()


def test_a_freeze_holds_email_but_not_the_push_to_the_console(workspace, phone):
    console, service, smtp, cabinet, output = phone
    subscribe(console, service, "ana", public_key(output))
    frozen = workspace.run("freeze", "--reason", "a leak is traced", "--all", user="ana", clock=console.clock)
    assert frozen.exit_code == 0, frozen.output
    draft = render(workspace, console.clock)
    assert [item["payload"]["tag"] for item in service.delivered] == [f"rendered:{draft}"]
    assert not [body for _, body in mails(smtp) if draft in body] and not cabinet.requests


def test_the_manifest_and_service_worker_are_served(workspace, phone):
    console, service, smtp, cabinet, output = phone
    client = console.client()
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.json()["display"] == "standalone"
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and "showNotification" in worker.text
    assert worker.headers["content-type"].startswith("text/javascript")


def test_a_phone_stops_its_notices(workspace, phone):
    console, service, smtp, cabinet, output = phone
    client, subscription = subscribe(console, service, "ana", public_key(output))
    luis = console.login("luis")
    foreign = luis.post("/phone/unsubscribe", data={"csrf": console.csrf(luis, "/phone"),
                                                     "endpoint": subscription["endpoint"]})
    assert foreign.status_code == 303, "luis ends only his own phones: nothing happens"
    assert "Pixel 8" in client.get("/phone").text
    stopped = client.post("/phone/unsubscribe", data={"csrf": console.csrf(client, "/phone"),
                                                       "endpoint": subscription["endpoint"]})
    assert stopped.status_code == 303 and "Pixel 8" not in client.get("/phone").text
    draft = render(workspace, console.clock)
    assert not service.delivered and [to for to, body in mails(smtp) if draft in body] == ["ana@acme.example"]


def test_a_console_on_plain_http_needs_a_push_contact_and_says_so(workspace, phone):
    console, service, smtp, cabinet, output = phone
    subscribe(console, service, "ana", public_key(output))
    path = workspace.path / "config" / "publisher.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("https://console.test", "http://console.test"),
                    encoding="utf-8")
    draft = render(workspace, console.clock)
    assert not service.delivered and [to for to, body in mails(smtp) if draft in body] == ["ana@acme.example"]
    sent = json.loads(workspace.run("log", "--json").output)
    [notice] = [event["data"] for event in sent if event["kind"] == "notice.sent"]
    assert notice["failed"] == {} and notice["reached"] == {"ana": "mail"}, "ana was reached by e-mail"
    assert "push_contact" in notice["detours"]["ana"], "the push's refusal is kept"
