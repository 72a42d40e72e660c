"""A source post named by its URL, read from fake platforms and pages on loopback."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from channels.base import Permanent, Retryable
from channels.bluesky import BlueskyChannel
from channels.source_post import fetch_source_post, page_heard, platform_of, time_in_url
from channels.facebook import FacebookChannel
from channels.mastodon import MastodonChannel
from channels.x import XChannel
from tests.fakes.graph_api import FakeGraph
from tests.fakes.bluesky_pds import FakePDS
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.server import FakeServer, Reply
from tests.fakes.x_api import FakeX

pytestmark = pytest.mark.servers

TOKEN = "CANARY-mastodon-source-77c1"
APP_PASSWORD = "CANARY-bsky-source-2m4n"
X_CREDENTIALS = {"api_key": "k-CANARY-1", "api_secret": "s-CANARY-2", "access_token": "t-CANARY-3",
                 "access_token_secret": "ts-CANARY-4"}

ARTICLE = """<!doctype html><html><head><title>Caída general de Acme | Diario</title>
<meta property="og:title" content="Acme deja sin servicio a miles de clientes">
<meta property="og:description" content="Los usuarios denuncian cobros dobles &amp; esperas.">
<meta property="article:published_time" content="2026-12-05T08:14:00+01:00">
<meta name="author" content="Redacción">
<link rel="canonical" href="https://diario.example/economia/acme-caida">
</head><body><p>Texto</p></body></html>"""

BLOG = """<html><head><title>Mi blog</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
 {"@type": "WebSite", "name": "Blog"},
 {"@type": "BlogPosting", "headline": "Acme me cobró dos veces", "datePublished": "2026-12-04T21:03:10Z",
  "author": {"@type": "Person", "name": "<img src=x onerror=alert(1)>\\u0007Luisa"}}]}</script>
</head><body></body></html>"""


def test_platforms_are_told_apart():
    assert platform_of("https://x.com/vecina/status/1864001234567890123") == "x"
    assert platform_of("https://mastodon.social/@vecina/113900000000000000") == "mastodon"
    assert platform_of("https://bsky.app/profile/ana.bsky.social/post/3lbz2abcdxk2a") == "bluesky"
    assert platform_of("https://www.facebook.com/acme/posts/1234567890") == "facebook"
    assert platform_of("https://diario.example/economia/acme-caida") == "web"


def test_x_post_time_comes_from_its_id_without_a_channel():
    heard = fetch_source_post("https://x.com/vecina/status/1864001234567890123")
    assert heard.platform == "x" and heard.author == "@vecina"
    assert heard.platform_time == "2024-12-03T17:38:20.446Z"
    assert time_in_url(heard.url) == datetime(2024, 12, 3, 17, 38, 20, 446000, tzinfo=timezone.utc)


def test_x_post_text_through_the_x_channel():
    with FakeX(*X_CREDENTIALS.values()) as fake:
        fake.tweets["1864001234567890123"] = {"text": "Acme lleva 3 horas caído", "created_at": "2024-12-03T18:04:53.000Z"}
        channel = XChannel.build("x", {"type": "x", **X_CREDENTIALS, "username": "acme_es", "api_url": fake.url,
                                       "timeout": 2})
        heard = fetch_source_post("https://twitter.com/vecina/status/1864001234567890123", [channel])
        assert heard.text == "Acme lleva 3 horas caído" and heard.extra["read_with"] == "x"
        with pytest.raises(Permanent):
            fetch_source_post("https://x.com/vecina/status/1864001234567890999", [channel])


def test_mastodon_status_read_from_its_own_server():
    with FakeMastodon(TOKEN) as fake:
        status = fake.hear("Acme no funciona <b>desde las 9</b>", display_name="<i>Vecina</i>", mention=False)
        heard = fetch_source_post(f"{fake.url}/@vecina/{status['id']}")
        assert heard.platform == "mastodon" and heard.id == status["id"]
        assert heard.text == "Acme no funciona <b>desde las 9</b>"
        assert heard.author == "<i>Vecina</i> (@vecina@otra.example)"
        assert heard.platform_time == status["created_at"]
        assert fake.requests[-1].header("Authorization") is None
        with pytest.raises(Permanent):
            fetch_source_post(f"{fake.url}/@vecina/1{status['id'][1:-1]}7")


def test_bluesky_post_through_the_channel_and_the_public_appview():
    with FakePDS(APP_PASSWORD) as fake:
        entry = fake.hear("Acme me ha cobrado dos veces", mention=False)
        rkey = entry["uri"].rsplit("/", 1)[1]
        url = f"https://bsky.app/profile/ana.bsky.social/post/{rkey}"
        channel = BlueskyChannel.build("bluesky", {"type": "bluesky", "handle": "acme.bsky.social",
                                                   "app_password": APP_PASSWORD, "api_url": fake.url, "timeout": 3})
        heard = fetch_source_post(url, [channel])
        assert heard.id == entry["uri"] and heard.text == "Acme me ha cobrado dos veces"
        assert heard.platform_time == entry["value"]["createdAt"]
        anonymous = fetch_source_post(url, appview=fake.url)
        assert anonymous.id == heard.id and anonymous.author == "Ana (@ana.bsky.social)"
        with pytest.raises(Permanent):
            fetch_source_post(f"https://bsky.app/profile/ana.bsky.social/post/3{rkey[1:-1]}2", appview=fake.url)


def _site(pages: dict[str, Reply]) -> FakeServer:
    return FakeServer(lambda request: pages.get(request.path, Reply(404, "<h1>Not found</h1>",
                                                                    headers={"Content-Type": "text/html"})))


def test_news_page_time_from_article_meta_after_a_redirect():
    with _site({}) as site:
        pages = {"/n/1": Reply(301, b"", headers={"Location": "/economia/acme-caida"}),
                 "/economia/acme-caida": Reply(200, ARTICLE, headers={"Content-Type": "text/html; charset=utf-8"})}
        site.handler = lambda request: pages.get(request.path, Reply(404, "no"))
        heard = fetch_source_post(f"{site.url}/n/1")
        assert heard.platform == "web" and heard.platform_time == "2026-12-05T07:14:00.000Z"
        assert heard.text == "Acme deja sin servicio a miles de clientes\n\nLos usuarios denuncian cobros dobles & esperas."
        assert heard.author == "Redacción" and heard.url == "https://diario.example/economia/acme-caida"
        with pytest.raises(Permanent):
            fetch_source_post(f"{site.url}/gone")


def test_blog_time_from_json_ld_and_a_hostile_author_stays_text():
    heard = page_heard(BLOG, "https://blog.example/2026/12/acme")
    assert heard.platform_time == "2026-12-04T21:03:10.000Z" and heard.extra["time_from"] == "json-ld"
    assert heard.author == "<img src=x onerror=alert(1)>Luisa" and heard.text == "Acme me cobró dos veces"


def test_malformed_date_gives_no_time_but_keeps_what_it_said():
    heard = page_heard(ARTICLE.replace("2026-12-05T08:14:00+01:00", "ayer\x00 a las 8"), "https://d.example/a")
    assert heard.platform_time is None and heard.extra["unreadable_time"] == "ayer a las 8"


def test_server_trouble_is_retryable():
    with _site({"/a": Reply(503, "busy", headers={"Retry-After": "30"})}) as site:
        with pytest.raises(Retryable) as caught:
            fetch_source_post(f"{site.url}/a")
        assert caught.value.retry_after == 30


def test_not_a_url_is_refused():
    with pytest.raises(Permanent):
        fetch_source_post("javascript:alert(1)")


def test_mastodon_status_read_with_the_channel_token_which_is_never_shown():
    with FakeMastodon(TOKEN) as fake:
        status = fake.hear("solo para seguidores", mention=False)
        status["visibility"] = "private"
        channel = MastodonChannel.build("social", {"type": "mastodon", "instance": fake.url, "token": TOKEN,
                                                   "timeout": 2}, secrets=frozenset({TOKEN}))
        url = f"{fake.url}/@vecina/{status['id']}"
        with pytest.raises(Permanent):
            fetch_source_post(url)
        assert fetch_source_post(url, [channel]).text == "solo para seguidores"
        assert fake.requests[-1].header("Authorization") == f"Bearer {TOKEN}"
        fake.expire_token()
        with pytest.raises(Permanent) as caught:
            fetch_source_post(url, [channel], secrets=[TOKEN])
        assert TOKEN not in caught.value.reason


def test_facebook_post_through_the_page_channel():
    with FakeGraph(page_id="104857600123456", token="CANARY-fb-page-1") as fake:
        post_id = fake.add_post("Sin agua en el barrio desde ayer", created=1764900000)
        channel = FacebookChannel.build("facebook", {"type": "facebook", "page_id": "104857600123456",
                                                     "token": "CANARY-fb-page-1", "api_url": fake.url, "timeout": 2})
        story = post_id.split("_")[1]
        heard = fetch_source_post(f"https://www.facebook.com/permalink.php?story_fbid={story}&id=104857600123456",
                                  [channel])
        assert heard.platform == "facebook" and heard.id == post_id
        assert heard.text == "Sin agua en el barrio desde ayer" and heard.platform_time == "2025-12-05T02:00:00.000Z"
    with pytest.raises(Permanent) as caught:
        fetch_source_post("https://www.facebook.com/acme/posts/123456789")
    assert "Facebook channel" in caught.value.reason


def test_a_page_over_the_byte_bound_is_refused_not_read_in_part():
    huge = "<html><head>" + "<!-- padding -->" * 80_000 + "</head></html>"
    with _site({"/big": Reply(200, huge, headers={"Content-Type": "text/html"})}) as site:
        with pytest.raises(Permanent) as caught:
            fetch_source_post(f"{site.url}/big")
    assert "MiB" in caught.value.reason


def test_hostile_json_ld_and_markup_never_crash():
    nested = '<script type="application/ld+json">' + "[" * 100_000 + "]" * 100_000 + "</script>"
    broken = '<script type="application/ld+json">{"datePublished": </script><meta property="og:title" content="\x00'
    heard = page_heard("<html><head>" + nested + BLOG + broken, "https://blog.example/x")
    assert heard.platform_time == "2026-12-04T21:03:10.000Z"
    assert page_heard("<<<>>>&&&#x0;<meta", "https://x.example/").platform_time is None
