"""Withdrawing from Bluesky: `BlueskyChannel.delete` through the atproto SDK against the
fake PDS on loopback (tests/fakes/bluesky_pds.py). Answers:
docs.bsky.app/docs/api/com-atproto-repo-delete-record ({commit: {cid, rev}}; the reference
PDS answers a record it does not hold with a no-op 200), docs.bsky.app/docs/advanced-guides/
rate-limits (429 RateLimitExceeded with RateLimit-Reset), and the 403 of a token whose
permissions do not cover the action (packages/oauth-scopes). Bluesky has no edit."""
from __future__ import annotations

import logging
from datetime import datetime

import pytest

from channels.base import DeliveryError, Permanent, Receipt, Retryable
from channels.bluesky import BlueskyChannel
from channels.bluesky_records import POST
from tests.channels.test_bluesky import APP_PASSWORD, DID, build, message
from tests.fakes.bluesky_pds import OTHERS, FakePDS, error, internal_error, rate_limited
from tests.fakes.webhooks import attempt

pytestmark = pytest.mark.servers

DELETE = "com.atproto.repo.deleteRecord"


@pytest.fixture
def fake():
    with FakePDS(APP_PASSWORD) as server:
        yield server


def deleted_keys(fake: FakePDS) -> list[str]:
    return [request.json()["rkey"] for request in fake.requests if request.path == f"/xrpc/{DELETE}"]


def no_permission() -> object:
    return error(403, "Forbidden", 'Missing required scope "repo:app.bsky.feed.post?action=delete"')


def test_bluesky_deletes_but_does_not_edit():
    assert BlueskyChannel.can_delete is True and BlueskyChannel.can_edit is False


def test_a_thread_is_deleted_last_part_first_in_the_accounts_own_repository(fake):
    channel = build(fake)
    receipt = channel.send(message("1/3 uno", "2/3 dos", "3/3 tres"))
    when = channel.delete(receipt)
    keys = [uri.rsplit("/", 1)[1] for uri in receipt.extra["part_ids"]]
    assert deleted_keys(fake) == list(reversed(keys)) and fake.posts() == []
    bodies = [r.json() for r in fake.requests if r.path == f"/xrpc/{DELETE}"]
    assert {(body["repo"], body["collection"]) for body in bodies} == {(DID, POST)}
    assert all(r.header("Authorization").startswith("Bearer ") for r in fake.requests if r.path == f"/xrpc/{DELETE}")
    assert when is not None and abs((datetime.now().astimezone() - datetime.fromisoformat(when)).total_seconds()) < 60


def test_a_post_already_gone_counts_as_deleted(fake):
    channel = build(fake)
    receipt = channel.send(message())
    channel.delete(receipt)
    assert channel.delete(receipt) is None
    assert deleted_keys(fake) == [receipt.id.rsplit("/", 1)[1]] * 2


def test_another_accounts_post_is_never_deleted(fake):
    theirs = fake.seed("No es nuestro.", did=OTHERS["ana.bsky.social"])
    outcome = attempt(lambda: build(fake).delete(Receipt(theirs)))
    assert type(outcome) is Permanent and "is not a post of acme.bsky.social" in outcome.reason
    assert deleted_keys(fake) == [] and theirs in fake.records


def test_a_missing_permission_is_permanent(fake):
    channel = build(fake)
    receipt = channel.send(message())
    fake.fail(DELETE, no_permission())
    outcome = attempt(lambda: channel.delete(receipt))
    assert type(outcome) is Permanent and "does not allow this" in outcome.reason and "action=delete" in outcome.reason
    assert receipt.id in fake.records


def test_a_rate_limit_is_retryable_after_its_reset(fake):
    channel = build(fake)
    receipt = channel.send(message())
    fake.fail(DELETE, rate_limited(reset_in=240))
    outcome = attempt(lambda: channel.delete(receipt))
    assert type(outcome) is Retryable and "rate limit" in outcome.reason
    assert outcome.retry_after == pytest.approx(239, abs=2) and not outcome.maybe_delivered


def test_an_expired_session_is_renewed_once(fake):
    channel = build(fake)
    receipt = channel.send(message())
    fake.expire_sessions()
    channel.delete(receipt)
    assert fake.posts() == [] and len([r for r in fake.requests if r.path.endswith("createSession")]) == 2


def test_the_app_password_and_tokens_never_reach_a_reason_or_a_log(fake, caplog):
    caplog.set_level(logging.DEBUG)
    channel = build(fake)
    receipt = channel.send(message())
    seen: list[str] = []
    for reply in (no_permission(), rate_limited(), internal_error(), error(401, "AuthenticationRequired", APP_PASSWORD)):
        fake.fail(DELETE, reply)
        outcome = attempt(lambda: channel.delete(receipt))
        assert isinstance(outcome, DeliveryError)
        seen += [outcome.reason, repr(outcome)]
    tokens = list(fake.tokens)
    assert not [text for text in seen + [caplog.text] if APP_PASSWORD in text or any(t in text for t in tokens)]
