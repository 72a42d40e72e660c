"""A server certificate that does not verify is a permanent failure that names the
certificate problem, on every HTTPS channel, against real TLS servers on 127.0.0.1.

The certificates are made at test time (`tests/fakes/tls.py`, with `cryptography`): a
test authority this machine is told to trust (`REQUESTS_CA_BUNDLE` for requests,
`SSL_CERT_FILE` for httpx), a certificate it signed for another host name, one for the
right names that expired yesterday, and a self-signed one nobody vouches for. A TLS
failure that is not the certificate's (a plain-HTTP server on the other end) stays a
retryable one."""
from __future__ import annotations

import json

import pytest

from channels import http
from channels.base import Message, Permanent, Retryable
from channels.bluesky import BlueskyChannel
from channels.mastodon import MastodonChannel
from channels.telegram import TelegramChannel
from channels.webhook import WebhookChannel
from tests.delivery_support import delivery_events
from tests.fakes.bluesky_pds import FakePDS
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.server import FakeServer, Reply
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.tls import Authority, self_signed, server_context
from tests.fakes.webhooks import ReceiverFake, attempt

pytestmark = pytest.mark.servers

SECRET = "CANARYtls7e3d9a41"
TG_TOKEN = f"7012345678:{SECRET}"
EXPECTED = {
    "other-name": "names another host (hostname mismatch: ",
    "self-signed": "is not trusted (untrusted issuer: self-signed certificate)",
    "expired": "is out of date (certificate has expired)",
}


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    authority = Authority(folder)
    return authority, {
        "trusted": authority.issue("localhost", "127.0.0.1", stem="trusted"),
        "other-name": authority.issue("status.other.example", stem="other-name"),
        "expired": authority.issue("localhost", "127.0.0.1", stem="expired", expired=True),
        "self-signed": self_signed(folder, "localhost", "127.0.0.1"),
    }


@pytest.fixture
def trusting(certificates, monkeypatch):
    """This machine trusts the test authority, and nothing else changes what it trusts."""
    authority, _ = certificates
    for name in ("CURL_CA_BUNDLE", "SSL_CERT_DIR", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(authority.path))
    monkeypatch.setenv("SSL_CERT_FILE", str(authority.path))
    return certificates[1]


def serving(fake, certificate):
    return fake.use_tls(server_context(*certificate))


def _post(url: str):
    return http.send("POST", url, body=b'{"text": "Service restored."}', headers={"Content-Type": "application/json"},
                     timeout=5, redact=lambda text: text.replace(SECRET, "***"))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
@pytest.mark.parametrize("problem", sorted(EXPECTED))
def test_a_certificate_that_does_not_verify_is_permanent_and_named(trusting, problem, host):
    with serving(FakeServer(lambda request: Reply(200, {"id": "1"})), trusting[problem]) as server:
        outcome = attempt(lambda: _post(server.url.replace("127.0.0.1", host) + f"/hooks/{SECRET}"))
    assert type(outcome) is Permanent, outcome
    assert outcome.reason.startswith(f"the TLS certificate of {host} {EXPECTED[problem]}")
    assert "nothing was sent, and retrying cannot fix it" in outcome.reason
    assert SECRET not in outcome.reason and "/hooks" not in outcome.reason
    assert server.requests == []


def test_a_certificate_for_the_right_name_from_a_trusted_authority_is_used(trusting):
    with serving(FakeServer(lambda request: Reply(201, {"id": "evt_1"})), trusting["trusted"]) as server:
        answer = _post(f"{server.url}/hooks/{SECRET}")
    assert answer.json() == {"id": "evt_1"} and [r.path for r in server.requests] == [f"/hooks/{SECRET}"]


def test_a_tls_failure_that_is_not_the_certificate_stays_retryable(trusting):
    with FakeServer(lambda request: Reply(200, {"id": "1"})) as plain:
        outcome = attempt(lambda: _post(plain.url.replace("http://", "https://") + "/hooks/a"))
    assert type(outcome) is Retryable and outcome.maybe_delivered is False
    assert "TLS handshake" in outcome.reason and "certificate" not in outcome.reason


MESSAGE = Message(draft_id="d-9", channel="any", parts=("«Acme Pay» vuelve a funcionar.",), title="Aviso",
                  incident_id="1", template="update", language="es", case=2, idempotency_key="k-9")


def _webhook(fake):
    return WebhookChannel.build("hook", {"type": "webhook", "url": f"{fake.url}/hooks/incident?token={SECRET}"},
                                secrets=frozenset({SECRET}))


def _mastodon(fake):
    return MastodonChannel.build("social", {"type": "mastodon", "instance": fake.url, "token": SECRET},
                                 secrets=frozenset({SECRET}))


def _telegram(fake):
    return TelegramChannel.build("tg", {"type": "telegram", "token": TG_TOKEN, "chat": "@citywater",
                                        "api_url": fake.url, "timeout": 5}, secrets=frozenset({TG_TOKEN}))


def _bluesky(fake):
    return BlueskyChannel.build("bsky", {"type": "bluesky", "handle": "acme.bsky.social", "app_password": SECRET,
                                         "api_url": fake.url, "timeout": 5}, secrets=frozenset({SECRET}))


CHANNELS = {
    "webhook": (ReceiverFake, _webhook),
    "bluesky": (lambda: FakePDS(SECRET), _bluesky),
    "mastodon": (lambda: FakeMastodon(SECRET), _mastodon),
    "telegram": (lambda: FakeTelegram(token=TG_TOKEN), _telegram),
}


@pytest.mark.parametrize("problem", ["other-name", "self-signed"])
@pytest.mark.parametrize("kind", sorted(CHANNELS))
def test_every_https_channel_fails_permanently_on_send_and_check(trusting, kind, problem):
    make_fake, build = CHANNELS[kind]
    with serving(make_fake(), trusting[problem]) as fake:
        channel = build(fake)
        sent, checked = attempt(lambda: channel.send(MESSAGE)), attempt(channel.check)
    assert type(sent) is Permanent, sent
    assert EXPECTED[problem] in sent.reason and SECRET not in sent.reason
    if kind != "webhook":
        assert type(checked) is Permanent and EXPECTED[problem] in checked.reason
    assert fake.requests == []


@pytest.mark.parametrize("problem", sorted(EXPECTED))
def test_the_httpx_bridge_names_the_certificate_problem(trusting, problem):
    """An httpx client on `channels.httpx_bridge` (what the atproto SDK is given) gets the
    same Permanent as requests-based channels, before anything reaches the server."""
    import httpx

    from channels.httpx_bridge import transport

    with serving(FakeServer(lambda request: Reply(200, {"ok": True})), trusting[problem]) as server:
        client = httpx.Client(transport=transport(5, lambda text: text.replace(SECRET, "***")))
        outcome = attempt(lambda: client.post(f"{server.url}/xrpc/{SECRET}", json={"a": 1}))
    assert type(outcome) is Permanent, outcome
    assert outcome.reason.startswith(f"the TLS certificate of 127.0.0.1 {EXPECTED[problem]}")
    assert SECRET not in outcome.reason and server.requests == []


def test_bluesky_trusts_a_certificate_from_the_configured_authority(trusting):
    with serving(FakePDS(SECRET), trusting["trusted"]) as fake:
        described = _bluesky(fake).check()
    assert described.startswith("Bluesky app password works for @acme.bsky.social")


def test_publish_send_records_one_permanent_failure_and_never_says_it_resumes(workspace, trusting):
    receiver = serving(ReceiverFake(), trusting["other-name"]).start()
    try:
        workspace.write_config(extra='\n[channels.hook]\ntype = "webhook"\nurl = "${HOOK_URL}"\n')
        env = {"HOOK_URL": f"{receiver.url}/hooks/incident?token={SECRET}"}
        workspace.open_incident(case=2)
        draft = workspace.render("--case", "2", "--template", "apology", env=env)
        approved = workspace.run("approve", draft, "--as", "ana", env=env)
        again = workspace.run("send", draft, env=env)
        status = workspace.run("status", "1", env=env)
    finally:
        receiver.stop()
    assert approved.exit_code == 1 and again.exit_code == 1
    for output in (approved.output, again.output):
        assert "hostname mismatch" in output and SECRET not in output
        assert f"`publish send {draft}` resumes" not in output
        assert f"publish send {draft} --retry hook" in output
    assert "failed-permanent" in status.output or "hostname mismatch" in status.output
    assert workspace.sleeps == [] and receiver.requests == []
    events = delivery_events(workspace, "hook")
    assert [event["kind"] for event in events] == ["delivery.started", "delivery.failed"]
    failed = events[-1]["data"]
    assert failed["error"] == "permanent" and "hostname mismatch" in failed["reason"]
    assert SECRET not in json.dumps(events)
