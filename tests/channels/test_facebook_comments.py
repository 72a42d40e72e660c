"""The Facebook listening source (comments on the Page's posts, polled through the Graph
API) against the fake Graph API on loopback: cursor paging, restarts, Graph's errors."""
from __future__ import annotations

import json

import pytest

from channels import source_class
from channels.base import Permanent, Retryable
from channels.options import SettingError
from tests.fakes.graph_api import FakeGraph

pytestmark = pytest.mark.servers

CANARY = "CANARY-fb-listen-3c1d"
APP_SECRET = "CANARY-fb-appsecret-3c1d"
PAGE = "104857600123456"


@pytest.fixture
def fake():
    with FakeGraph(page_id=PAGE, token=CANARY) as server:
        yield server


def build(fake: FakeGraph, **overrides):
    raw = {"type": "facebook", "channel": "facebook", "page_id": PAGE, "token": CANARY, "app_secret": APP_SECRET,
           "api_url": fake.url, "timeout": 2, **overrides}
    return source_class("facebook").build("facebook", raw, frozenset({CANARY, APP_SECRET}))


def comment_reads(fake: FakeGraph) -> list:
    return [request for request in fake.requests if request.path.endswith("/comments")]


def test_comments_and_replies_are_heard_oldest_first_with_their_author_and_post(fake):
    post = fake.add_post("Corte de agua en el centro.", created=1767225600)
    first = fake.add_comment(post, "¿Hasta cuándo? <b>3 días</b>\u202e sin agua", author=("77", "Ana <i>"),
                             created=1767229200)
    reply = fake.add_comment(post, "Igual aquí", author=("78", "Luis"), reply_to=first, created=1767232800)
    items, cursor = build(fake).read(None)
    assert [item.id for item in items] == [first, reply]
    heard = items[0]
    assert heard.platform == "facebook" and heard.key == f"facebook:{first}"
    assert heard.text == "¿Hasta cuándo? <b>3 días</b> sin agua"
    assert heard.author == "Ana <i>" and heard.extra == {"post_id": post, "author_id": "77"}
    assert heard.platform_time == "2026-01-01T01:00:00+00:00"
    assert heard.answers == post and items[1].answers == first
    assert heard.url == f"https://www.facebook.com/{PAGE}/posts/{post.split('_')[1]}?comment_id={first.split('_')[1]}"
    [request] = comment_reads(fake)
    assert request.query["filter"] == ["stream"] and request.query["order"] == ["chronological"]
    assert post in json.loads(cursor)["after"]


def test_cursor_paging_resumes_after_a_restart_without_losing_or_repeating(fake):
    post = fake.add_post("Aviso")
    other = fake.add_post("Otro aviso")
    made = [fake.add_comment(post, f"queja {n}") for n in range(7)] + [fake.add_comment(other, "en el otro")]
    seen: list[str] = []
    cursor = None
    for _ in range(6):
        items, cursor = build(fake).read(cursor, limit=3)
        seen += [item.id for item in items]
        if not items:
            break
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
    late = fake.add_comment(post, "llega después")
    items, cursor = build(fake).read(cursor)
    assert [item.id for item in items] == [late]
    assert any("after" in request.query for request in comment_reads(fake))
    assert build(fake).read(cursor)[0] == []


def test_a_comment_without_from_keeps_an_empty_author(fake):
    post = fake.add_post("Aviso")
    fake.add_comment(post, "anónimo", author=None)
    [item], _ = build(fake).read(None)
    assert item.author == "" and "author_id" not in item.extra


def test_an_expired_token_is_permanent_and_never_shows_the_token(fake):
    fake.queue(FakeGraph.error(400, 190, f"Error validating access token: Session has expired ({CANARY})",
                               subcode=463))
    with pytest.raises(Permanent) as stopped:
        build(fake).read(None)
    assert "token" in stopped.value.reason and CANARY not in stopped.value.reason


@pytest.mark.parametrize("code", [4, 17, 32])
def test_rate_limits_are_retryable_with_facebooks_regain_time(fake, code):
    fake.add_post("Aviso")
    fake.queue(FakeGraph.error(403, code, "(#%d) Application request limit reached" % code,
                               headers=FakeGraph.usage(7, PAGE)))
    with pytest.raises(Retryable) as limited:
        build(fake).read(None)
    assert limited.value.retry_after == 420


def test_settings_missing_say_which_key(fake):
    with pytest.raises(SettingError) as missing:
        source_class("facebook").build("facebook", {"type": "facebook", "channel": "facebook", "token": "x"})
    assert missing.value.key == "page_id"


def test_a_broken_cursor_is_refused_without_a_request(fake):
    with pytest.raises(Permanent):
        build(fake).read('{"after": 3}')
    assert fake.requests == []


def test_hostile_ids_never_reach_a_request_path_or_a_key(fake):
    from tests.fakes.server import Reply

    headers = {"Content-Type": "application/json"}
    fake.queue(Reply(200, {"data": [{"id": "../../me/feed"}, {"id": f"{PAGE}_42"}]}, headers),
               Reply(200, {"data": [{"id": "1_2/../x", "message": "fuera"},
                                    {"id": "42_7", "message": "dentro\x00", "parent": {"id": "<img>"}}]}, headers))
    [item], _ = build(fake).read(None)
    assert (item.id, item.text, item.answers) == ("42_7", "dentro", f"{PAGE}_42")
    assert [request.path for request in fake.requests] == [f"/v25.0/{PAGE}/posts", f"/v25.0/{PAGE}_42/comments"]


def test_a_cursor_graph_no_longer_accepts_reads_the_post_again_from_the_start(fake):
    post = fake.add_post("Aviso")
    first = fake.add_comment(post, "uno")
    _, cursor = build(fake).read(None)
    fake.comments = [comment for comment in fake.comments if comment["id"] != first]
    second = fake.add_comment(post, "dos")
    items, cursor = build(fake).read(cursor)
    assert [item.id for item in items] == [second]
    assert [request.query.get("after") is not None for request in comment_reads(fake)] == [False, True, False]
    assert build(fake).read(cursor)[0] == []


def test_a_next_link_whose_cursor_does_not_move_ends_the_read(fake):
    from tests.fakes.server import Reply

    headers = {"Content-Type": "application/json"}
    stuck = {"data": [{"id": "bad id"}], "paging": {"cursors": {"after": "QUJD"}, "next": "https://graph/next"}}
    fake.queue(Reply(200, {"data": [{"id": f"{PAGE}_42"}]}, headers), *[Reply(200, stuck, headers)] * 3)
    items, cursor = build(fake).read(None)
    assert items == [] and len(comment_reads(fake)) == 2
    assert json.loads(cursor) == {"after": {f"{PAGE}_42": "QUJD"}}
