"""Sentiment is judged once, when an item is stored (kept in its `item.heard` payload with
the workspace's keywords), and a person overrides it with `publish inbox sentiment`
(logged, with the actor and the reason); `publish inbox --negative` follows both."""
from __future__ import annotations

import json

import pytest

from tests.fakes.feeds import FeedSite, rss
from tests.test_sentiment import installed_model  # noqa: F401  (the fixture)

pytestmark = pytest.mark.servers

NEWS = [
    {"title": "Claro deja a miles sin servicio", "slug": "n1", "guid": "n1", "date": "Sat, 05 Dec 2026 09:00:00 GMT",
     "body": "Una caída horrible, nadie contesta. Vergonzoso."},
    {"title": "Claro abre una tienda", "slug": "n2", "guid": "n2", "date": "Sat, 05 Dec 2026 09:30:00 GMT",
     "body": "La tienda abre el lunes en el centro."},
]


@pytest.fixture
def site():
    with FeedSite() as served:
        yield served


def _heard(workspace, site) -> dict[str, dict]:
    news = site.put("/search.rss", rss(NEWS))
    workspace.write_config(extra=f"""
[listen]
keywords = ["Claro"]

[listen.prensa]
type = "feed"
urls = ["{news}"]
""")
    assert workspace.run("listen", "--once").exit_code == 0
    result = workspace.run("inbox", "--json")
    assert result.exit_code == 0, result.output
    return {item["text"].split("\n")[0]: item for item in json.loads(result.output)}


def test_each_item_is_judged_when_stored_and_the_label_is_in_the_log(workspace, site):
    items = _heard(workspace, site)
    assert items["Claro deja a miles sin servicio"]["sentiment"] == "negative"
    assert items["Claro abre una tienda"]["sentiment"] == "neutral"  # the brand "Claro" is not praise
    db = workspace.db()
    try:
        stored = [json.loads(row[0])["data"]["sentiment"]
                  for row in db.execute("SELECT body FROM events WHERE kind = 'item.heard' ORDER BY seq")]
    finally:
        db.close()
    assert sorted(stored) == ["negative", "neutral"]
    negative = json.loads(workspace.run("inbox", "--negative", "--json").output)
    assert [item["key"] for item in negative] == [items["Claro deja a miles sin servicio"]["key"]]


def test_a_person_sets_the_sentiment_with_a_reason_and_it_wins(workspace, site):
    items = _heard(workspace, site)
    shop = items["Claro abre una tienda"]
    result = workspace.run("inbox", "sentiment", f"#{shop['seq']}", "negative", "--reason", "ironic: the shop is closed")
    assert result.exit_code == 0, result.output
    assert "negative" in result.output
    negative = json.loads(workspace.run("inbox", "--negative", "--json").output)
    assert shop["key"] in [item["key"] for item in negative]
    db = workspace.db()
    try:
        row = db.execute("SELECT body FROM events WHERE kind = 'item.sentiment'").fetchone()
    finally:
        db.close()
    event = json.loads(row[0])
    assert event["actor"] == "marta"
    assert event["data"] == {"key": shop["key"], "sentiment": "negative", "reason": "ironic: the shop is closed"}


@pytest.mark.parametrize("args, words", [
    (["angry", "--reason", "x"], "negative, neutral or positive"),
    (["negative", "--reason", " "], "--reason"),
])
def test_a_bad_sentiment_or_no_reason_is_one_sentence_and_nothing_is_logged(workspace, site, args, words):
    items = _heard(workspace, site)
    before = workspace.events()
    result = workspace.run("inbox", "sentiment", f"#{items['Claro abre una tienda']['seq']}", *args)
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output
    assert workspace.events() == before


def test_an_organisation_s_model_named_in_the_config_judges_what_is_stored(workspace, site, installed_model):
    news = site.put("/search.rss", rss(NEWS))
    workspace.write_config(extra=f"""
[listen]
keywords = ["Claro"]
sentiment = "acme"

[listen.prensa]
type = "feed"
urls = ["{news}"]
""")
    assert workspace.run("listen", "--once").exit_code == 0
    items = json.loads(workspace.run("inbox", "--json").output)
    assert {item["sentiment"] for item in items} == {"neutral"}  # the model's own answer: no "acme" in the text


def test_a_model_that_is_not_installed_is_one_sentence_and_nothing_is_stored(workspace, site):
    news = site.put("/search.rss", rss(NEWS))
    workspace.write_config(extra=f"""
[listen]
sentiment = "nope"

[listen.prensa]
type = "feed"
urls = ["{news}"]
""")
    result = workspace.run("listen", "--once")
    assert result.exit_code == 2 and 'No sentiment model named "nope" is installed' in result.output
    assert "item.heard" not in [kind for _seq, kind in workspace.events()]
