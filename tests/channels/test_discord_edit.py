"""Correcting and withdrawing a Discord webhook message: `DiscordChannel.edit` and
`.delete` against the fake discord.com on loopback (tests/fakes/webhooks.py). Answers:
discord.com/developers/docs/resources/webhook#edit-webhook-message (PATCH, 200 with the
Message) and #delete-webhook-message (DELETE, 204 No Content); the JSON error codes of
discord.com/developers/docs/topics/opcodes-and-status-codes (10008 Unknown Message, 10015
Unknown Webhook, 50013 Missing Permissions); the 429 body and headers of
discord.com/developers/docs/topics/rate-limits."""
from __future__ import annotations

import logging

import pytest

from channels.base import DeliveryError, Permanent, Receipt, Retryable
from channels.discord import DiscordChannel
from tests.channels.case_table import fake_fixtures
from tests.channels.test_discord import CANARY, HOOK, PARTS, URL, WEBHOOK_ID, build
from tests.fakes.server import Reply
from tests.fakes.webhooks import DiscordFake, attempt, discord_rate_limited, discord_reply, make_message

pytestmark = pytest.mark.servers

server, fake = fake_fixtures(lambda: DiscordFake(WEBHOOK_ID, CANARY))
CORRECTED = ("(1/3) First part, corrected.", "(2/3) Second part — ünïcödé 🚨.", "(3/3) Last part, corrected.")
MISSING_PERMISSIONS = discord_reply(403, "Missing Permissions", 50013)


def calls(fake: DiscordFake, method: str) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] for r in fake.requests if r.method == method]


def test_discord_edits_and_deletes() -> None:
    assert DiscordChannel.can_edit is True and DiscordChannel.can_delete is True


def test_the_send_asks_discord_to_wait_so_the_message_id_is_known(fake: DiscordFake) -> None:
    receipt = build(fake).send(make_message())
    assert fake.requests[0].query == {"wait": ["true"]} and receipt.id == fake.messages[0]["id"]


def test_an_edit_replaces_every_part_in_place(fake: DiscordFake) -> None:
    channel = build(fake)
    receipt = channel.send(make_message(*PARTS))
    edited = channel.edit(receipt, make_message(*CORRECTED))
    ids = receipt.extra["part_ids"]
    patches = [r for r in fake.requests if r.method == "PATCH"]
    assert [r.path for r in patches] == [f"{HOOK}/messages/{i}" for i in ids]
    assert [r.json() for r in patches] == [{"content": part, "allowed_mentions": {"parse": []}} for part in CORRECTED]
    assert [m["content"] for m in fake.messages] == list(CORRECTED)
    assert (edited.id, edited.extra) == (ids[0], {"part_ids": ids})
    assert edited.platform_time == fake.messages[0]["edited_timestamp"]


def test_an_edit_needs_as_many_parts_as_messages(fake: DiscordFake) -> None:
    channel = build(fake)
    receipt = channel.send(make_message(*PARTS))
    outcome = attempt(lambda: channel.edit(receipt, make_message("one part")))
    assert type(outcome) is Permanent and "1 parts but the Discord post has 3 messages" in outcome.reason
    assert calls(fake, "PATCH") == []


def test_a_deletion_removes_every_part_last_first_and_a_repeat_counts_as_done(fake: DiscordFake) -> None:
    channel = build(fake)
    receipt = channel.send(make_message(*PARTS))
    channel.delete(receipt)
    assert calls(fake, "DELETE") == list(reversed(receipt.extra["part_ids"])) and fake.messages == []
    channel.delete(receipt)
    assert len(calls(fake, "DELETE")) == 6


def test_a_message_that_is_gone_cannot_be_edited(fake: DiscordFake) -> None:
    outcome = attempt(lambda: build(fake).edit(Receipt("1180000000000000123"), make_message()))
    assert type(outcome) is Permanent and "no longer has message 1180000000000000123" in outcome.reason


def test_a_message_sent_without_an_id_cannot_be_touched(fake: DiscordFake) -> None:
    fake.then(Reply(204, None))
    receipt = build(fake).send(make_message())
    for action in (lambda: build(fake).edit(receipt, make_message()), lambda: build(fake).delete(receipt)):
        outcome = attempt(action)
        assert type(outcome) is Permanent and "is not a Discord message id" in outcome.reason
    assert len(fake.requests) == 1


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_missing_permissions_and_an_unknown_webhook_are_permanent(fake: DiscordFake, action: str) -> None:
    channel = build(fake)
    receipt = channel.send(make_message())
    run = (lambda c: c.edit(receipt, make_message("x"))) if action == "edit" else (lambda c: c.delete(receipt))
    fake.then(MISSING_PERMISSIONS)
    outcome = attempt(lambda: run(channel))
    assert type(outcome) is Permanent and "code 50013: Missing Permissions" in outcome.reason
    gone = attempt(lambda: run(build(fake, webhook_url=URL.replace(WEBHOOK_ID, "1180000000000000000"))))
    assert type(gone) is Permanent and "code 10015: Unknown Webhook" in gone.reason
    assert len(fake.messages) == 1


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_a_rate_limit_is_retryable_after_discords_wait(fake: DiscordFake, action: str) -> None:
    channel = build(fake)
    receipt = channel.send(make_message())
    fake.then(discord_rate_limited(2.5))
    outcome = attempt(lambda: channel.edit(receipt, make_message("x")) if action == "edit"
                      else channel.delete(receipt))
    assert type(outcome) is Retryable and outcome.retry_after == 2.5
    assert f"so the {'edit' if action == 'edit' else 'deletion'} of message {receipt.id} was not sent" in outcome.reason


def test_a_webhook_posting_into_a_thread_edits_and_deletes_there(fake: DiscordFake) -> None:
    channel = build(fake, webhook_url=f"{URL}?thread_id=1190000000000000001")
    receipt = channel.send(make_message())
    channel.edit(receipt, make_message("corrected"))
    channel.delete(receipt)
    touched = [r for r in fake.requests if r.method in ("PATCH", "DELETE")]
    assert [r.query for r in touched] == [{"thread_id": ["1190000000000000001"]}] * 2
    assert fake.messages == []


def test_the_webhook_token_never_reaches_a_reason_or_a_log(fake: DiscordFake, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    channel = build(fake)
    receipt = channel.send(make_message())
    seen: list[str] = []
    for reply in (MISSING_PERMISSIONS, discord_rate_limited(1), discord_reply(500, f"boom {CANARY}", 0),
                  Reply(200, "<html>cached</html>", {"Content-Type": "text/html"})):
        for action in (lambda: channel.edit(receipt, make_message("x")), lambda: channel.delete(receipt)):
            fake.then(reply)
            outcome = attempt(action)
            if isinstance(outcome, DeliveryError):
                seen += [outcome.reason, repr(outcome)]
    assert seen and CANARY not in " ".join(seen) + caplog.text
