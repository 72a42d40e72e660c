"""DiscordChannel against a fake discord.com answering like the real one."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from channels.base import Permanent, Receipt, Retryable
from channels.discord import DiscordChannel
from tests.fakes.server import Reply
from tests.channels import case_table
from tests.channels.case_table import assert_loads_no_sdk, fake_fixtures, replay, run_case
from tests.fakes.webhooks import HTML, DiscordFake, attempt, discord_rate_limited, discord_reply, make_message

pytestmark = pytest.mark.servers

CANARY = "CANARY-discord-9f8e7d6c5b4a"
WEBHOOK_ID = "1180000000000000999"
HOOK = f"/api/webhooks/{WEBHOOK_ID}/{CANARY}"
URL = f"https://discord.com{HOOK}"
PARTS = ("(1/3) First part.", "(2/3) Second part — ünïcödé 🚨.", "(3/3) Last part.")


server, fake = fake_fixtures(lambda: DiscordFake(WEBHOOK_ID, CANARY),
                             after_reset=lambda server: setattr(server, "guild_id", None))


def build(fake: DiscordFake, secrets: frozenset[str] = frozenset({CANARY}), **settings: Any) -> DiscordChannel:
    raw = {"type": "discord", "webhook_url": URL, "api_url": fake.url, "timeout": 2, **settings}
    return DiscordChannel.build("ops-discord", raw, secrets=secrets)


@dataclass
class Case(case_table.Case):
    """`replies` is a script (`DiscordFake.then`): None lets the fake answer normally."""

    sent: int = 0

    def load(self, fake: DiscordFake) -> None:
        fake.then(*self.replies)


def single(receipt: Receipt, fake: DiscordFake) -> None:
    posted = fake.messages[0]
    assert (receipt.id, receipt.url, receipt.platform_time) == (posted["id"], None, posted["timestamp"])
    assert receipt.extra == {"part_ids": [posted["id"]]}


def with_guild(receipt: Receipt, fake: DiscordFake) -> None:
    assert receipt.url == f"https://discord.com/channels/1170000000000000042/{fake.channel_id}/{receipt.id}"


def split(receipt: Receipt, fake: DiscordFake) -> None:
    assert [r.json()["content"] for r in fake.requests] == list(PARTS)
    assert receipt.id == fake.messages[0]["id"]
    assert receipt.extra["part_ids"] == [m["id"] for m in fake.messages]


def continued(receipt: Receipt, fake: DiscordFake) -> None:
    assert [r.json()["content"] for r in fake.requests] == list(PARTS[1:])
    assert receipt.id == "1111" and receipt.extra["part_ids"] == ["1111"] + [m["id"] for m in fake.messages]


def no_wait(receipt: Receipt, fake: DiscordFake) -> None:
    assert receipt.id.startswith("discord-") and receipt.url is None and receipt.platform_time is None


INVALID_FORM = discord_reply(400, "Invalid Form Body", 50035, {"content": {"_errors": [
    {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}})

CASES = [
    pytest.param(Case(check=single), id="success"),
    pytest.param(Case(prepare=lambda f: setattr(f, "guild_id", "1170000000000000042"), check=with_guild),
                 id="success-with-guild-link"),
    pytest.param(Case(message={"parts": PARTS}, requests=3, check=split), id="split"),
    pytest.param(Case(message={"parts": PARTS, "sent_parts": (Receipt("1111"),)}, requests=2, check=continued),
                 id="split-continues-after-sent-parts"),
    pytest.param(Case((None, discord_rate_limited(1.5)), Retryable, "rate limiting this webhook, so part 2 of 3 was not sent",
                      retry_after=1.5, message={"parts": PARTS}, requests=2, sent=1), id="split-fails-midway"),
    pytest.param(Case((None, Reply(502, "<html>Bad Gateway</html>", HTML)), Retryable, "HTTP 502",
                      message={"parts": PARTS, "sent_parts": (Receipt("1111"),)}, requests=2, sent=1),
                 id="continued-split-fails-with-every-sent-part"),
    pytest.param(Case(message={"parts": PARTS}, requests=3, check=split,
                      prepare=lambda f: (setattr(f, "remaining", 1), setattr(f, "reset_after", 0.1))),
                 id="split-waits-for-empty-bucket"),
    pytest.param(Case(error=Retryable, reason="used up for 30.0 s", retry_after=30.0, message={"parts": PARTS},
                      sent=1, prepare=lambda f: (setattr(f, "remaining", 1), setattr(f, "reset_after", 30))),
                 id="split-stops-on-long-bucket-reset"),
    pytest.param(Case((Reply(204, None),), check=no_wait), id="no-content-answer"),
    pytest.param(Case((discord_rate_limited(1.234),), Retryable, "asks to wait 1.234 s", retry_after=1.234),
                 id="rate-limited-body-preferred"),
    pytest.param(Case((discord_rate_limited(7.5, is_global=True),), Retryable, "global limit", retry_after=7.5),
                 id="rate-limited-global"),
    pytest.param(Case((Reply(429, "<html>Error 1015</html>", {**HTML, "Retry-After": "60"}),), Retryable,
                      "rate limiting", retry_after=60), id="rate-limited-by-cloudflare"),
    pytest.param(Case((discord_reply(500, "500: Internal Server Error", 0),), Retryable, "HTTP 500"),
                 id="server-error"),
    pytest.param(Case((Reply(504, "<html>Gateway Time-out</html>", HTML),), Retryable, "HTTP 504",
                      maybe_delivered=True), id="gateway-timeout"),
    pytest.param(Case((Reply(delay=1.0, body={}),), Retryable, "no answer", maybe_delivered=True,
                      settings={"timeout": 0.3}), id="timeout"),
    pytest.param(Case((Reply(reset=True),), Retryable, "connection broke", maybe_delivered=True), id="reset"),
    pytest.param(Case(error=Permanent, reason="HTTP 401, code 50027: Invalid Webhook Token",
                      settings={"webhook_url": URL.replace(CANARY, "CANARY-discord-00000000000")}), id="bad-token"),
    pytest.param(Case(error=Permanent, reason="code 10015: Unknown Webhook — Discord does not know this webhook",
                      settings={"webhook_url": URL.replace(WEBHOOK_ID, "1180000000000000000")}), id="unknown-webhook"),
    pytest.param(Case((INVALID_FORM,), Permanent, "code 50035: Invalid Form Body (content: Must be 2000 or fewer"),
                 id="invalid-form-body"),
    pytest.param(Case((discord_reply(403, "Missing Permissions", 50013),), Permanent, "Missing Permissions"),
                 id="missing-permissions"),
    pytest.param(Case((Reply(200, {"content": "x", "channel_id": "1"}),), Retryable, "without a message id",
                      maybe_delivered=True), id="malformed-success"),
    pytest.param(Case((Reply(200, "<html>cached page</html>", HTML),), Retryable, "without a message id",
                      maybe_delivered=True), id="non-json-success"),
]


@pytest.mark.parametrize("case", CASES)
def test_send(fake: DiscordFake, case: Case) -> None:
    outcome = run_case(fake, case, build)
    first = fake.requests[0]
    path = urlsplit(case.settings.get("webhook_url", URL)).path
    assert (first.method, first.path, first.query) == ("POST", path, {"wait": ["true"]})
    if case.error is None:
        body = first.json()
        assert body["allowed_mentions"] == {"parse": []} and "username" not in body
        return
    earlier = [receipt.id for receipt in case.message.get("sent_parts", ())]
    assert [r.id for r in outcome.sent_parts] == earlier + [m["id"] for m in fake.messages][:case.sent]


def test_paces_parts_when_bucket_is_empty(fake: DiscordFake) -> None:
    fake.remaining, fake.reset_after = 1, 0.2
    started = time.monotonic()
    build(fake).send(make_message(*PARTS[:2]))
    assert time.monotonic() - started >= 0.2


def test_username_and_verbatim_content(fake: DiscordFake) -> None:
    text = "@everyone Störung — **behoben** <#123> 🚨\n\n  spaces"
    build(fake, username="Acme Status").send(make_message(text))
    assert fake.requests[0].json() == {"content": text, "allowed_mentions": {"parse": []}, "username": "Acme Status"}


def test_no_content_ids_differ_per_part(fake: DiscordFake) -> None:
    fake.then(Reply(204, None), Reply(204, None))
    receipt = build(fake).send(make_message(*PARTS[:2]))
    assert len(set(receipt.extra["part_ids"])) == 2


def test_check_reads_the_webhook_without_posting(fake: DiscordFake) -> None:
    outcome = build(fake).check()
    assert outcome == f"Discord webhook 'Status bot' is valid and posts to channel {fake.channel_id}"
    assert [(r.method, r.path) for r in fake.requests] == [("GET", HOOK)]
    assert fake.messages == []


@pytest.mark.parametrize("url, error, problem", [
    (URL.replace(CANARY, "CANARY-discord-00000000000"), Permanent, "Invalid Webhook Token"),
    (URL.replace(WEBHOOK_ID, "1180000000000000000"), Permanent, "Unknown Webhook"),
    (f"https://discord.com/api/hooks/{WEBHOOK_ID}/{CANARY}", Permanent, "does not look like"),
])
def test_check_failures(fake: DiscordFake, url: str, error: type, problem: str) -> None:
    outcome = attempt(build(fake, webhook_url=url).check)
    assert isinstance(outcome, error) and problem in outcome.reason and CANARY not in outcome.reason


def test_check_refuses_foreign_host_without_request(fake: DiscordFake) -> None:
    channel = DiscordChannel.build("d", {"type": "discord", "webhook_url": f"https://example.com{HOOK}"},
                                   secrets=frozenset({CANARY}))
    outcome = attempt(channel.check)
    assert isinstance(outcome, Permanent) and "example.com" in outcome.reason and fake.requests == []


def test_declares_its_shape() -> None:
    assert (DiscordChannel.type, DiscordChannel.variant, DiscordChannel.max_length, DiscordChannel.counting,
            DiscordChannel.overflow) == ("discord", "long", 2000, "utf16", "split")
    assert DiscordChannel.idempotent is False and DiscordChannel.supports_reply is False
    assert DiscordChannel.options["webhook_url"].secret


def test_import_loads_no_sdk() -> None:
    assert_loads_no_sdk("channels.discord")


@pytest.mark.parametrize("secrets", [frozenset({CANARY}), frozenset({URL})], ids=["token-secret", "url-secret"])
def test_canary_never_leaks(fake: DiscordFake, caplog: pytest.LogCaptureFixture, secrets: frozenset[str]) -> None:
    caplog.set_level(logging.DEBUG)
    channel, seen = replay(fake, CASES, build, secrets, caplog)
    seen.append(str(attempt(build(fake, secrets, webhook_url=URL.replace(WEBHOOK_ID, "1180000000000000000")).check)))
    assert channel.describe()["webhook_url"] == "https://discord.com/****"
    assert not [text for text in seen + [caplog.text] if CANARY in text]
