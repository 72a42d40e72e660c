"""The Mastodon channel driven through requests against a fake Mastodon server on loopback."""
from __future__ import annotations

import logging
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from channels.base import DeliveryError, Message, Permanent, Receipt, Retryable, SettingError
from channels.mastodon import MastodonChannel, reset_delay
from tests.fakes.mastodon_api import (FakeMastodon, bad_gateway, not_allowed, temporary_problem,
                                      too_many_requests)
from tests.fakes.server import Reply

TOKEN = "CANARY-mastodon-9f8e7d"
SECRETS = frozenset({TOKEN})
TEXT = "Hola. Sabemos que el servicio falla desde las 9:00 y lo estamos arreglando."
KEY = "d-7:social"


@pytest.fixture
def fake():
    with FakeMastodon(TOKEN) as server:
        yield server


def build(fake: FakeMastodon, **overrides) -> MastodonChannel:
    settings = {"type": "mastodon", "instance": fake.url, "token": TOKEN, "timeout": 0.3, **overrides}
    return MastodonChannel.build("social", settings, secrets=SECRETS)


def message(*parts: str, reply_to: str | None = None, sent_parts: tuple[Receipt, ...] = ()) -> Message:
    return Message(draft_id="d-7", channel="social", parts=parts or (TEXT,), title="Incidencia", incident_id="i-1",
                   template="apology", language="es", case=2, reply_to=reply_to, idempotency_key=KEY,
                   sent_parts=sent_parts)


def posts(fake: FakeMastodon) -> list:
    return [request for request in fake.requests if request.path == "/api/v1/statuses"]


def nothing(fake: FakeMastodon) -> dict:
    return {}


def queued(*replies: Reply):
    def setup(fake: FakeMastodon) -> dict:
        fake.queue(*replies)
        return {}
    return setup


def rate_limited(fake: FakeMastodon) -> dict:
    fake.queue(too_many_requests(reset_in=90))
    return {}


def slow(fake: FakeMastodon) -> dict:
    fake.slow_once(1.0)
    return {}


def wrong_token(fake: FakeMastodon) -> dict:
    fake.token = "another"
    return {}


def fail_second_post(fake: FakeMastodon) -> dict:
    answer = fake.handler
    fake.handler = lambda request: temporary_problem() if len(posts(fake)) == 2 else answer(request)
    return {}


def seeded(field: str, form: str):
    """Seed a status and put a reference to it (id or URL form) in the message field."""
    def setup(fake: FakeMastodon) -> dict:
        status_id = fake.seed()
        return {field: form.format(url=fake.url, id=status_id)}
    return setup


def check_success(result, fake):
    [request] = posts(fake)
    assert request.method == "POST"
    assert request.json() == {"status": TEXT, "visibility": "public"}
    assert request.header("Authorization") == f"Bearer {TOKEN}"
    assert request.header("Idempotency-Key") == KEY
    status = fake.statuses[result.id]
    assert (result.url, result.platform_time) == (status["url"], status["created_at"])
    assert result.url == f"{fake.url}/@acme/{result.id}" and result.platform_time.endswith("Z")
    assert result.extra == {"part_ids": [result.id]}


def check_reply(result, fake):
    [seed_id] = [key for key, status in fake.statuses.items() if status["id"] != result.id]
    assert posts(fake)[0].json()["in_reply_to_id"] == seed_id
    assert fake.statuses[result.id]["in_reply_to_id"] == seed_id


def check_nothing_sent(*texts):
    def check(error, fake):
        assert fake.requests == [] and all(text in error.reason for text in texts), error.reason
    return check


def check_thread(result, fake):
    requests = posts(fake)
    ids = result.extra["part_ids"]
    assert [r.json()["status"] for r in requests] == ["1/3 uno", "2/3 dos", "3/3 tres"]
    assert [r.header("Idempotency-Key") for r in requests] == [KEY, f"{KEY}-1", f"{KEY}-2"]
    assert "in_reply_to_id" not in requests[0].json()
    assert [r.json()["in_reply_to_id"] for r in requests[1:]] == ids[:2]
    assert result.id == ids[0] and len(fake.statuses) == 3


def check_resume(result, fake):
    requests = posts(fake)
    assert [r.json()["status"] for r in requests] == ["2/3 dos", "3/3 tres"]
    assert [r.header("Idempotency-Key") for r in requests] == [f"{KEY}-1", f"{KEY}-2"]
    assert result.id == requests[0].json()["in_reply_to_id"] == result.extra["part_ids"][0]


def check_midway(error, fake):
    [first] = error.sent_parts
    assert first.id in fake.statuses and error.maybe_delivered
    assert posts(fake)[1].json()["in_reply_to_id"] == first.id


def retry_after(low, high):
    def check(error, fake):
        assert low <= error.retry_after <= high, error.retry_after
        assert "rate limit" in error.reason and not error.maybe_delivered
    return check


def maybe_delivered(text):
    def check(error, fake):
        assert error.maybe_delivered and text in error.reason, error.reason
        assert len(posts(fake)) == 1
    return check


def says(*texts):
    def check(error, fake):
        assert all(text in error.reason for text in texts), error.reason
        assert not error.sent_parts
    return check


def check_visibility(result, fake):
    assert posts(fake)[0].json()["visibility"] == "unlisted"


CASES = [
    pytest.param(nothing, {}, {}, Receipt, check_success, id="success"),
    pytest.param(nothing, {"visibility": "unlisted"}, {}, Receipt, check_visibility, id="visibility"),
    pytest.param(seeded("reply_to", "{id}"), {}, {}, Receipt, check_reply, id="reply-to-id"),
    pytest.param(seeded("reply_to", "{url}/@acme/{id}"), {}, {}, Receipt, check_reply, id="reply-to-url"),
    pytest.param(seeded("reply_to", "{url}/users/acme/statuses/{id}"), {}, {}, Receipt, check_reply,
                 id="reply-to-activitypub-url"),
    pytest.param(seeded("reply_to", "{url}/@someone@elsewhere.social/{id}"), {}, {}, Receipt, check_reply,
                 id="reply-to-remote-post-seen-here"),
    pytest.param(nothing, {}, {"reply_to": "https://other.example/@bob/109876543210"}, Permanent,
                 check_nothing_sent("other.example", "per server"), id="reply-to-other-server"),
    pytest.param(nothing, {}, {"reply_to": "@bob hello"}, Permanent, check_nothing_sent("reply_to"),
                 id="reply-to-unparseable"),
    pytest.param(nothing, {}, {"reply_to": "109876543210"}, Permanent, says("HTTP 404: Record not found"),
                 id="reply-to-missing-post"),
    pytest.param(nothing, {}, {"parts": ("1/3 uno", "2/3 dos", "3/3 tres")}, Receipt, check_thread, id="thread"),
    pytest.param(seeded("sent", "{id}"), {}, {"parts": ("1/3 uno", "2/3 dos", "3/3 tres")}, Receipt,
                 check_resume, id="thread-resumes-after-sent-parts"),
    pytest.param(fail_second_post, {}, {"parts": ("1/2 uno", "2/2 dos")}, Retryable, check_midway,
                 id="thread-fails-midway"),
    pytest.param(rate_limited, {}, {}, Retryable, retry_after(88, 91),
                 id="rate-limit"),
    pytest.param(queued(temporary_problem()), {}, {}, Retryable,
                 maybe_delivered("temporary problem"), id="server-error-json"),
    pytest.param(queued(bad_gateway()), {}, {}, Retryable, maybe_delivered("502 Bad Gateway"),
                 id="server-error-html"),
    pytest.param(slow, {}, {}, Retryable, maybe_delivered("no answer"), id="timeout"),
    pytest.param(queued(Reply(reset=True)), {}, {}, Retryable,
                 maybe_delivered("connection broke"), id="connection-reset"),
    pytest.param(wrong_token, {}, {}, Permanent,
                 says("access token", "HTTP 401: The access token is invalid"), id="bad-token"),
    pytest.param(queued(not_allowed()), {}, {}, Permanent,
                 says("HTTP 403: This action is not allowed"), id="not-allowed"),
    pytest.param(nothing, {"max_length": 1000}, {"parts": ("x" * 501,)}, Permanent,
                 says("HTTP 422: Validation failed: Text character limit of 500 exceeded"), id="too-long"),
    pytest.param(queued(Reply(200, "<html>maintenance</html>", {"Content-Type": "text/html"})),
                 {}, {}, Retryable, maybe_delivered("without a readable status"), id="malformed-not-json"),
    pytest.param(queued(Reply(200, {"url": "x"})), {}, {}, Retryable,
                 maybe_delivered("without a readable status"), id="malformed-no-id"),
]


def run(fake: FakeMastodon, setup, settings: dict, fields: dict):
    fields = {**fields, **setup(fake)}
    if "sent" in fields:
        fields["sent_parts"] = (Receipt(fields.pop("sent")),)
    parts = fields.pop("parts", ())
    try:
        return build(fake, **settings).send(message(*parts, **fields))
    except DeliveryError as error:
        return error


@pytest.mark.parametrize("setup, settings, fields, expected, check", CASES)
def test_send(fake, setup, settings, fields, expected, check):
    result = run(fake, setup, settings, dict(fields))
    assert type(result) is expected, getattr(result, "reason", result)
    check(result, fake)


def test_retry_after_read_timeout_posts_once(fake):
    channel = build(fake)
    fake.slow_once(1.0)
    with pytest.raises(Retryable) as first:
        channel.send(message())
    assert first.value.maybe_delivered
    receipt = channel.send(message())
    assert len(fake.statuses) == 1 and receipt.id in fake.statuses
    assert [r.header("Idempotency-Key") for r in posts(fake)] == [KEY, KEY]


def test_key_without_idempotency_key_is_still_stable(fake):
    plain = Message(draft_id="d-9", channel="social", parts=("uno", "dos"), title="t", incident_id="i",
                    template="update", language="es", case=1)
    build(fake).send(plain)
    assert [r.header("Idempotency-Key") for r in posts(fake)] == ["d-9-social-0", "d-9-social-1"]


def test_check_verifies_credentials(fake):
    assert build(fake).check() == "Mastodon token works for @acme on 127.0.0.1"
    [request] = fake.requests
    assert (request.method, request.path) == ("GET", "/api/v1/accounts/verify_credentials")
    fake.token = "another"
    with pytest.raises(Permanent, match="The access token is invalid"):
        build(fake).check()


def test_api_url_overrides_where_requests_go(fake):
    channel = build(fake, instance="https://social.example", api_url=fake.url)
    receipt = channel.send(message(reply_to=f"https://social.example/@acme/{fake.seed()}"))
    assert receipt.id in fake.statuses


def test_reset_delay_reads_mastodon_iso_times():
    now = datetime(2020, 9, 8, 13, 20, 0, tzinfo=timezone.utc)
    assert reset_delay("2020-09-08T13:25:00.019685Z", now) == pytest.approx(300.019685)
    assert reset_delay("2020-09-08T13:19:00.000Z", now) == 0
    assert reset_delay(str(int(now.timestamp()) + 30), now) == pytest.approx(30)
    assert reset_delay("soon", now) is None and reset_delay(None, now) is None


def test_declared_shape_settings_and_masked_description(fake):
    assert (MastodonChannel.type, MastodonChannel.variant, MastodonChannel.max_length, MastodonChannel.counting,
            MastodonChannel.overflow) == ("mastodon", "short", 500, "mastodon", "thread")
    assert MastodonChannel.supports_reply and MastodonChannel.idempotent
    assert [key for key, option in MastodonChannel.options.items() if option.secret] == ["token"]
    assert build(fake, max_length=1000).max_length == 1000
    shown = build(fake).describe()
    assert shown["token"] == "****" and shown["visibility"] == "public" and shown["max_length"] == 500
    with pytest.raises(SettingError, match="instance"):
        build(fake, instance="mastodon.social")
    with pytest.raises(SettingError, match="visibility"):
        build(fake, visibility="everyone")


def test_import_loads_no_sdk():
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import channels.mastodon"], cwd=root,
                          capture_output=True, text=True, check=True)
    loaded = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert not loaded & {"requests", "urllib3", "httpx", "tweepy", "telegram", "facebook"}


def test_no_secret_escapes(caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    for case in CASES:
        setup, settings, fields, _, _ = case.values
        with FakeMastodon(TOKEN) as server:
            result = run(server, setup, settings, dict(fields))
            seen += [repr(result), str(result), repr(getattr(result, "sent_parts", None))]
            channel = build(server, **settings)
            seen += [repr(channel), repr(channel.describe()), str(channel.describe())]
            server.token = "another"
            try:
                channel.check()
            except DeliveryError as error:
                seen += [repr(error), str(error), error.reason]
    seen += [record.getMessage() for record in caplog.records]
    seen += [str(record.args) for record in caplog.records]
    assert seen and not [text for text in seen if TOKEN in text]
