"""Correcting and withdrawing a Facebook Page post: `FacebookChannel.edit` and `.delete`
through facebook-sdk against the fake Graph API on loopback (tests/fakes/graph_api.py).
Answers: developers.facebook.com/docs/graph-api/reference/page-post/ (Updating: POST
/{post-id} with `message`, Deleting: DELETE /{post-id}, both `{"success": true}`),
.../docs/graph-api/guides/error-handling (code 100 subcode 33 for an object that does
not exist or cannot be loaded, #200 a missing permission, #32 the Page rate limit with the
X-Business-Use-Case-Usage header)."""
from __future__ import annotations

import logging

import pytest

from channels.base import DeliveryError, Permanent, Receipt, Retryable
from channels.facebook import FacebookChannel
from tests.channels.test_facebook import CANARY, FIRST, PAGE, POST_URL, build, message
from tests.fakes.graph_api import FakeGraph
from tests.fakes.webhooks import attempt

pytestmark = pytest.mark.servers

CORRECTED = "Tap water is safe to drink again in every district except Norte."


@pytest.fixture
def fake():
    with FakeGraph(page_id=PAGE, token=CANARY) as server:
        yield server


def sent(fake: FakeGraph) -> list[tuple[str, str, dict]]:
    return [(r.method, r.path, {**{k: v[-1] for k, v in r.query.items()}, **(r.form() if r.body else {})})
            for r in fake.requests]


def rate_limited() -> object:
    return FakeGraph.error(400, 32, "(#32) Page request limit reached", headers=FakeGraph.usage(7, PAGE))


def test_facebook_edits_and_deletes():
    assert FacebookChannel.can_edit is True and FacebookChannel.can_delete is True


def test_an_edit_replaces_the_posts_text_in_place(fake):
    channel = build(fake)
    receipt = channel.send(message())
    edited = channel.edit(receipt, message(CORRECTED))
    assert (edited.id, edited.url, edited.extra) == (FIRST, POST_URL, {"part_ids": [FIRST]})
    assert sent(fake)[-1] == ("POST", f"/v25.0/{FIRST}", {"message": CORRECTED, "access_token": CANARY})
    assert [post["message"] for post in fake.posts] == [CORRECTED]


def test_a_deletion_removes_the_post_and_a_repeated_one_counts_as_done(fake):
    channel = build(fake)
    receipt = channel.send(message())
    assert channel.delete(receipt) is None
    assert fake.posts == [] and sent(fake)[-1] == ("DELETE", f"/v25.0/{FIRST}", {"access_token": CANARY})
    before = len(fake.requests)
    assert channel.delete(receipt) is None
    again = [(method, path) for method, path, _ in sent(fake)[before:]]
    assert again == [("DELETE", f"/v25.0/{FIRST}"), ("GET", f"/v25.0/{PAGE}"), ("GET", f"/v25.0/{FIRST}")]


def test_a_comment_made_as_a_reply_is_deleted_too(fake):
    fake.add_post("Boil water before drinking.")
    channel = build(fake)
    reply = channel.send(message(reply_to=FIRST))
    channel.delete(reply)
    assert fake.comments == [] and len(fake.posts) == 1


def test_a_post_that_is_gone_cannot_be_edited(fake):
    outcome = attempt(lambda: build(fake).edit(Receipt(FIRST), message(CORRECTED)))
    assert type(outcome) is Permanent
    assert outcome.reason.startswith(f"Facebook says post {FIRST} does not exist or this token may not edit it")
    assert "(code 100, subcode 33)" in outcome.reason


def test_an_edit_takes_one_part_for_one_post(fake):
    outcome = attempt(lambda: build(fake).edit(Receipt(FIRST), message("one", "two")))
    assert type(outcome) is Permanent and "one part" in outcome.reason and fake.requests == []


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_a_missing_permission_is_permanent(fake, action):
    channel = build(fake)
    receipt = channel.send(message())
    fake.read_only = True
    outcome = attempt(lambda: channel.edit(receipt, message(CORRECTED)) if action == "edit"
                      else channel.delete(receipt))
    assert type(outcome) is Permanent
    assert "the Page token lacks a permission: (#200) Permissions error (code 200)" in outcome.reason
    assert [post["message"] for post in fake.posts] == [message().parts[0]]


def test_a_refusal_that_may_be_a_permission_is_not_taken_for_a_deletion(fake):
    channel = build(fake)
    receipt = channel.send(message())
    fake.token = "rotated-token"
    fake.queue(FakeGraph.error(400, 100, "Unsupported delete request.", kind="GraphMethodException", subcode=33))
    outcome = attempt(lambda: channel.delete(receipt))
    assert type(outcome) is Permanent and "Page token" in outcome.reason and len(fake.posts) == 1


def test_does_not_exist_for_a_post_that_is_still_there_is_not_a_deletion(fake):
    channel = build(fake)
    receipt = channel.send(message())
    fake.queue(FakeGraph.error(400, 100, "Unsupported delete request.", kind="GraphMethodException", subcode=33))
    outcome = attempt(lambda: channel.delete(receipt))
    assert type(outcome) is Permanent
    assert outcome.reason.startswith(f"Facebook still shows post {FIRST} but refuses to delete it with this token")
    assert len(fake.posts) == 1


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_a_rate_limit_is_retryable_after_the_usage_headers_wait(fake, action):
    channel = build(fake)
    receipt = channel.send(message())
    fake.queue(rate_limited())
    outcome = attempt(lambda: channel.edit(receipt, message(CORRECTED)) if action == "edit"
                      else channel.delete(receipt))
    assert type(outcome) is Retryable and "rate limiting" in outcome.reason and outcome.retry_after == 420
    assert len(fake.posts) == 1


def test_the_token_never_reaches_a_reason_or_a_log(fake, caplog):
    caplog.set_level(logging.DEBUG)
    channel = build(fake)
    receipt = channel.send(message())
    seen: list[str] = []
    for reply in (rate_limited(), FakeGraph.error(400, 190, f"Invalid OAuth access token {CANARY}"),
                  FakeGraph.error(500, 1, "An unknown error occurred", is_transient=True)):
        for action in (lambda: channel.edit(receipt, message(CORRECTED)), lambda: channel.delete(receipt)):
            fake.queue(reply)
            outcome = attempt(action)
            assert isinstance(outcome, DeliveryError)
            seen += [outcome.reason, repr(outcome)]
    assert CANARY not in " ".join(seen) + caplog.text
