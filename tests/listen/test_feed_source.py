"""The `feed` source against a loopback site serving real RSS 2.0 and Atom documents."""
from __future__ import annotations

import json

import pytest

from channels import source_class
from channels.base import Permanent, Retryable
from tests.fakes.feeds import FeedSite, atom, rss
from tests.fakes.server import Reply

pytestmark = pytest.mark.servers

ITEMS = [
    {"title": "Caída de Acme", "slug": "a1", "guid": "news-1", "date": "Fri, 04 Dec 2026 09:15:00 +0100",
     "body": "<p>Los clientes de <b>Acme</b> no pueden pagar.</p><script>alert(1)</script>"},
    {"title": "Acme responde", "slug": "a2", "guid": "news-2", "date": "Sat, 05 Dec 2026 08:00:00 GMT",
     "body": "Acme pide disculpas."},
]


@pytest.fixture
def site():
    with FeedSite() as served:
        yield served


def _source(*urls: str):
    return source_class("feed").build("prensa", {"type": "feed", "urls": list(urls)})


def test_rss_and_atom_entries_are_heard_with_their_published_time_oldest_first(site):
    news = site.put("/search.rss", rss(ITEMS))
    blog = site.put("/feed.atom", atom([{"title": "Mi experiencia con &amp;lt;Acme&amp;gt;", "slug": "post",
                                         "published": "2026-12-03T18:30:00+01:00", "author": "Lucía",
                                         "content": "&lt;p&gt;Fatal servicio&lt;/p&gt;"}]),
                    "application/atom+xml")
    items, cursor = _source(news, blog).read(None)
    assert [item.platform_time for item in items] == ["2026-12-03T17:30:00Z", "2026-12-04T08:15:00Z",
                                                      "2026-12-05T08:00:00Z"]
    first, second = items[0], items[1]
    assert first.id == "tag:blog.example,2026:post" and first.author == "Lucía"
    assert first.text == "Mi experiencia con <Acme>\n\nFatal servicio" and first.url == "https://blog.example/post"
    assert second.id == f"{news}#news-1" and second.key == f"feed:{news}#news-1"
    assert "alert" not in second.text and "<b>" not in second.text and "Los clientes de Acme" in second.text
    assert second.extra["feed"] == news and second.author == "Redacción"
    again, same = _source(news, blog).read(cursor)
    assert again == [] and all(state["etag"] for state in json.loads(same).values())
    assert news not in same
    assert site.requests[-1].header("If-None-Match")


def test_only_new_entries_follow_the_cursor(site):
    news = site.put("/search.rss", rss(ITEMS[:1]))
    source = _source(news)
    items, cursor = source.read(None)
    assert len(items) == 1
    site.put("/search.rss", rss(ITEMS))
    items, _cursor = source.read(cursor)
    assert [item.id.rsplit("#", 1)[1] for item in items] == ["news-2"]


def test_broken_dates_and_encodings_are_kept_safely(site):
    broken = [{"title": "Acme, peor imposible", "slug": "b", "guid": "b1", "date": "ayer por la tarde",
               "body": "Señal\x07 de alarma \u202e al revés", "author": "&lt;img src=x onerror=alert(1)&gt;"}]
    news = site.put("/latin1.rss", rss(broken, encoding="iso-8859-1"), "text/xml")
    items, _cursor = _source(news).read(None)
    (item,) = items
    assert item.platform_time is None and item.extra["date"] == "ayer por la tarde"
    assert "Señal de alarma" in item.text and "\x07" not in item.text and "\u202e" not in item.text
    assert item.author == "<img src=x onerror=alert(1)>"  # stored as text; every page escapes it


def test_errors_are_retryable_or_permanent(site):
    page = site.put("/not-a-feed", b"<html><body><h1>Acme</h1></body></html>", "text/html")
    with pytest.raises(Permanent, match="not an RSS or Atom feed"):
        _source(page).read(None)
    site.queue(Reply(429, "slow down", {"Retry-After": "120"}))
    with pytest.raises(Retryable) as raised:
        _source(page).read(None)
    assert raised.value.retry_after == 120
    with pytest.raises(Permanent, match="404"):
        _source(site.url + "/gone.rss").read(None)
