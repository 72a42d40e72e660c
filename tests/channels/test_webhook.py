"""WebhookChannel against a fake receiver that honours Idempotency-Key."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest

from channels.base import Duplicate, Permanent, Retryable, SettingError
from channels.webhook import WebhookChannel
from tests.fakes.server import Reply
from tests.channels import case_table
from tests.channels.case_table import assert_loads_no_sdk, fake_fixtures, replay, run_case
from tests.fakes.webhooks import HTML, ReceiverFake, attempt, make_message

pytestmark = pytest.mark.servers

CANARY = "CANARY-webhook-9f8e7d"
HEADER_CANARY = "CANARY-webhook-hdr-5c4b3a"
URL = f"https://tools.example.org/hooks/incident?token={CANARY}"
HEADERS = {"Authorization": f"Bearer {HEADER_CANARY}", "X-Source": "publish"}
KEY = make_message().idempotency_key


server, fake = fake_fixtures(lambda: ReceiverFake(authorization=HEADERS["Authorization"]))


def build(fake: ReceiverFake, secrets: frozenset[str] = frozenset({CANARY}), **settings: Any) -> WebhookChannel:
    raw = {"type": "webhook", "url": URL, "headers": HEADERS, "api_url": fake.url, "timeout": 2, **settings}
    return WebhookChannel.build("ops-hook", raw, secrets=secrets)


def expected_payload(**fields: Any) -> dict:
    message = make_message(**fields)
    return {"draft": message.draft_id, "channel": message.channel, "incident": message.incident_id,
            "case": message.case, "template": message.template, "language": message.language,
            "title": message.title, "text": message.text, "parts": list(message.parts),
            "reply_to": message.reply_to, "idempotency_key": message.idempotency_key}


@dataclass
class Case(case_table.Case):
    receipt: tuple[str, str | None] = ("evt_0001", "https://status.example.org/events/evt_0001")


CASES = [
    pytest.param(Case(), id="success"),
    pytest.param(Case(message={"parts": ("(1/2) first", "(2/2) second"), "reply_to": "https://x.com/a/status/1"}),
                 id="success-with-parts-and-reply-to"),
    pytest.param(Case((Reply(204, None),), receipt=(KEY, None)), id="no-content"),
    pytest.param(Case((Reply(200, "OK", {"Content-Type": "text/plain"}),), receipt=(KEY, None)), id="non-json-success"),
    pytest.param(Case((Reply(202, {"status": "queued", "url": "ftp://nope"}),), receipt=(KEY, None)),
                 id="json-success-without-id"),
    pytest.param(Case((Reply(200, {"id": 981, "url": "https://status.example.org/e/981"}),),
                      receipt=("981", "https://status.example.org/e/981")), id="numeric-id"),
    pytest.param(Case(error=Duplicate, reason="HTTP 409", prepare=lambda f: f.seen.update({KEY: "evt_0042"})),
                 id="duplicate"),
    pytest.param(Case((Reply(429, {"error": "slow down"}, {"Retry-After": "20"}),), Retryable, "HTTP 429",
                      retry_after=20), id="rate-limited"),
    pytest.param(Case((Reply(503, "<html>maintenance</html>", {**HTML, "Retry-After": "5"}),), Retryable,
                      "HTTP 503", retry_after=5), id="unavailable"),
    pytest.param(Case((Reply(500, {"error": "boom"}),), Retryable, "HTTP 500: {\"error\": \"boom\"}"),
                 id="server-error"),
    pytest.param(Case((Reply(504, "", {}),), Retryable, "HTTP 504", maybe_delivered=True), id="gateway-timeout"),
    pytest.param(Case((Reply(delay=1.0, status=201, body={}),), Retryable, "no answer", maybe_delivered=True,
                      settings={"timeout": 0.3}), id="timeout"),
    pytest.param(Case((Reply(reset=True),), Retryable, "connection broke", maybe_delivered=True), id="reset"),
    pytest.param(Case(error=Permanent, reason="HTTP 401: {\"error\": \"unauthorized\"}",
                      settings={"headers": {**HEADERS, "Authorization": "Bearer CANARY-webhook-hdr-000000"}}),
                 id="bad-token"),
    pytest.param(Case((Reply(400, {"error": "bad header", "got": f"Bearer {HEADER_CANARY}", "url": URL}),),
                      Permanent, '"got": "***", "url": "https://tools.example.org/hooks/incident?token=***"'),
                 id="error-echoes-secrets"),
    pytest.param(Case((Reply(422, {"error": "title is required"}),), Permanent, "title is required"),
                 id="validation-error"),
    pytest.param(Case((Reply(301, "", {"Location": "https://new.example.org/hooks"}),), Permanent,
                      "redirected (HTTP 301)"), id="redirect"),
]


@pytest.mark.parametrize("case", CASES)
def test_send(fake: ReceiverFake, case: Case) -> None:
    outcome = run_case(fake, case, build)
    request = fake.requests[0]
    assert (request.method, request.path, request.query) == ("POST", "/hooks/incident", {"token": [CANARY]})
    assert request.header("Idempotency-Key") == KEY
    assert request.header("X-Source") == "publish"
    assert request.json() == expected_payload(**case.message)
    if case.error is None:
        assert request.header("Authorization") == HEADERS["Authorization"]
        assert request.header("Content-Type").startswith("application/json")
        assert (outcome.id, outcome.url) == case.receipt
        assert outcome.platform_time and outcome.extra == {"part_ids": [outcome.id]}
    elif isinstance(outcome, Duplicate):
        assert outcome.receipt is not None and outcome.receipt.id == "evt_0042"


def test_resend_is_answered_as_duplicate(fake: ReceiverFake) -> None:
    channel = build(fake)
    first = channel.send(make_message())
    second = attempt(lambda: channel.send(make_message()))
    assert isinstance(second, Duplicate) and second.receipt.id == first.id == "evt_0001"


def test_message_without_key_gets_a_stable_one(fake: ReceiverFake) -> None:
    channel = build(fake)
    receipt = channel.send(make_message(idempotency_key=""))
    sent = fake.requests[0]
    assert receipt.id == "evt_0001"
    assert sent.header("Idempotency-Key") == sent.json()["idempotency_key"]
    assert sent.header("Idempotency-Key").startswith("webhook-")
    fake.reset()
    channel.send(make_message(idempotency_key=""))
    assert fake.requests[0].header("Idempotency-Key") == sent.header("Idempotency-Key")


@pytest.mark.parametrize("url, problem", [
    ("https://tools.example.org/hooks/incident", None),
    ("http://10.0.0.5:8080/hook", None),
    ("ftp://tools.example.org/hook", "not an http(s) URL"),
    ("https:///hook", "not an http(s) URL"),
    ("tools.example.org/hook", "not an http(s) URL"),
])
def test_check_inspects_the_url_only(fake: ReceiverFake, url: str, problem: str | None) -> None:
    outcome = attempt(WebhookChannel.build("h", {"type": "webhook", "url": url}).check)
    if problem is None:
        assert isinstance(outcome, str) and "nothing was posted" in outcome
    else:
        assert isinstance(outcome, Permanent) and problem in outcome.reason
    assert fake.requests == []


@pytest.mark.parametrize("headers", [{"X-Count": 3}, {"X-Evil": "a\r\nHost: other"}])
def test_headers_must_be_single_line_text(headers: dict) -> None:
    with pytest.raises(SettingError) as raised:
        WebhookChannel.build("h", {"type": "webhook", "url": URL, "headers": headers})
    assert raised.value.key == "headers"


def test_describe_masks_url_and_every_header_value(fake: ReceiverFake) -> None:
    shown = build(fake).describe()
    assert shown["url"] == "https://tools.example.org/****"
    assert shown["headers"] == {"Authorization": "****", "X-Source": "****"}


def test_declares_its_shape() -> None:
    assert (WebhookChannel.type, WebhookChannel.variant, WebhookChannel.counting, WebhookChannel.overflow) == (
        "webhook", "long", "chars", "reject")
    assert WebhookChannel.idempotent is False and WebhookChannel.supports_reply is False
    assert WebhookChannel.options["url"].required and WebhookChannel.options["url"].secret


def test_import_loads_no_sdk() -> None:
    assert_loads_no_sdk("channels.webhook")


@pytest.mark.parametrize("secrets", [frozenset({CANARY}), frozenset({URL}), frozenset()],
                         ids=["token-secret", "url-secret", "no-declared-secret"])
def test_canaries_never_leak(fake: ReceiverFake, caplog: pytest.LogCaptureFixture, secrets: frozenset[str]) -> None:
    caplog.set_level(logging.DEBUG)
    channel, seen = replay(fake, CASES, build, secrets, caplog)
    leaks = [text for text in seen + [caplog.text] if CANARY in text or HEADER_CANARY in text]
    assert not leaks
