"""SlackChannel against a fake hooks.slack.com answering like the real one."""
from __future__ import annotations

import logging
from typing import Any

import pytest

from channels.base import Permanent, Retryable
from channels.slack import SlackChannel
from tests.fakes.server import Reply
from tests.channels.case_table import Case, assert_loads_no_sdk, fake_fixtures, refused_url, replay, run_case
from tests.fakes.webhooks import HTML, SlackFake, attempt, make_message, slack_rate_limited, slack_reply

pytestmark = pytest.mark.servers

CANARY = "CANARY-slack-9f8e7d6c5b4a"
HOOK = f"/services/T0ABC1234/B0DEF5678/{CANARY}"
URL = f"https://hooks.slack.com{HOOK}"


server, fake = fake_fixtures(lambda: SlackFake(HOOK))


def build(fake: SlackFake, secrets: frozenset[str] = frozenset({CANARY}), **settings: Any) -> SlackChannel:
    raw = {"type": "slack", "webhook_url": URL, "api_url": fake.url, "timeout": 2, **settings}
    return SlackChannel.build("ops-slack", raw, secrets=secrets)


CASES = [
    pytest.param(Case(), id="success"),
    pytest.param(Case(message={"title": ""}), id="success-without-title"),
    pytest.param(Case((slack_rate_limited(30),), Retryable, "429 rate_limited", retry_after=30), id="rate-limited"),
    pytest.param(Case((slack_reply("rollup_error"),), Retryable, "500 rollup_error: Slack had an internal error"),
                 id="rollup-error"),
    pytest.param(Case((Reply(503, "<html>Service Unavailable</html>", {**HTML, "Retry-After": "12"}),),
                      Retryable, "HTTP 503", retry_after=12), id="unavailable"),
    pytest.param(Case((Reply(504, "<html>Gateway Timeout</html>", HTML),), Retryable, "HTTP 504",
                      maybe_delivered=True), id="gateway-timeout"),
    pytest.param(Case((Reply(delay=1.0, body="ok"),), Retryable, "no answer", maybe_delivered=True,
                      settings={"timeout": 0.3}), id="timeout"),
    pytest.param(Case((Reply(reset=True),), Retryable, "connection broke", maybe_delivered=True), id="reset"),
    pytest.param(Case(error=Permanent, reason="403 invalid_token: the token in the webhook URL is not valid",
                      settings={"webhook_url": URL.replace(CANARY, "CANARY-slack-0000000000000")}),
                 id="bad-token"),
    pytest.param(Case(error=Permanent, reason="404 no_service",
                      settings={"webhook_url": URL.replace("B0DEF5678", "B0GONE000")}), id="webhook-removed"),
    pytest.param(Case(error=Permanent, reason="410 channel_is_archived",
                      prepare=lambda fake: setattr(fake, "archived", True)), id="channel-archived"),
    pytest.param(Case((slack_reply("action_prohibited"),), Permanent, "403 action_prohibited"), id="prohibited"),
    pytest.param(Case((slack_reply("channel_not_found"),), Permanent, "404 channel_not_found"), id="channel-gone"),
    pytest.param(Case((slack_reply("invalid_payload"),), Permanent, "400 invalid_payload"), id="invalid-payload"),
    pytest.param(Case((Reply(200, "<html><body>Sign in</body></html>", HTML),), Retryable, "without its usual 'ok'",
                      maybe_delivered=True), id="malformed-success"),
    pytest.param(Case((Reply(302, "", {"Location": f"https://login.example.com/?next={CANARY}"}),), Permanent,
                      "redirected (HTTP 302)"), id="redirect"),
    pytest.param(Case(error=Permanent, reason="Slack truncates", message={"parts": ("x" * 40_001,)}, requests=0),
                 id="too-long"),
]


@pytest.mark.parametrize("case", CASES)
def test_send(fake: SlackFake, case: Case) -> None:
    outcome = run_case(fake, case, build)
    if case.error is None:
        request = fake.requests[0]
        assert (request.method, request.path) == ("POST", HOOK)
        assert request.header("Content-Type").startswith("application/json")
        message = make_message(**case.message)
        expected = f"*{message.title}*\n{message.text}" if message.title else message.text
        assert request.json() == {"text": expected}
        assert outcome.id.startswith("slack-") and outcome.url is None
        assert outcome.platform_time and outcome.platform_time.endswith("+00:00")
        assert outcome.extra == {"part_ids": [outcome.id]}


def test_receipt_id_is_stable_across_retries(fake: SlackFake) -> None:
    channel = build(fake)
    first, second = channel.send(make_message()), channel.send(make_message())
    assert first.id == second.id
    assert channel.send(make_message(draft_id="d-other")).id != first.id


def test_text_is_sent_byte_for_byte(fake: SlackFake) -> None:
    text = "Störung behoben — <https://status.example> & *nicht* 🚨\n\n  two spaces"
    build(fake).send(make_message(text, title=""))
    assert fake.requests[0].json()["text"] == text


def test_connection_refused_is_not_delivered() -> None:
    channel = SlackChannel.build("ops-slack", {"type": "slack", "webhook_url": URL,
                                               "api_url": refused_url(), "timeout": 1})
    outcome = attempt(lambda: channel.send(make_message()))
    assert isinstance(outcome, Retryable) and outcome.maybe_delivered is False


@pytest.mark.parametrize("url, api_url, problem", [
    (URL, None, None),
    ("https://hooks.slack-gov.com/services/T1/B2/abc", None, None),
    (URL, "http://127.0.0.1:9", None),
    ("http://hooks.slack.com/services/T1/B2/abc", None, "must use https"),
    ("https://hooks.example.com/services/T1/B2/abc", None, "which does not serve"),
    ("https://hooks.slack.com/triggers/T1/B2", None, "does not look like"),
    ("hooks.slack.com/services/T1/B2/abc", None, "not an http(s) URL"),
])
def test_check_inspects_the_url_only(fake: SlackFake, url: str, api_url: str | None, problem: str | None) -> None:
    raw = {"type": "slack", "webhook_url": url, **({"api_url": api_url} if api_url else {})}
    channel = SlackChannel.build("ops-slack", raw, secrets=frozenset({CANARY}))
    outcome = attempt(channel.check)
    if problem is None:
        assert isinstance(outcome, str) and "nothing was posted" in outcome
    else:
        assert isinstance(outcome, Permanent) and problem in outcome.reason
    assert CANARY not in str(outcome)
    assert fake.requests == []


def test_declares_its_shape() -> None:
    assert (SlackChannel.type, SlackChannel.variant, SlackChannel.counting, SlackChannel.overflow) == (
        "slack", "long", "chars", "reject")
    assert SlackChannel.idempotent is False and SlackChannel.supports_reply is False
    assert SlackChannel.options["webhook_url"].secret and SlackChannel.options["webhook_url"].required


def test_import_loads_no_sdk() -> None:
    assert_loads_no_sdk("channels.slack")


@pytest.mark.parametrize("secrets", [frozenset({CANARY}), frozenset({URL})], ids=["token-secret", "url-secret"])
def test_canary_never_leaks(fake: SlackFake, caplog: pytest.LogCaptureFixture, secrets: frozenset[str]) -> None:
    caplog.set_level(logging.DEBUG)
    channel, seen = replay(fake, CASES, build, secrets, caplog)
    assert channel.describe()["webhook_url"] == "https://hooks.slack.com/****"
    assert not [text for text in seen + [caplog.text] if CANARY in text]
