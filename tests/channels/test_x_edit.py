"""Withdrawing from X: `XChannel.delete` through tweepy against the fake X API v2 on
loopback (tests/fakes/x_api.py; each answer names its documentation page). X does not let
apps edit a post, so the channel declares it cannot."""
from __future__ import annotations

import logging

import pytest

from channels.base import DeliveryError, Permanent, Receipt, Retryable
from channels.x import XChannel
from tests.channels.test_x import CREDENTIALS, SECRETS, build, message
from tests.fakes.server import Reply
from tests.fakes.x_api import FakeX, gone, not_permitted, server_error, too_many_requests
from tests.fakes.webhooks import attempt

pytestmark = pytest.mark.servers


@pytest.fixture
def fake():
    with FakeX(*CREDENTIALS.values()) as server:
        yield server


def deletions(fake: FakeX) -> list[str]:
    return [request.path.rsplit("/", 1)[-1] for request in fake.requests if request.method == "DELETE"]


def test_x_deletes_but_does_not_edit():
    assert XChannel.can_delete is True and XChannel.can_edit is False


def test_a_thread_is_deleted_last_part_first(fake):
    channel = build(fake)
    receipt = channel.send(message("1/3 uno", "2/3 dos", "3/3 tres"))
    ids = receipt.extra["part_ids"]
    assert channel.delete(receipt) is None
    assert deletions(fake) == list(reversed(ids))
    assert fake.tweets == {}
    assert all(request.header("Authorization").startswith("OAuth ") for request in fake.requests)


def test_a_post_already_gone_counts_as_deleted(fake):
    channel = build(fake)
    receipt = channel.send(message())
    channel.delete(receipt)
    assert channel.delete(receipt) is None
    assert deletions(fake) == [receipt.id, receipt.id]
    lookups = [r for r in fake.requests if r.method == "GET" and r.path == f"/2/tweets/{receipt.id}"]
    assert len(lookups) == 1


def test_a_404_for_the_post_counts_as_deleted(fake):
    fake.queue(gone("1445880548472328192"))
    assert build(fake).delete(Receipt("1445880548472328192")) is None
    assert deletions(fake) == ["1445880548472328192"]


def test_deleted_false_while_the_post_is_still_there_is_not_a_deletion(fake):
    channel = build(fake)
    receipt = channel.send(message())
    fake.queue(Reply(200, {"data": {"deleted": False}}, {"Content-Type": "application/json"}))
    outcome = attempt(lambda: channel.delete(receipt))
    assert type(outcome) is Retryable and "without deleting it (deleted: false)" in outcome.reason
    assert receipt.id in fake.tweets


def test_missing_write_permission_is_permanent_and_deletes_nothing_more(fake):
    channel = build(fake)
    receipt = channel.send(message("1/2 uno", "2/2 dos"))
    fake.queue(not_permitted())
    outcome = attempt(lambda: channel.delete(receipt))
    assert type(outcome) is Permanent
    assert "does not allow this" in outcome.reason and "oauth1 app permissions" in outcome.reason
    assert deletions(fake) == [receipt.extra["part_ids"][1]] and len(fake.tweets) == 2


def test_a_rate_limit_is_retryable_after_xs_reset(fake):
    fake.queue(too_many_requests(reset_in=300))
    outcome = attempt(lambda: build(fake).delete(Receipt("1445880548472328192")))
    assert type(outcome) is Retryable and "rate limit" in outcome.reason
    assert outcome.retry_after == pytest.approx(298, abs=3)


def test_a_server_error_leaves_the_deletion_open_and_a_retry_finishes_it(fake):
    channel = build(fake)
    receipt = channel.send(message("1/2 uno", "2/2 dos"))
    last = receipt.extra["part_ids"][1]
    fake.queue(server_error(503))
    outcome = attempt(lambda: channel.delete(receipt))
    assert type(outcome) is Retryable and f"post {last} may or may not be deleted" in outcome.reason
    channel.delete(receipt)
    assert fake.tweets == {}


def test_a_receipt_that_names_no_x_post_deletes_nothing(fake):
    outcome = attempt(lambda: build(fake).delete(Receipt("1", extra={"part_ids": ["1", "x-abc"]})))
    assert type(outcome) is Permanent and "'x-abc' is not an X post id" in outcome.reason
    assert fake.requests == []


def test_no_credential_in_any_reason_or_log(fake, caplog):
    caplog.set_level(logging.DEBUG)
    channel = build(fake)
    receipt = channel.send(message())
    seen: list[str] = []
    for reply in (not_permitted(), too_many_requests(), Reply(500, {"title": "Internal Server Error"}),
                  Reply(200, {"data": {"deleted": False}})):
        fake.queue(reply)
        outcome = attempt(lambda: channel.delete(receipt))
        assert isinstance(outcome, DeliveryError)
        seen += [outcome.reason, repr(outcome), str(outcome)]
    fake.credentials = (*list(CREDENTIALS.values())[:3], "rotated")
    refused = attempt(lambda: channel.delete(receipt))
    assert type(refused) is Permanent and "credentials" in refused.reason
    seen += [refused.reason, caplog.text]
    assert not [text for text in seen if any(secret in text for secret in SECRETS)]
