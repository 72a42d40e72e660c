"""The Mastodon listening source driven through requests against the fake Mastodon server."""
from __future__ import annotations

import json

import pytest

from channels import source_class
from channels.base import Permanent, Retryable
from channels.sources import MAX_TEXT
from tests.fakes.mastodon_api import FakeMastodon, temporary_problem, too_many_requests

pytestmark = pytest.mark.servers

TOKEN = "CANARY-mastodon-listen-5a4b"


@pytest.fixture
def fake():
    with FakeMastodon(TOKEN) as server:
        yield server


def build(fake: FakeMastodon, **overrides):
    settings = {"type": "mastodon", "instance": fake.url, "token": TOKEN, "timeout": 2, **overrides}
    return source_class("mastodon").build("mastodon", settings, secrets=frozenset({TOKEN}))


def drain(make, cursor, limit):
    """Read until nothing new comes, each read by a new source object (a restart)."""
    heard = []
    for _ in range(100):
        items, cursor = make().read(cursor, limit)
        if not items:
            return heard, cursor
        heard.extend(items)
    raise AssertionError("never ran dry")


def test_mentions_oldest_first_with_replies_and_clean_text(fake):
    ours = fake.seed("Nuestro comunicado")
    fake.hear("@acme@social.example ¿Cuándo vuelve el servicio?\n\nLlevo 3 horas")
    fake.hear("Gracias por avisar", reply_to=ours, mention=False)
    items, cursor = build(fake).read(None)
    assert [item.text for item in items] == ["@acme ¿Cuándo vuelve el servicio?\n\nLlevo 3 horas",
                                            "Gracias por avisar"]
    assert items[1].answers == ours and items[0].answers is None
    assert items[0].author == "Vecina (@vecina@otra.example)"
    assert items[0].platform == "mastodon" and items[0].url.startswith("https://otra.example/@vecina/")
    assert items[0].platform_time.endswith("Z")
    request = next(r for r in fake.requests if r.path == "/api/v1/notifications")
    assert request.query["types[]"] == ["mention"] and request.query["include_filtered"] == ["true"]
    assert json.loads(cursor)["mentions"]


def test_restart_in_the_middle_of_paging_loses_and_repeats_nothing(fake):
    source = build(fake, keywords=["#AcmeCaido", "acme caído"])
    _, cursor = source.read(None)
    said = []
    for number in range(95):
        kind = number % 3
        text = f"queja {number} acme caído" if kind else f"queja {number} #AcmeCaido"
        fake.hear(text, mention=kind == 1, tags=("acmecaido",) if kind == 0 else ())
        said.append(text)
    heard, cursor = drain(lambda: build(fake, keywords=["#AcmeCaido", "acme caído"]), cursor, 7)
    assert sorted({item.key: item.text for item in heard}.values()) == sorted(said)
    per_stream = [(item.extra["via"], item.key) for item in heard]
    assert len(set(per_stream)) == len(per_stream)
    assert any("min_id" in r.query for r in fake.requests if r.path == "/api/v1/notifications")
    assert any("max_id" in r.query for r in fake.requests if r.path == "/api/v2/search") or len(said) < 40
    fake.hear("una más, acme caído", mention=False)
    again, _ = build(fake, keywords=["#AcmeCaido", "acme caído"]).read(cursor, 7)
    assert [item.text for item in again] == ["una más, acme caído"]


def test_a_mention_the_notification_policy_filters_is_heard(fake):
    fake.hear("@acme@social.example soy nueva aquí y no funciona nada", filtered=True)
    items, _ = build(fake).read(None)
    assert [item.text for item in items] == ["@acme soy nueva aquí y no funciona nada"]


def test_restart_reads_each_mention_exactly_once(fake):
    _, cursor = build(fake).read(None)
    said = [fake.hear(f"@acme@social.example aviso {number}")["id"] for number in range(130)]
    heard, _ = drain(lambda: build(fake), cursor, 9)
    assert [item.id for item in heard] == said


def test_search_pages_down_with_max_id_to_the_cursor(fake):
    source = build(fake, keywords=["apagón"], mentions=False)
    _, cursor = source.read(None)
    for number in range(90):
        fake.hear(f"apagón {number}", mention=False)
    items, cursor = source.read(cursor, 200)
    assert [item.text for item in items] == [f"apagón {number}" for number in range(90)]
    searches = [r for r in fake.requests if r.path == "/api/v2/search"]
    assert [r.query.get("max_id") is not None for r in searches[-3:]] == [False, True, True]
    assert source.read(cursor, 200)[0] == []


def test_mention_also_found_by_search_is_one_item(fake):
    fake.hear("@acme@social.example acme caído otra vez")
    items, _ = build(fake, keywords=["caído"]).read(None)
    assert len(items) == 1


def test_rate_limit_is_retryable_after_the_reset(fake):
    fake.queue(too_many_requests(reset_in=120))
    with pytest.raises(Retryable) as caught:
        build(fake).read(None)
    assert 100 < caught.value.retry_after <= 121
    assert TOKEN not in caught.value.reason


def test_expired_token_is_permanent_and_never_shown(fake):
    fake.expire_token()
    with pytest.raises(Permanent) as caught:
        build(fake).read(None)
    assert "expired" in caught.value.reason and TOKEN not in caught.value.reason


def test_server_error_is_retryable(fake):
    fake.queue(temporary_problem())
    with pytest.raises(Retryable):
        build(fake).read(None)


def test_hostile_input_is_stored_as_safe_text(fake):
    huge = "<p>" + "ruido " * 10_000 + "</p>"
    fake.hear("x", content=huge, display_name='<img src=x onerror=alert(1)>\u202e\x07Eve',
              created_at="ayer por la tarde")
    fake.hear("y", content="<p>hola\x00\x1b[31m<script>alert(1)</script> mundo</p>")
    items, _ = build(fake).read(None)
    big, small = sorted(items, key=lambda item: len(item.text), reverse=True)
    assert len(big.text) == MAX_TEXT and big.extra["cut"] is True
    assert big.platform_time is None and big.extra["unreadable_time"] == "ayer por la tarde"
    assert big.author == "<img src=x onerror=alert(1)>Eve (@vecina@otra.example)"
    assert small.text == "hola[31m mundo"


def test_reading_loads_no_sdk():
    import sys

    import channels.mastodon_source  # noqa: F401

    assert "mastodon" not in sys.modules


def test_check_names_the_account_without_storing_anything(fake):
    assert build(fake).check() == "Mastodon token reads for @acme on 127.0.0.1"


def test_an_unreadable_cursor_starts_again_from_the_recent_page(fake):
    fake.hear("@acme@social.example hola")
    items, cursor = build(fake).read('{"mentions": "<script>", "x": [1]}')
    assert [item.text for item in items] == ["@acme hola"] and "script" not in cursor
    assert build(fake).read("not json at all")[0] == items


def test_a_look_alike_server_ignoring_min_id_ends_and_repeats_nothing():
    from tests.fakes.server import FakeServer, Reply

    def page(request):
        statuses = [{"id": str(200 - n), "type": "mention", "created_at": "2026-12-05T10:00:00.000Z",
                     "status": {"id": str(900 - n), "content": f"<p>n{n}</p>", "created_at": "2026-12-05T10:00:00Z",
                                "account": {"acct": "a", "display_name": "A"}}} for n in range(40)]
        link = f'<{server.url}/api/v1/notifications?min_id=200>; rel="prev"'
        return Reply(200, statuses, headers={"Link": link})

    with FakeServer(page) as server:
        source = source_class("mastodon").build("m", {"type": "mastodon", "instance": server.url, "token": TOKEN,
                                                      "timeout": 2})
        items, _ = source.read(json.dumps({"mentions": "180"}))
        assert sorted(int(item.id) for item in items) == list(range(881, 901))
        assert len(server.requests) == 2
