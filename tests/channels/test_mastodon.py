"""The Mastodon channel driven through requests against a fake Mastodon server on loopback."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from channels.base import DeliveryError, Message, Permanent, Receipt, Retryable, SettingError
from channels.mastodon import MastodonChannel, reset_delay
from tests.channels import case_table
from tests.channels.case_table import assert_loads_no_sdk, run_case, send
from tests.fakes.mastodon_api import (FakeMastodon, bad_gateway, not_allowed, temporary_problem,
                                      too_many_requests)
from tests.fakes.server import Reply

pytestmark = pytest.mark.servers

TOKEN = "CANARY-mastodon-9f8e7d"
SECRETS = frozenset({TOKEN})
TEXT = "Hola. Sabemos que el servicio falla desde las 9:00 y lo estamos arreglando."
KEY = "d-7:social"


@pytest.fixture
def fake():
    with FakeMastodon(TOKEN) as server:
        yield server


def build(fake: FakeMastodon, **overrides) -> MastodonChannel:
    settings = {"type": "mastodon", "instance": fake.url, "token": TOKEN, "timeout": 0.6, **overrides}
    return MastodonChannel.build("social", settings, secrets=SECRETS)


def message(*parts: str, reply_to: str | None = None, sent_parts: tuple[Receipt, ...] = ()) -> Message:
    return Message(draft_id="d-7", channel="social", parts=parts or (TEXT,), title="Incidencia", incident_id="i-1",
                   template="apology", language="es", case=2, reply_to=reply_to, idempotency_key=KEY,
                   sent_parts=sent_parts)


def posts(fake: FakeMastodon) -> list:
    return [request for request in fake.requests if request.path == "/api/v1/statuses"]


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


@dataclass
class Case(case_table.Case):
    """`message` holds the fields for this file's message(), with those `prepare`
    returns ("sent": an id already posted); `check(outcome, fake)` does the rest."""

    def outgoing(self, prepared: dict) -> Message:
        fields = {**self.message, **prepared}
        if "sent" in fields:
            fields["sent_parts"] = (Receipt(fields.pop("sent")),)
        return message(*fields.pop("parts", ()), **fields)


CASES = [
    pytest.param(Case(check=check_success), id="success"),
    pytest.param(Case(settings={"visibility": "unlisted"}, check=check_visibility), id="visibility"),
    pytest.param(Case(prepare=seeded("reply_to", "{id}"), check=check_reply), id="reply-to-id"),
    pytest.param(Case(prepare=seeded("reply_to", "{url}/@acme/{id}"), check=check_reply), id="reply-to-url"),
    pytest.param(Case(prepare=seeded("reply_to", "{url}/users/acme/statuses/{id}"), check=check_reply),
                 id="reply-to-activitypub-url"),
    pytest.param(Case(prepare=seeded("reply_to", "{url}/@someone@elsewhere.social/{id}"), check=check_reply),
                 id="reply-to-remote-post-seen-here"),
    pytest.param(Case(error=Permanent, message={"reply_to": "https://other.example/@bob/109876543210"}, requests=0,
                      check=check_nothing_sent("other.example", "per server")), id="reply-to-other-server"),
    pytest.param(Case(error=Permanent, message={"reply_to": "@bob hello"}, requests=0,
                      check=check_nothing_sent("reply_to")), id="reply-to-unparseable"),
    pytest.param(Case(error=Permanent, message={"reply_to": "109876543210"}, check=says("HTTP 404: Record not found")),
                 id="reply-to-missing-post"),
    pytest.param(Case(message={"parts": ("1/3 uno", "2/3 dos", "3/3 tres")}, requests=3, check=check_thread),
                 id="thread"),
    pytest.param(Case(prepare=seeded("sent", "{id}"), message={"parts": ("1/3 uno", "2/3 dos", "3/3 tres")},
                      requests=2, check=check_resume), id="thread-resumes-after-sent-parts"),
    pytest.param(Case(error=Retryable, prepare=fail_second_post, message={"parts": ("1/2 uno", "2/2 dos")},
                      maybe_delivered=True, requests=2, check=check_midway), id="thread-fails-midway"),
    pytest.param(Case(error=Retryable, reason="rate limit", prepare=rate_limited,
                      retry_after=pytest.approx(89.5, abs=1.5)), id="rate-limit"),
    pytest.param(Case((temporary_problem(),), Retryable, maybe_delivered=True,
                      check=maybe_delivered("temporary problem")), id="server-error-json"),
    pytest.param(Case((bad_gateway(),), Retryable, maybe_delivered=True, check=maybe_delivered("502 Bad Gateway")),
                 id="server-error-html"),
    pytest.param(Case(error=Retryable, prepare=slow, maybe_delivered=True, check=maybe_delivered("no answer")),
                 id="timeout"),
    pytest.param(Case((Reply(reset=True),), Retryable, maybe_delivered=True,
                      check=maybe_delivered("connection broke")), id="connection-reset"),
    pytest.param(Case(error=Permanent, prepare=wrong_token,
                      check=says("access token", "HTTP 401: The access token is invalid")), id="bad-token"),
    pytest.param(Case((not_allowed(),), Permanent, check=says("HTTP 403: This action is not allowed")),
                 id="not-allowed"),
    pytest.param(Case(error=Permanent, settings={"max_length": 1000}, message={"parts": ("x" * 501,)},
                      check=says("HTTP 422: Validation failed: Text character limit of 500 exceeded")), id="too-long"),
    pytest.param(Case((Reply(200, "<html>maintenance</html>", {"Content-Type": "text/html"}),), Retryable,
                      maybe_delivered=True, check=maybe_delivered("without a readable status")),
                 id="malformed-not-json"),
    pytest.param(Case((Reply(200, {"url": "x"}),), Retryable, maybe_delivered=True,
                      check=maybe_delivered("without a readable status")), id="malformed-no-id"),
]


@pytest.mark.parametrize("case", CASES)
def test_send(fake, case):
    run_case(fake, case, build)


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
    assert_loads_no_sdk("channels.mastodon")


def test_no_secret_escapes(caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    for case in CASES:
        with FakeMastodon(TOKEN) as server:
            _, result = send(server, case.values[0], build)
            seen += [repr(result), str(result), repr(getattr(result, "sent_parts", None))]
            channel = build(server, **case.values[0].settings)
            seen += [repr(channel), repr(channel.describe()), str(channel.describe())]
            server.token = "another"
            try:
                channel.check()
            except DeliveryError as error:
                seen += [repr(error), str(error), error.reason]
    seen += [record.getMessage() for record in caplog.records]
    seen += [str(record.args) for record in caplog.records]
    assert seen and not [text for text in seen if TOKEN in text]
