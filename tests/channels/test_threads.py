"""The Threads channel through the one transport against a fake Threads API on loopback
(tests/fakes/threads_api.py names the documentation page of every answer)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from channels.base import Message, Permanent, Receipt, Retryable, SettingError
from channels.threads import ThreadsChannel
from tests.channels import case_table
from tests.channels.case_table import assert_loads_no_sdk, replay, run_case
from tests.fakes.server import Reply
from tests.fakes.threads_api import (USER_ID, FakeThreads, expired_token, graph_error, not_permitted, rate_limited,
                                     stamp)

pytestmark = pytest.mark.servers

TOKEN = "CANARY-threads-token-41b7"
SECRETS = frozenset({TOKEN})
TEXT = "Pedimos disculpas: los pagos con tarjeta fallan desde las 9:00 🙏 Más en https://acme.es/estado"


def fresh(fake: FakeThreads) -> None:
    fake.media.clear()
    fake.containers.clear()
    fake.quota_usage, fake.reply_quota_usage = 4, 0
    fake.lose_next_publish = False


server, fake = case_table.fake_fixtures(lambda: FakeThreads(TOKEN), fresh)


def build(fake: FakeThreads, secrets: frozenset[str] = SECRETS, **overrides) -> ThreadsChannel:
    settings = {"type": "threads", "user_id": USER_ID, "token": TOKEN, "api_url": fake.url, "timeout": 0.5,
                **overrides}
    return ThreadsChannel.build("hilo", settings, secrets=secrets)


def message(*parts: str, **fields) -> Message:
    values = dict(draft_id="d-9", channel="hilo", parts=parts or (TEXT,), title="Incidencia", incident_id="i-1",
                  template="apology", language="es", case=2, idempotency_key="d-9:hilo")
    values.update(fields)
    return Message(**values)


def containers(fake: FakeThreads) -> list:
    return [r for r in fake.requests if r.method == "POST" and r.path == f"/v1.0/{USER_ID}/threads"]


def publications(fake: FakeThreads) -> list:
    return [r for r in fake.requests if r.method == "POST" and r.path == f"/v1.0/{USER_ID}/threads_publish"]


@dataclass
class Case(case_table.Case):
    def outgoing(self, prepared: dict) -> Message:
        fields = {**self.message, **prepared}
        if "sent" in fields:
            fields["sent_parts"] = (Receipt(fields.pop("sent")),)
        return message(*fields.pop("parts", ()), **fields)


def check_success(receipt, fake):
    [quota, container] = fake.requests[:2]
    assert quota.path == f"/v1.0/{USER_ID}/threads_publishing_limit"
    assert container.form() == {"media_type": "TEXT", "text": TEXT, "access_token": TOKEN}
    [publish] = publications(fake)
    assert publish.form()["creation_id"].isdigit()
    post = fake.media[receipt.id]
    assert receipt.url == post["permalink"] and receipt.platform_time == stamp(post["moment"]).replace(
        "+0000", "Z")
    assert receipt.extra == {"part_ids": [receipt.id]}


def check_thread(receipt, fake):
    made = [r.form() for r in containers(fake)]
    ids = receipt.extra["part_ids"]
    assert [form["text"] for form in made] == ["1/3 uno", "2/3 dos", "3/3 tres"]
    assert "reply_to_id" not in made[0] and [form["reply_to_id"] for form in made[1:]] == ids[:2]
    assert [fake.media[i]["reply_to"] for i in ids] == [None, ids[0], ids[1]]


def seeded_sent(fake: FakeThreads) -> dict:
    return {"sent": fake.seed("1/3 uno")}


def check_resume(receipt, fake):
    made = [r.form() for r in containers(fake)]
    assert [form["text"] for form in made] == ["2/3 dos", "3/3 tres"]
    assert made[0]["reply_to_id"] == receipt.id


def says(*texts, published: int = 0):
    def check(error, fake):
        assert all(text in error.reason for text in texts), error.reason
        assert len(fake.media) == published
    return check


def quota_used_up(fake: FakeThreads) -> dict:
    fake.quota_usage = 250
    return {}


def replies_left(count: int):
    def prepare(fake: FakeThreads) -> dict:
        fake.reply_quota_usage = 1000 - count
        return {}
    return prepare


def lose_publish(fake: FakeThreads) -> dict:
    fake.lose_next_publish = True
    return {}


CASES = [
    pytest.param(Case(requests=4, check=check_success), id="success"),
    pytest.param(Case(message={"parts": ("1/3 uno", "2/3 dos", "3/3 tres")}, requests=10, check=check_thread),
                 id="thread"),
    pytest.param(Case(prepare=seeded_sent, message={"parts": ("1/3 uno", "2/3 dos", "3/3 tres")}, requests=7,
                      check=check_resume), id="thread-resumes-after-sent-parts"),
    pytest.param(Case(error=Retryable, prepare=quota_used_up, reason="250 of 250 posts", check=says("nothing was")),
                 id="daily-quota-read-from-the-api"),
    pytest.param(Case(error=Retryable, prepare=replies_left(1), message={"parts": ("1/3 uno", "2/3 dos", "3/3 tres")},
                      reason="999 of 1000 replies", check=says("2 more needed")), id="reply-quota-too-small"),
    pytest.param(Case((None, rate_limited()), Retryable, "rate limit", requests=2,
                      check=says("code 4", "Application request limit reached", "no reset time")), id="rate-limit"),
    pytest.param(Case((None, rate_limited(300)), Retryable, "rate limit", retry_after=300.0, requests=2),
                 id="rate-limit-with-retry-after"),
    pytest.param(Case((expired_token(),), Permanent, "expired or is invalid",
                      check=says("Session has expired", "code 190, subcode 463")), id="expired-token"),
    pytest.param(Case((None, not_permitted()), Permanent, "lacks a permission", requests=2, check=says("code 10")),
                 id="permission-missing"),
    pytest.param(Case(error=Permanent, message={"parts": ("🇪🇸" * 63,)}, requests=2,
                      check=says("refused the request", "at most 500 characters")), id="too-long"),
    pytest.param(Case((None, Reply(200, {"id": "1"}, cut_after=3)), Retryable, maybe_delivered=False, requests=2,
                      check=says("nothing was published")), id="container-answer-cut-mid-body"),
    pytest.param(Case((None, None, Reply(200, {"id": "18000000000000999"}, cut_after=8)), Retryable,
                      maybe_delivered=True, requests=3, check=says("cut off")), id="publish-answer-cut-mid-body"),
    pytest.param(Case(error=Retryable, prepare=lose_publish, maybe_delivered=True, requests=3,
                      check=says("no answer", published=1)), id="timeout-after-publishing"),
    pytest.param(Case((None, None, graph_error(500, "An unknown error has occurred.", 1, kind="OAuthException")),
                      Retryable, maybe_delivered=True, requests=3, check=says("may exist")), id="server-error"),
    pytest.param(Case(error=Permanent, message={"reply_to": "https://www.threads.net/@acme/post/C8abcdEFgh"},
                      requests=2, check=says("not among the profile's latest")), id="reply-to-an-unknown-link"),
    pytest.param(Case(error=Permanent, message={"reply_to": "https://x.com/acme/status/1"}, requests=0,
                      check=says("neither a Threads media id")), id="reply-to-another-platform"),
]


@pytest.mark.parametrize("case", CASES)
def test_send(fake, case):
    run_case(fake, case, build)


def test_a_resend_finds_the_published_thread_and_posts_only_what_is_missing(fake):
    channel = build(fake)
    began = datetime.now(timezone.utc).isoformat()
    fake.lose_next_publish = True
    with pytest.raises(Retryable) as lost:
        channel.send(message("1/2 uno", "2/2 dos", first_attempt=began))
    assert lost.value.maybe_delivered and not lost.value.sent_parts
    [first] = fake.media
    receipt = channel.send(message("1/2 uno", "2/2 dos", first_attempt=began))
    assert receipt.id == first and receipt.extra["found_on_platform"] == [first]
    assert [post["text"] for post in fake.published()] == ["1/2 uno", "2/2 dos"]
    assert fake.media[receipt.extra["part_ids"][1]]["reply_to"] == first


def test_a_resend_takes_nothing_older_than_the_first_attempt(fake):
    old = fake.seed(TEXT, at=time.time() - 7200)
    receipt = build(fake).send(message(first_attempt=datetime.now(timezone.utc).isoformat()))
    assert receipt.id != old and "found_on_platform" not in receipt.extra and len(publications(fake)) == 1


def test_a_lookup_that_fails_posts_nothing(fake):
    fake.queue(graph_error(500, "An unknown error has occurred.", 1))
    with pytest.raises(Retryable, match="nothing was posted again") as failed:
        build(fake).send(message(first_attempt=datetime.now(timezone.utc).isoformat()))
    assert failed.value.maybe_delivered and containers(fake) == []


def test_delete_every_part_last_first_then_again(fake):
    channel = build(fake)
    receipt = channel.send(message("1/2 uno", "2/2 dos"))
    assert channel.delete(receipt) is None
    deletes = [r.path.rsplit("/", 1)[1] for r in fake.requests if r.method == "DELETE"]
    assert deletes == list(reversed(receipt.extra["part_ids"])) and fake.media == {}
    assert channel.delete(receipt) is None
    assert channel.lookup(receipt.id) is None


def test_delete_without_permission_is_permanent(fake):
    media = fake.seed(TEXT)
    fake.queue(graph_error(403, "Application does not have permission for this action", 10))
    with pytest.raises(Permanent, match="lacks a permission"):
        build(fake).delete(Receipt(media))
    assert media in fake.media


def test_lookup_reads_the_post_by_id_or_by_link(fake):
    media = fake.seed("Ya funciona 👍🏽")
    reply = fake.seed("Y seguimos informando", reply_to=media)
    found = build(fake).lookup(media)
    assert found.id == media and found.extra["text"] == "Ya funciona 👍🏽" and found.url.startswith("https://")
    assert build(fake).lookup(fake.media[reply]["permalink"]).id == reply
    assert build(fake).lookup("https://www.threads.net/@acme/post/Cnotthere1") is None


def test_a_reply_to_a_link_answers_that_post(fake):
    media = fake.seed("Primera actualización")
    receipt = build(fake).send(message(reply_to=fake.media[media]["permalink"]))
    assert fake.media[receipt.id]["reply_to"] == media


def test_check_reports_the_quota_the_api_gives(fake):
    fake.quota_usage, fake.reply_quota_usage = 40, 10
    assert build(fake).check() == (f"Threads token works for @acme ({USER_ID}); publishing quota: 210 of 250 posts "
                                   "and 990 of 1000 replies left")


def test_check_refuses_an_expired_token(fake):
    fake.queue(expired_token())
    with pytest.raises(Permanent, match="expired or is invalid"):
        build(fake).check()


def test_check_refuses_a_token_of_another_profile(fake):
    with pytest.raises(Permanent, match="belongs to profile"):
        build(fake, user_id="17841409999999999").check()


@pytest.mark.parametrize("settings, key", [
    ({"user_id": "@acme"}, "user_id"),
    ({"graph_version": "latest"}, "graph_version"),
    ({"api_url": "graph.threads.net"}, "api_url"),
])
def test_bad_settings_name_the_key(fake, settings, key):
    with pytest.raises(SettingError) as refused:
        build(fake, **settings)
    assert refused.value.key == key


def test_the_token_never_appears(fake, caplog):
    caplog.set_level("DEBUG")
    channel, seen = replay(fake, CASES, build, SECRETS, caplog)
    fake.queue(graph_error(400, f"Invalid OAuth access token {TOKEN}", 190))
    with pytest.raises(Permanent) as refused:
        channel.send(message())
    seen.append(refused.value.reason)
    assert "***" in refused.value.reason
    assert not [text for text in seen if TOKEN in text]


def test_loading_the_module_loads_no_http_stack():
    assert_loads_no_sdk("channels.threads")
