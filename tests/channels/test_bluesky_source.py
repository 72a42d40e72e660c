"""The Bluesky listening source driven through the atproto SDK against the fake PDS."""
from __future__ import annotations

import json

import pytest

from channels import source_class
from channels.base import Permanent, Retryable
from tests.fakes.bluesky_pds import FakePDS, internal_error, rate_limited

pytestmark = pytest.mark.servers

APP_PASSWORD = "CANARY-bsky-listen-3k8p"


@pytest.fixture
def fake():
    with FakePDS(APP_PASSWORD) as server:
        yield server


def build(fake: FakePDS, **overrides):
    settings = {"type": "bluesky", "handle": "acme.bsky.social", "app_password": APP_PASSWORD, "api_url": fake.url,
                "timeout": 3, **overrides}
    return source_class("bluesky").build("bluesky", settings, secrets=frozenset({APP_PASSWORD}))


def drain(make, cursor, limit):
    heard = []
    for _ in range(200):
        items, cursor = make().read(cursor, limit)
        if not items:
            return heard, cursor
        heard.extend(items)
    raise AssertionError("never ran dry")


def test_mentions_and_replies_oldest_first(fake):
    ours = fake.seed("Nuestro comunicado", did=fake.did)
    fake.hear("¿Cuándo vuelve el servicio?")
    fake.hear("Sigue sin funcionar", reply_to=ours, mention=False, handle="prensa.acme.es",
              display_name="Prensa")
    items, cursor = build(fake).read(None)
    assert [item.text for item in items] == ["¿Cuándo vuelve el servicio? @acme.bsky.social",
                                            "Sigue sin funcionar"]
    assert items[0].author == "Ana (@ana.bsky.social)" and items[1].answers == ours
    assert items[0].id.startswith("at://did:plc:ana") and items[0].url.startswith("https://bsky.app/profile/did:")
    assert items[1].extra["reason"] == "reply" and items[0].platform_time.endswith("Z")
    request = next(r for r in fake.requests if r.path.endswith("listNotifications"))
    assert sorted(request.query["reasons"]) == ["mention", "quote", "reply"]
    assert json.loads(cursor)["mentions"][1] == items[-1].id


def test_restart_in_the_middle_of_paging_loses_and_repeats_nothing(fake):
    _, cursor = build(fake, keywords=["apagón"]).read(None)
    said = []
    for number in range(230):
        said.append(fake.hear(f"apagón {number}", mention=number % 2 == 0)["uri"])
    heard, cursor = drain(lambda: build(fake, keywords=["apagón"]), cursor, 11)
    assert sorted({item.id for item in heard}) == sorted(said)
    per_stream = [(item.extra["via"], item.id) for item in heard]
    assert len(set(per_stream)) == len(per_stream)
    assert any("cursor" in r.query for r in fake.requests if r.path.endswith("searchPosts"))
    assert any("since" in r.query for r in fake.requests if r.path.endswith("searchPosts"))


def test_restart_reads_each_mention_exactly_once(fake):
    _, cursor = build(fake).read(None)
    said = [fake.hear(f"aviso {number}")["uri"] for number in range(230)]
    heard, _ = drain(lambda: build(fake), cursor, 13)
    assert [item.id for item in heard] == said


def test_expired_token_gets_one_new_session(fake):
    source = build(fake)
    source.read(None)
    fake.expire_sessions()
    fake.hear("otra queja")
    items, _ = source.read(None)
    assert [item.text for item in items] == ["otra queja @acme.bsky.social"]


def test_revoked_app_password_is_permanent_and_never_shown(fake):
    source = build(fake)
    source.read(None)
    fake.expire_sessions()
    fake.app_passwords.clear()
    with pytest.raises(Permanent) as caught:
        source.read(None)
    assert APP_PASSWORD not in caught.value.reason and "app password" in caught.value.reason


def test_rate_limit_is_retryable_after_the_reset(fake):
    fake.fail("app.bsky.notification.listNotifications", rate_limited(reset_in=200))
    with pytest.raises(Retryable) as caught:
        build(fake).read(None)
    assert 150 < caught.value.retry_after <= 201


def test_server_error_is_retryable(fake):
    fake.fail("app.bsky.feed.searchPosts", internal_error())
    with pytest.raises(Retryable):
        build(fake, keywords=["caída"], mentions=False).read(None)


def test_hostile_input_is_stored_as_safe_text(fake):
    fake.hear("hola\x00\x1b[31m\u202e <b>mundo</b>", display_name='<script>alert("x")</script>\x07Ana',
              created_at="el martes")
    [item], _ = build(fake).read(None)
    assert item.text == "hola[31m <b>mundo</b> @acme.bsky.social"
    assert item.author == '<script>alert("x")</script>Ana (@ana.bsky.social)'
    assert item.extra["unreadable_time"] == "el martes" and item.platform_time == item.extra["indexed_at"]


def test_an_item_the_sdk_models_would_refuse_blocks_nothing(fake):
    fake.hear("x" * 5000, display_name="N" * 700, created_at="2026-13-45T99:00:00Z")
    fake.hear("normal")
    odd, normal = build(fake).read(None)[0]
    assert odd.text.startswith("x" * 4000) and len(odd.author) < 200 and odd.extra["unreadable_time"]
    assert normal.text == "normal @acme.bsky.social"
