"""Facebook's `feed` webhook at /hooks/facebook, through the console's real HTTP server
(uvicorn on loopback) and real requests: the subscription challenge, a signed delivery
stored once, forged and unsigned ones refused with nothing stored, the body bounded, and
no secret in any answer."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import requests

from publisher.workspace.app import App
from tests.console.support import configure, free_port, running_console

pytestmark = [pytest.mark.servers, pytest.mark.both_stores]

APP_SECRET = "CANARY-fbhook-appsecret-8d2e"
VERIFY = "CANARY-fbhook-verify-8d2e"
TOKEN = "CANARY-fbhook-pagetoken-8d2e"
PAGE = "104857600123456"
POST = f"{PAGE}_987654321000001"
SOURCES = f"""
[channels.facebook]
type = "facebook"
page_id = "{PAGE}"
token = "${{FB_TOKEN}}"

[listen.facebook]
type = "facebook"
channel = "facebook"
app_secret = "${{FB_APP_SECRET}}"
verify_token = "${{FB_VERIFY_TOKEN}}"
"""


def delivery(*values: dict, page: str = PAGE) -> bytes:
    """A `feed` notification as Facebook sends it (developers.facebook.com/docs/graph-api/webhooks/
    reference/page/#feed)."""
    changes = [{"field": "feed", "value": value} for value in values]
    return json.dumps({"object": "page", "entry": [{"id": page, "time": 1767229200, "changes": changes}]}).encode()


def comment(number: int, message: str = "¿Cuándo vuelve el agua?", verb: str = "add", **more) -> dict:
    return {"from": {"id": "6098765432", "name": "Vecina <img src=x>"}, "post": {"id": POST, "status_type":
            "mobile_status_update", "is_published": True}, "message": message, "post_id": POST,
            "comment_id": f"987654321000001_{number}", "created_time": 1767229200 + number, "item": "comment",
            "parent_id": POST, "verb": verb, **more}


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def hook(workspace, monkeypatch):
    monkeypatch.setenv("FB_TOKEN", TOKEN)
    monkeypatch.setenv("FB_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("FB_VERIFY_TOKEN", VERIFY)
    port = free_port()
    configure(workspace, port, extra=SOURCES)
    with running_console(workspace.path, port):
        yield f"http://127.0.0.1:{port}/hooks/facebook"


def heard(workspace) -> list:
    return App(workspace.path).store.heard()


def no_secret_in(answer: requests.Response) -> None:
    for secret in (APP_SECRET, VERIFY, TOKEN):
        assert secret not in answer.text and secret not in str(answer.headers)


def test_the_subscription_challenge_is_echoed_only_for_the_verify_token(hook, workspace):
    check = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": VERIFY}
    answer = requests.get(hook, params=check, timeout=5)
    assert answer.status_code == 200 and answer.text == "1158201444"
    wrong = requests.get(hook, params={**check, "hub.verify_token": VERIFY + "x"}, timeout=5)
    assert wrong.status_code == 403 and "verify_token" in wrong.text and "\n" not in wrong.text.strip()
    reflected = requests.get(hook, params={**check, "hub.challenge": "<script>alert(1)</script>"}, timeout=5)
    assert reflected.status_code == 400 and "<script>" not in reflected.text
    assert requests.get(hook, params={**check, "hub.mode": "unsubscribe"}, timeout=5).status_code == 400
    for answer in (wrong, reflected):
        no_secret_in(answer)
    assert heard(workspace) == []


def test_a_signed_delivery_is_stored_once_as_heard_items(hook, workspace):
    body = delivery(comment(1), comment(2, "gracias", verb="edited"),
                    {"item": "reaction", "verb": "add", "post_id": POST, "reaction_type": "angry"})
    answer = requests.post(hook, data=body, timeout=5, headers={"Content-Type": "application/json",
                                                                 "X-Hub-Signature-256": signature(body)})
    assert answer.status_code == 200, answer.text
    again = requests.post(hook, data=body, timeout=5, headers={"X-Hub-Signature-256": signature(body)})
    assert again.status_code == 200
    [event] = heard(workspace)
    item = event.data
    assert (item["source"], item["platform"], item["id"]) == ("facebook", "facebook", "987654321000001_1")
    assert item["text"] == "¿Cuándo vuelve el agua?" and item["author"] == "Vecina <img src=x>"
    assert item["answers"] == POST and item["platform_time"] == "2026-01-01T01:00:01+00:00"
    assert item["url"] == f"https://www.facebook.com/{PAGE}/posts/987654321000001?comment_id=1"
    assert App(workspace.path).store.verify().ok


def test_a_forged_or_unsigned_delivery_is_refused_and_nothing_is_stored(hook, workspace):
    body = delivery(comment(3))
    forged = requests.post(hook, data=body, timeout=5,
                           headers={"X-Hub-Signature-256": signature(body, "not-the-app-secret")})
    assert forged.status_code == 403 and "signature" in forged.text
    tampered = requests.post(hook, data=body.replace(b"agua", b"AGUA"), timeout=5,
                             headers={"X-Hub-Signature-256": signature(body)})
    assert tampered.status_code == 403
    unsigned = requests.post(hook, data=body, timeout=5)
    assert unsigned.status_code == 401 and "X-Hub-Signature-256" in unsigned.text
    sha1_only = requests.post(hook, data=body, timeout=5, headers={
        "X-Hub-Signature": "sha1=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha1).hexdigest()})
    assert sha1_only.status_code == 401
    for answer in (forged, tampered, unsigned, sha1_only):
        no_secret_in(answer)
        assert len(answer.text.strip().splitlines()) == 1
    assert heard(workspace) == []


def test_an_oversized_delivery_is_refused_unread(hook, workspace):
    from channels.facebook_hook import MAX_BODY

    body = delivery(comment(4, "x" * (MAX_BODY + 10)))
    answer = requests.post(hook, data=body, timeout=5, headers={"X-Hub-Signature-256": signature(body)})
    assert answer.status_code == 413
    assert heard(workspace) == []


def test_a_signed_body_that_is_not_a_notification_is_refused(hook, workspace):
    for body in (b"not json", b"[1, 2]"):
        answer = requests.post(hook, data=body, timeout=5, headers={"X-Hub-Signature-256": signature(body)})
        assert answer.status_code == 400
    other_page = delivery(comment(5), page="999")
    answer = requests.post(hook, data=other_page, timeout=5,
                           headers={"X-Hub-Signature-256": signature(other_page)})
    assert answer.status_code == 200 and heard(workspace) == []
