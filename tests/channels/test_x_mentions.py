"""The X listening source (mentions, tweepy) against the fake X API v2 on loopback: paging,
the monthly budget, X's 402 and its rate limit, and no credential in any reason."""
from __future__ import annotations

import json
import time

import pytest

from channels import source_class
from channels.base import Permanent, Retryable
from channels.options import SettingError
from channels.x_mentions import XMentions
from tests.fakes.x_api import FakeX, credits_depleted, too_many_requests, usage_capped

pytestmark = pytest.mark.servers

CREDENTIALS = {
    "api_key": "CANARY-xl-key-51c2",
    "api_secret": "CANARY-xl-secret-51c2",
    "access_token": "CANARY-xl-token-51c2",
    "access_token_secret": "CANARY-xl-tokensecret-51c2",
}
SECRETS = frozenset(CREDENTIALS.values())


@pytest.fixture
def fake():
    with FakeX(*CREDENTIALS.values()) as server:
        yield server


def build(fake: FakeX, **overrides) -> XMentions:
    raw = {"type": "x", "channel": "x", **CREDENTIALS, "username": "acme_es", "api_url": fake.url, "timeout": 2,
           "user_id": fake.user_id, "monthly_budget": 20.0, **overrides}
    return source_class("x").build("x", raw, SECRETS)  # type: ignore[return-value]


def mentions(fake: FakeX) -> list:
    return [request for request in fake.requests if request.path.endswith("/mentions")]


def test_first_read_takes_the_latest_page_and_decodes_each_post(fake):
    old = fake.mention("antiguo @acme_es", at=time.time() - 3600)
    reply = fake.mention("@acme_es otra vez sin agua &amp; sin aviso &lt;3", handle="pepa", name="Pepa <b>",
                         reply_to=old)
    items, cursor = build(fake).read(None)
    assert [item.id for item in items] == [old, reply]
    heard = items[1]
    assert heard.platform == "x" and heard.key == f"x:{reply}"
    assert heard.text == "@acme_es otra vez sin agua & sin aviso <3"
    assert heard.author == "@pepa" and heard.extra["author_name"] == "Pepa <b>"
    assert heard.url == f"https://x.com/pepa/status/{reply}"
    assert heard.platform_time == fake.mentions[1]["created_at"]
    assert heard.answers == old
    [request] = mentions(fake)
    assert request.query["expansions"] == ["author_id"] and "since_id" not in request.query
    assert json.loads(cursor)["since"] == reply


def test_paging_resumes_after_a_restart_without_losing_or_repeating(fake):
    first = fake.mention("primera")
    _, cursor = build(fake).read(None)
    made = [fake.mention(f"queja {n}") for n in range(12)]
    seen: list[str] = []
    items, cursor = build(fake).read(cursor, limit=5)
    seen += [item.id for item in items]
    assert json.loads(cursor)["token"]
    fake.mention("llega durante el paginado")
    for _ in range(5):
        items, cursor = build(fake).read(cursor, limit=5)
        seen += [item.id for item in items]
        if "token" not in json.loads(cursor):
            break
    assert sorted(seen, key=int) == made and first not in seen
    late, cursor = build(fake).read(cursor, limit=5)
    assert [item.text for item in late] == ["llega durante el paginado"]
    assert [request.query["since_id"] for request in mentions(fake)[1:]] == [[first]] * 3 + [[made[-1]]]
    assert build(fake).read(cursor)[0] == []


def test_each_batch_is_oldest_first(fake):
    _, cursor = build(fake).read(None)
    ids = [fake.mention(f"m{n}") for n in range(7)]
    items, _ = build(fake).read(cursor, limit=100)
    assert [item.id for item in items] == ids


def test_the_spend_is_counted_and_a_spent_budget_stops_the_source_without_asking_x(fake):
    source = build(fake, monthly_budget=0.2, price_per_read=0.005, price_per_user_read=0.01)
    for n in range(6):
        fake.mention(f"queja {n}", handle=f"user{n}", user_id=str(900 + n))
    items, cursor = source.read(None, limit=100)
    assert mentions(fake)[0].query["max_results"] == ["13"]
    assert len(items) == 6 and source.spend(cursor) == pytest.approx(6 * 0.015)
    for n in range(4):
        fake.mention(f"más {n}", handle=f"user{n}", user_id=str(900 + n))
    items, cursor = source.read(cursor, limit=100)
    assert mentions(fake)[1].query["max_results"] == ["7"]
    assert source.spend(cursor) == pytest.approx(10 * 0.015) == pytest.approx(fake.posts_read * 0.005
                                                                            + fake.users_read * 0.01)
    asked = len(fake.requests)
    with pytest.raises(Permanent) as stopped:
        source.read(cursor)
    assert len(fake.requests) == asked
    assert "monthly budget of 0.20" in stopped.value.reason and "stops reading" in stopped.value.reason


def test_a_new_month_starts_the_count_again(fake):
    source = build(fake, monthly_budget=0.1)
    spent = json.dumps({"since": "1", "month": "2020-01", "posts": 5000, "users": 5000})
    assert source.spend(spent) == 0
    items, cursor = source.read(spent)
    assert items == [] and json.loads(cursor)["posts"] == 0


def test_402_stops_the_source_once_and_says_why(fake):
    fake.queue(credits_depleted())
    with pytest.raises(Permanent) as stopped:
        build(fake).read(None)
    assert "no credits left" in stopped.value.reason
    assert "HTTP 402" in stopped.value.reason
    assert len(fake.requests) == 1


def test_the_monthly_usage_cap_is_permanent_not_a_retry(fake):
    fake.queue(usage_capped())
    with pytest.raises(Permanent) as stopped:
        build(fake).read(None)
    assert "usage cap" in stopped.value.reason


def test_429_is_retryable_at_xs_reset_time(fake):
    fake.queue(too_many_requests(reset_in=300))
    with pytest.raises(Retryable) as limited:
        build(fake).read(None)
    assert 290 <= limited.value.retry_after <= 301


def test_no_credential_reaches_a_reason_or_the_cursor(fake):
    fake.queue(credits_depleted(account=CREDENTIALS["access_token"]))
    with pytest.raises(Permanent) as stopped:
        build(fake).read(None)
    fake.mention(f"mi clave es {CREDENTIALS['api_secret']}")
    items, cursor = build(fake).read(None)
    for secret in SECRETS:
        assert secret not in stopped.value.reason and secret not in cursor
    assert "***" in stopped.value.reason


def test_the_account_id_is_looked_up_once_when_not_given(fake):
    source = build(fake)
    del source.settings["user_id"]
    fake.mention("hola")
    _, cursor = source.read(None)
    assert json.loads(cursor)["user"] == fake.user_id
    source.read(cursor)
    assert [request.path for request in fake.requests].count("/2/users/me") == 1


def test_settings_are_checked_with_one_sentence(fake):
    with pytest.raises(SettingError) as missing:
        XMentions.build("x", {"type": "x", "channel": "x", "monthly_budget": 5})
    assert missing.value.key == "api_key"
    with pytest.raises(SettingError) as no_budget:
        XMentions.build("x", {"type": "x", **CREDENTIALS})
    assert no_budget.value.key == "monthly_budget"


def test_a_broken_cursor_is_refused_without_a_request(fake):
    with pytest.raises(Permanent):
        build(fake).read("{not json")
    assert fake.requests == []


def test_hostile_posts_are_stored_safely_or_left_out(fake):
    from channels.sources import MAX_TEXT
    from tests.fakes.server import Reply

    body = {"data": [{"id": "../../1", "text": "fuera"},
                     {"id": "1445880548472328192", "text": "x" * (MAX_TEXT * 2) + "\x07", "author_id": "9",
                      "created_at": "not a date", "referenced_tweets": [{"type": "replied_to", "id": "<b>"}]}],
            "includes": {"users": [{"id": "9", "username": "evil/../x", "name": "<script>\u202ealert(1)"}]},
            "meta": ["not", "a", "dict"]}
    fake.queue(Reply(200, body, headers={"Content-Type": "application/json"}))
    [item], cursor = build(fake).read(None)
    assert item.id == "1445880548472328192" and len(item.text) == MAX_TEXT and "\x07" not in item.text
    assert item.author == "" and item.url == "https://x.com/i/web/status/1445880548472328192"
    assert item.extra["author_name"] == "<script>alert(1)" and item.answers is None
    assert item.platform_time == "2021-10-06T22:36:00.574Z"
    assert json.loads(cursor)["posts"] == 2


def test_a_hostile_meta_never_becomes_the_cursor(fake):
    from tests.fakes.server import Reply

    _, cursor = build(fake).read(None)
    since = json.loads(cursor).get("since")
    body = {"data": [{"id": "1445880548472328192", "text": "hola"}],
            "meta": {"result_count": 1, "newest_id": "1 OR 1=1", "next_token": "a b\r\nX-Injected: 1"}}
    fake.queue(Reply(200, body, headers={"Content-Type": "application/json"}))
    items, cursor = build(fake).read(json.dumps({"since": "1400000000000000000"}))
    state = json.loads(cursor)
    assert [item.id for item in items] == ["1445880548472328192"]
    assert state["since"] == "1445880548472328192" and "token" not in state and since is None
