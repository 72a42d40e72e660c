"""The X channel driven through tweepy against a fake X API v2 on loopback."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from channels.base import DeliveryError, Duplicate, Message, Permanent, Receipt, Retryable
from channels.x import XChannel, rate_limit_delay, snowflake_time
from tests.channels import case_table
from tests.channels.case_table import assert_loads_no_sdk, run_case, send
from tests.fakes.server import Reply
from tests.fakes.x_api import (TOO_MANY, FakeX, client_not_enrolled, created, invalid_request, server_error,
                               too_many_requests)

pytestmark = pytest.mark.servers

CREDENTIALS = {
    "api_key": "CANARY-x-key-9f8e7d",
    "api_secret": "CANARY-x-secret-9f8e7d",
    "access_token": "CANARY-x-token-9f8e7d",
    "access_token_secret": "CANARY-x-tokensecret-9f8e7d",
}
SECRETS = frozenset(CREDENTIALS.values())
DOC_ID = "1445880548472328192"
TEXT = "Hola. Sabemos que el servicio falla desde las 9:00 y lo estamos arreglando."


@pytest.fixture
def fake():
    with FakeX(*CREDENTIALS.values()) as server:
        yield server


def build(fake: FakeX, **overrides) -> XChannel:
    settings = {"type": "x", **CREDENTIALS, "username": "acme_es", "api_url": fake.url, "timeout": 0.6,
                **overrides}
    return XChannel.build("x-main", settings, secrets=SECRETS)


def message(*parts: str, reply_to: str | None = None, sent_parts: tuple[Receipt, ...] = ()) -> Message:
    return Message(draft_id="d-7", channel="x-main", parts=parts or (TEXT,), title="Incidencia", incident_id="i-1",
                   template="apology", language="es", case=2, reply_to=reply_to, idempotency_key="d-7:x-main",
                   sent_parts=sent_parts)


def posts(fake: FakeX) -> list:
    return [request for request in fake.requests if request.path == "/2/tweets"]


def seed(fake: FakeX, text: str) -> None:
    fake.tweets["1500000000000000000"] = {"text": text, "in_reply_to": None, "created_at": "2022-03-05T10:00:00.000Z"}


def check_success(result, fake):
    [request] = posts(fake)
    assert request.method == "POST"
    assert request.json() == {"text": TEXT}
    assert request.header("Content-Type") == "application/json"
    auth = request.header("Authorization")
    assert auth.startswith("OAuth ") and 'oauth_signature_method="HMAC-SHA1"' in auth
    assert result.id in fake.tweets
    assert result.url == f"https://x.com/acme_es/status/{result.id}"
    assert result.platform_time == fake.created_at(result.id)
    assert result.extra == {"part_ids": [result.id]}


def check_documented(result, fake):
    assert (result.id, result.platform_time) == (DOC_ID, "2021-10-06T22:36:00.574Z")


def check_reply(result, fake):
    assert posts(fake)[0].json()["reply"] == {"in_reply_to_tweet_id": DOC_ID}


def check_nothing_sent(error, fake):
    assert fake.requests == [] and "reply_to" in error.reason


def check_thread(result, fake):
    bodies = [request.json() for request in posts(fake)]
    ids = result.extra["part_ids"]
    assert [body["text"] for body in bodies] == ["1/3 uno", "2/3 dos", "3/3 tres"]
    assert "reply" not in bodies[0]
    assert [body["reply"]["in_reply_to_tweet_id"] for body in bodies[1:]] == ids[:2]
    assert result.id == ids[0] and [fake.tweets[i]["text"] for i in ids] == ["1/3 uno", "2/3 dos", "3/3 tres"]


def check_resume(result, fake):
    bodies = [request.json() for request in posts(fake)]
    assert [body["text"] for body in bodies] == ["2/3 dos", "3/3 tres"]
    assert bodies[0]["reply"]["in_reply_to_tweet_id"] == DOC_ID
    assert result.id == DOC_ID and result.extra["part_ids"][0] == DOC_ID and len(result.extra["part_ids"]) == 3


def check_midway(error, fake):
    assert [receipt.id for receipt in error.sent_parts] == [DOC_ID] and error.maybe_delivered
    assert posts(fake)[1].json()["reply"]["in_reply_to_tweet_id"] == DOC_ID


def check_no_signal(error, fake):
    assert error.retry_after is None and not error.maybe_delivered


def maybe_delivered(text):
    def check(error, fake):
        assert error.maybe_delivered and text in error.reason, error.reason
        assert len(posts(fake)) == 1
    return check


def says(*texts, sent=0):
    def check(error, fake):
        assert all(text in error.reason for text in texts), error.reason
        assert len(error.sent_parts) == sent
    return check


def check_duplicate(error, fake):
    assert error.receipt is None and "duplicate content" in error.reason


def check_duplicate_last(error, fake):
    assert error.receipt.id == error.sent_parts[0].id and len(error.sent_parts) == 1


@dataclass
class Case(case_table.Case):
    """`message` holds the fields for this file's message(); `check(outcome, fake)` does the rest."""

    def outgoing(self, prepared: dict) -> Message:
        fields = {**self.message, **prepared}
        return message(*fields.pop("parts", ()), **fields)


CASES = [
    pytest.param(Case(check=check_success), id="success"),
    pytest.param(Case((created(DOC_ID, "Hello world!"),), check=check_documented), id="documented-answer"),
    pytest.param(Case(message={"reply_to": DOC_ID}, check=check_reply), id="reply-to-id"),
    pytest.param(Case(message={"reply_to": f"https://x.com/SomeUser/status/{DOC_ID}?s=20"}, check=check_reply),
                 id="reply-to-x-url"),
    pytest.param(Case(message={"reply_to": f"https://twitter.com/SomeUser/status/{DOC_ID}"}, check=check_reply),
                 id="reply-to-twitter-url"),
    pytest.param(Case(error=Permanent, message={"reply_to": "https://facebook.com/acme/posts/1"}, requests=0,
                      check=check_nothing_sent), id="reply-to-unparseable"),
    pytest.param(Case(message={"parts": ("1/3 uno", "2/3 dos", "3/3 tres")}, requests=3, check=check_thread),
                 id="thread"),
    pytest.param(Case(message={"parts": ("1/3 uno", "2/3 dos", "3/3 tres"), "sent_parts": (Receipt(DOC_ID),)},
                      requests=2, check=check_resume), id="thread-resumes-after-sent-parts"),
    pytest.param(Case((created(DOC_ID, "1/2"), server_error(503)), Retryable, message={"parts": ("1/2", "2/2")},
                      maybe_delivered=True, requests=2, check=check_midway), id="thread-fails-midway"),
    pytest.param(Case(error=Retryable, reason="rate limit", prepare=lambda f: f.queue(too_many_requests(reset_in=120)),
                      retry_after=pytest.approx(118, abs=3)), id="rate-limit-15-minutes"),
    pytest.param(Case(error=Retryable, reason="rate limit",
                      prepare=lambda f: f.queue(too_many_requests(reset_in=60, remaining=40, daily_reset_in=7200)),
                      retry_after=pytest.approx(7195.5, abs=5.5)), id="rate-limit-24-hours"),
    pytest.param(Case((Reply(429, TOO_MANY),), Retryable, check=check_no_signal), id="rate-limit-without-headers"),
    pytest.param(Case((server_error(503),), Retryable, maybe_delivered=True,
                      check=maybe_delivered("Service Unavailable")), id="server-error"),
    pytest.param(Case(error=Retryable, prepare=lambda f: f.slow_once(1.0), maybe_delivered=True,
                      check=maybe_delivered("no answer")), id="timeout"),
    pytest.param(Case((Reply(reset=True),), Retryable, maybe_delivered=True,
                      check=maybe_delivered("connection broke")), id="connection-reset"),
    pytest.param(Case(error=Permanent,
                      prepare=lambda f: setattr(f, "credentials", (*list(CREDENTIALS.values())[:3], "rotated")),
                      check=says("credentials", "HTTP 401: Unauthorized")), id="bad-token"),
    pytest.param(Case(error=Duplicate, prepare=lambda f: seed(f, TEXT), check=check_duplicate), id="duplicate"),
    pytest.param(Case(error=Permanent, prepare=lambda f: seed(f, "2/3 dos"),
                      message={"parts": ("1/3 uno", "2/3 dos", "3/3 tres")}, requests=2,
                      check=says("part 2 of 3", sent=1)), id="duplicate-inside-thread"),
    pytest.param(Case(error=Duplicate, prepare=lambda f: seed(f, "2/2 dos"), message={"parts": ("1/2 uno", "2/2 dos")},
                      requests=2, check=check_duplicate_last), id="duplicate-last-part"),
    pytest.param(Case((client_not_enrolled(),), Permanent, check=says("HTTP 403", "attached to a Project")),
                 id="forbidden-not-enrolled"),
    pytest.param(Case((invalid_request("reply.in_reply_to_tweet_id", "1", "`1` is not a valid id"),), Permanent,
                      message={"reply_to": "1"}, check=says("invalid", "is not a valid id")), id="invalid-request"),
    pytest.param(Case((Reply(201, "<html>upstream</html>", {"Content-Type": "text/html"}),), Retryable,
                      maybe_delivered=True, check=maybe_delivered("not JSON")), id="malformed-not-json"),
    pytest.param(Case((Reply(201, {"data": {"text": TEXT}}),), Retryable, maybe_delivered=True,
                      check=maybe_delivered("no post id")), id="malformed-no-id"),
]


@pytest.mark.parametrize("case", CASES)
def test_send(fake, case):
    run_case(fake, case, build)


def test_retry_after_timeout_finds_the_post_already_there(fake):
    channel = build(fake)
    fake.slow_once(1.0)
    with pytest.raises(Retryable) as first:
        channel.send(message())
    assert first.value.maybe_delivered
    with pytest.raises(Duplicate) as second:
        channel.send(message())
    assert second.value.receipt is None
    assert len(fake.tweets) == 1 and len(posts(fake)) == 2


def test_check_names_the_account(fake):
    assert build(fake).check() == "X credentials work for @acme_es"
    [request] = fake.requests
    assert (request.method, request.path) == ("GET", "/2/users/me")
    assert build(fake, username="@ACME_ES").check().endswith("@acme_es")


def test_check_fails_on_bad_token_or_wrong_account(fake):
    with pytest.raises(Permanent, match="username is set to someone_else"):
        build(fake, username="someone_else").check()
    fake.credentials = ("k", "s", "t", "ts")
    with pytest.raises(Permanent, match="credentials"):
        build(fake).check()
    assert all(request.method == "GET" for request in fake.requests)


def test_url_without_username_still_opens_the_post(fake):
    channel = XChannel.build("x", {"type": "x", **CREDENTIALS, "api_url": fake.url}, secrets=SECRETS)
    receipt = channel.send(message())
    assert receipt.url == f"https://x.com/i/web/status/{receipt.id}"


def test_rate_limit_delay_uses_the_latest_exhausted_limit():
    headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1000",
               "x-user-limit-24hour-remaining": "0", "x-user-limit-24hour-reset": "5000",
               "x-app-limit-24hour-remaining": "12", "x-app-limit-24hour-reset": "9000"}
    assert rate_limit_delay(headers, now=900) == 4100
    assert rate_limit_delay({"x-rate-limit-reset": "1000", "x-rate-limit-remaining": "3"}, now=900) == 100
    assert rate_limit_delay({"x-rate-limit-reset": "soon"}, now=900) is None
    assert rate_limit_delay({"x-rate-limit-reset": "800"}, now=900) == 0


def test_snowflake_time_is_exact():
    assert snowflake_time(DOC_ID) == "2021-10-06T22:36:00.574Z"
    assert snowflake_time(str(((1700000000123 - 1288834974657) << 22) | 4095)) == "2023-11-14T22:13:20.123Z"


def test_declared_shape_and_masked_description(fake):
    assert (XChannel.type, XChannel.variant, XChannel.max_length, XChannel.counting, XChannel.overflow) == (
        "x", "short", 280, "x", "thread")
    assert XChannel.supports_reply and XChannel.idempotent
    assert {key for key, option in XChannel.options.items() if option.secret} == set(CREDENTIALS)
    shown = build(fake).describe()
    assert {shown[key] for key in CREDENTIALS} == {"****"}
    assert shown["username"] == "acme_es" and shown["timeout"] == 0.6
    defaults = XChannel.build("x", {"type": "x", **CREDENTIALS}).describe()
    assert defaults["api_url"] == "https://api.twitter.com" and defaults["timeout"] == 20


def test_import_loads_no_sdk():
    assert_loads_no_sdk("channels.x")


def test_no_secret_escapes(caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    for case in CASES:
        with FakeX(*CREDENTIALS.values()) as server:
            _, result = send(server, case.values[0], build)
            seen += [repr(result), str(result), repr(getattr(result, "receipt", None)),
                     repr(getattr(result, "sent_parts", None))]
            channel = build(server)
            seen += [repr(channel), repr(channel.describe()), str(channel.describe())]
            server.credentials = ("k", "s", "t", "ts")
            try:
                channel.check()
            except DeliveryError as error:
                seen += [repr(error), str(error), error.reason]
    seen += [record.getMessage() for record in caplog.records]
    seen += [str(record.args) for record in caplog.records]
    assert seen and not [text for text in seen if any(secret in text for secret in SECRETS)]
