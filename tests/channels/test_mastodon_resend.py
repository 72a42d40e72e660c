"""Mastodon keeps an Idempotency-Key for one hour: a resend within that hour relies on
the key, a resend after it looks the post up among the account's statuses first.

The fake server honours the key for one hour like Mastodon (docs.joinmastodon.org/
methods/statuses/#create, "Idempotency keys are stored for up to 1 hour";
PostStatusService's `redis.setex(idempotency_key, 3_600, …)`), on a clock the test moves,
renders each status's `content` as Mastodon does and lists the account's statuses like
`GET /api/v1/accounts/:id/statuses` (docs.joinmastodon.org/methods/accounts/#statuses)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests

from channels.base import Message, Permanent, Receipt, Retryable
from channels.mastodon import CLOCK_MARGIN, KEY_SECONDS, MastodonChannel, lookup_since
from tests.delivery_support import delivery_events
from tests.fakes.mastodon_api import ACCOUNT_ID, FakeMastodon
from tests.fakes.server import Reply

pytestmark = pytest.mark.servers

TOKEN = "CANARY-mastodon-resend-3e1f"
KEY = "idem-d-7-social"
TEXT = ("Pedimos disculpas: «Acme Pay» & <tarjetas> fallan desde las 9:00.\n\n"
        "Seguimos en https://acme.example/estado/incidencias/2026/pagos-con-tarjeta y con @soporte@social.example 💳")
HOUR = timedelta(hours=1)


@pytest.fixture
def fake():
    with FakeMastodon(TOKEN) as server:
        yield server


def build(fake: FakeMastodon) -> MastodonChannel:
    return MastodonChannel.build("social", {"type": "mastodon", "instance": fake.url, "token": TOKEN,
                                            "timeout": 2}, secrets=frozenset({TOKEN}))


def ago(delta: timedelta) -> str:
    return (datetime.now(timezone.utc) - delta).isoformat().replace("+00:00", "Z")


def message(*parts: str, first_attempt: str | None = None, sent_parts: tuple[Receipt, ...] = ()) -> Message:
    return Message(draft_id="d-7", channel="social", parts=parts or (TEXT,), title="Incidencia", incident_id="1",
                   template="apology", language="es", case=2, idempotency_key=KEY, sent_parts=sent_parts,
                   first_attempt=first_attempt)


def posts(fake: FakeMastodon) -> list:
    return [request for request in fake.requests if request.method == "POST"]


def listings(fake: FakeMastodon) -> list:
    return [request for request in fake.requests if request.path == f"/api/v1/accounts/{ACCOUNT_ID}/statuses"]


def lost_first_answer(fake: FakeMastodon, before: timedelta) -> str:
    """The first attempt, `before` ago on the server's clock (this one sends it as a first
    attempt, without a time): Mastodon created the status, the answer never arrived.
    The server's clock is then back at now."""
    fake.advance(-before)
    fake.lose_answer_once()
    with pytest.raises(Retryable) as lost:
        build(fake).send(message())
    assert lost.value.maybe_delivered
    fake.advance(before)
    [created] = fake.statuses
    return created


def test_the_fake_keeps_a_key_for_one_hour_like_mastodon(fake):
    def post() -> str:
        return requests.post(f"{fake.url}/api/v1/statuses", json={"status": "Aviso"}, timeout=5,
                             headers={"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": "k-1"}).json()["id"]

    first = post()
    fake.advance(timedelta(minutes=59))
    assert post() == first and len(fake.statuses) == 1
    fake.advance(timedelta(minutes=2))
    assert post() != first and len(fake.statuses) == 2


def test_a_resend_within_the_hour_relies_on_the_key(fake):
    created = lost_first_answer(fake, timedelta(minutes=30))
    receipt = build(fake).send(message(first_attempt=ago(timedelta(minutes=30))))
    assert receipt.id == created and len(fake.statuses) == 1
    assert listings(fake) == [] and "found_on_platform" not in receipt.extra


def test_a_resend_after_the_hour_finds_the_post_instead_of_posting_again(fake):
    created = lost_first_answer(fake, 2 * HOUR)
    receipt = build(fake).send(message(first_attempt=ago(2 * HOUR)))
    assert receipt.id == created and len(fake.statuses) == 1 and len(posts(fake)) == 1
    assert receipt.url == fake.statuses[created]["url"] and receipt.extra["found_on_platform"] == [created]


def test_without_the_first_attempts_time_the_expired_key_posts_twice(fake):
    """What the channel did before: the key alone, two hours on, makes a second post."""
    lost_first_answer(fake, 2 * HOUR)
    build(fake).send(message())
    assert len(fake.statuses) == 2


def test_a_thread_resumes_after_the_part_it_finds(fake):
    parts = ("1/3 Los pagos con tarjeta fallan.", "2/3 Sabemos por qué & lo arreglamos.", "3/3 Gracias.")
    answer = fake.handler
    fake.handler = lambda request: (setattr(fake, "lose_next", len(posts(fake)) == 2) or answer(request))
    fake.advance(-3 * HOUR)
    with pytest.raises(Retryable) as lost:
        build(fake).send(message(*parts))
    fake.handler = answer
    fake.advance(3 * HOUR)
    [first] = lost.value.sent_parts
    receipt = build(fake).send(message(*parts, first_attempt=ago(3 * HOUR), sent_parts=lost.value.sent_parts))
    first_id, second_id, third_id = receipt.extra["part_ids"]
    assert first_id == first.id and len(fake.statuses) == 3 and receipt.extra["found_on_platform"] == [second_id]
    assert fake.statuses[second_id]["in_reply_to_id"] == first_id
    assert fake.statuses[third_id]["in_reply_to_id"] == second_id
    assert [request.json()["status"] for request in posts(fake)] == list(parts)


def test_nothing_found_is_posted_once(fake):
    receipt = build(fake).send(message(first_attempt=ago(2 * HOUR)))
    assert list(fake.statuses) == [receipt.id] and len(listings(fake)) == 1
    assert "found_on_platform" not in receipt.extra


def test_the_same_text_posted_before_the_first_attempt_is_not_taken(fake):
    fake.advance(-3 * HOUR)
    older = fake.seed(TEXT)
    fake.advance(3 * HOUR)
    receipt = build(fake).send(message(first_attempt=ago(2 * HOUR)))
    assert receipt.id != older and len(fake.statuses) == 2


def test_the_lookup_reads_past_the_first_page(fake):
    created = lost_first_answer(fake, 2 * HOUR)
    for number in range(45):
        fake.seed(f"Otra publicación {number}")
    receipt = build(fake).send(message(first_attempt=ago(2 * HOUR)))
    assert receipt.id == created and len(fake.statuses) == 46
    assert [request.query.get("max_id") is not None for request in listings(fake)] == [False, True]


def test_a_token_that_cannot_read_posts_nothing(fake):
    lost_first_answer(fake, 2 * HOUR)
    answer = fake.handler
    fake.handler = lambda request: (Reply(403, {"error": "This action is outside the authorized scopes"})
                                    if request.path.startswith("/api/v1/accounts/") else answer(request))
    with pytest.raises(Permanent) as refused:
        build(fake).send(message(first_attempt=ago(2 * HOUR)))
    assert "read:accounts and read:statuses" in refused.value.reason and "Nothing was posted again" in \
        refused.value.reason
    assert len(posts(fake)) == 1 and len(fake.statuses) == 1 and TOKEN not in refused.value.reason


@pytest.mark.parametrize("before, looks", [(None, False), (timedelta(minutes=30), False),
                                           (timedelta(minutes=49), False), (timedelta(minutes=51), True),
                                           (timedelta(hours=5), True)])
def test_when_the_key_may_have_expired(before, looks):
    now = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    first = None if before is None else (now - before).isoformat().replace("+00:00", "Z")
    since = lookup_since(first, now)
    assert (since is not None) is looks
    if looks:
        assert since == now - before - timedelta(seconds=CLOCK_MARGIN)
    assert KEY_SECONDS == 3600


def test_publish_send_hours_later_finds_the_post_and_records_it(workspace, fake):
    behind = datetime.now(timezone.utc) - 2 * HOUR
    workspace.write_config(extra=f'\n[delivery]\nbudget = 0.01\n\n[channels.social]\ntype = "mastodon"\n'
                                 f'instance = "{fake.url}"\ntoken = "${{MASTODON_TOKEN}}"\n')
    env = {"MASTODON_TOKEN": TOKEN}
    fake.advance(-2 * HOUR)
    first_seen = (behind - HOUR).isoformat(timespec="seconds")
    opened = workspace.run("incident", "open", "--case", "2", "--first-seen", first_seen, "--summary",
                           "los pagos con tarjeta fallan", "--what", "the card payment outage", env=env,
                           clock=lambda: behind)
    assert opened.exit_code == 0, opened.output
    draft = workspace.render("--case", "2", "--template", "apology", "--channel", "social", env=env,
                             clock=lambda: behind)
    fake.lose_answer_once()
    first = workspace.run("approve", draft, "--as", "ana", env=env, clock=lambda: behind)
    assert first.exit_code == 1 and f"`publish send {draft}` resumes" in first.output
    [created] = fake.statuses

    fake.advance(2 * HOUR)
    resumed = workspace.run("send", draft, env=env)
    assert resumed.exit_code == 0, resumed.output
    assert list(fake.statuses) == [created] and len(posts(fake)) == 1
    delivered = [event for event in delivery_events(workspace, "social") if event["kind"] == "delivery.delivered"]
    assert delivered[-1]["data"]["id"] == created
    assert delivered[-1]["data"]["extra"]["found_on_platform"] == [created]
    assert TOKEN not in json.dumps(delivery_events(workspace)) + resumed.output
