"""`publish incident open --source URL` without `--first-seen`: the clocks start at the
source post's platform time, read from a fake Mastodon server or a news page on loopback;
status and the report say "from the platform", a typed time "declared"."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.server import FakeServer, Reply

pytestmark = pytest.mark.servers

PAGE = """<html><head><title>Acme cae</title>
<meta property="og:title" content="Acme deja sin pagos a sus clientes">
<meta property="article:published_time" content="{published}">
<meta name="author" content="{author}">
</head><body></body></html>"""


@pytest.fixture
def mastodon():
    with FakeMastodon("CANARY-unused-token") as fake:
        yield fake


def page_server(html: str) -> FakeServer:
    return FakeServer(lambda request: Reply(200, html.encode(), headers={"Content-Type": "text/html; charset=utf-8"}))


def opened(workspace, *args: str) -> dict:
    result = workspace.run("incident", "open", "--case", "1", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_clock_starts_at_the_mastodon_post_time(workspace, mastodon):
    mastodon.advance(timedelta(hours=-2))
    status = mastodon.hear("Acme me ha cobrado dos veces\n\ny nadie responde", mention=False,
                           display_name="<b>Vecina</b>")
    incident = opened(workspace, "--source", f"{mastodon.url}/@vecina/{status['id']}")
    assert incident["first_seen"] == status["created_at"][:19] + "Z"
    assert incident["first_seen_from"] == "platform" and incident["platform"] == "mastodon"
    assert incident["author"] == "<b>Vecina</b> (@vecina@otra.example)"
    assert incident["source_post"]["text"] == "Acme me ha cobrado dos veces\n\ny nadie responde"
    assert incident["source_post"]["platform_time"] == status["created_at"]
    status_text = workspace.run("status").output
    assert "time from the platform" in status_text and "2 h 00 min ago" in status_text
    assert "First negative message: " in workspace.run("report", "1").output
    markdown = workspace.run("report", "1").output
    assert ", from the platform" in markdown
    assert "Source post read from mastodon, published " in markdown
    assert "Acme me ha cobrado dos veces y nadie responde" in markdown and "&lt;b&gt;Vecina" in markdown
    html = workspace.run("report", "1", "--format", "html").output
    assert "&lt;b&gt;Vecina&lt;/b&gt;" in html and "<b>Vecina</b>" not in html
    show = workspace.run("incident", "show", "1").output
    assert "first seen from: from the platform" in show and "mastodon post by" in show
    assert workspace.run("log", "verify").exit_code == 0
    from publisher.incident.source_lookup import heard_of

    heard = heard_of(incident["source_post"])
    assert heard.key == f"mastodon:{status['id']}" and heard.author == incident["author"]


def test_clock_starts_at_a_news_page_time(workspace):
    published = (datetime.now(timezone.utc) - timedelta(hours=5)).replace(microsecond=0)
    with page_server(PAGE.format(published=published.astimezone(timezone(timedelta(hours=1))).isoformat(),
                                 author="Redacción")) as site:
        incident = opened(workspace, "--source", f"{site.url}/economia/acme")
    assert incident["first_seen"] == published.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert incident["platform"] == "web" and incident["source_post"]["text"] == "Acme deja sin pagos a sus clientes"


def test_a_typed_time_is_declared(workspace, iso_hours_ago):
    incident = opened(workspace, "--first-seen", iso_hours_ago(1), "--source", "https://forum.example.org/t/1")
    assert incident["first_seen_from"] == "declared" and "source_post" not in incident
    assert "time declared" in workspace.run("status").output
    assert ", declared" in workspace.run("report", "1").output


def test_a_page_without_a_time_is_one_sentence_and_opens_nothing(workspace):
    with page_server(PAGE.format(published="el lunes\x00 por la mañana", author="x")) as site:
        result = workspace.run("incident", "open", "--case", "1", "--source", f"{site.url}/a")
    assert result.exit_code == 2
    assert "gives no publication time" in result.output and "--first-seen" in result.output
    assert "No incidents" in workspace.run("incident", "list").output or \
        workspace.run("incident", "list", "--json").output.strip() in ("[]", "")


def test_neither_time_nor_source_is_refused(workspace):
    result = workspace.run("incident", "open", "--case", "1")
    assert result.exit_code == 2 and "--first-seen" in result.output and "--source" in result.output


def test_a_deleted_post_is_one_sentence(workspace, mastodon):
    result = workspace.run("incident", "open", "--case", "1", "--source", f"{mastodon.url}/@vecina/1139000000000000000")
    assert result.exit_code == 2 and "could not read the source post" in result.output


def test_an_old_source_post_needs_confirm(workspace, mastodon):
    mastodon.advance(timedelta(days=-9))
    status = mastodon.hear("hace mucho", mention=False)
    url = f"{mastodon.url}/@vecina/{status['id']}"
    refused = workspace.run("incident", "open", "--case", "1", "--source", url)
    assert refused.exit_code != 0 and "more than 7 days ago" in refused.output
    assert opened(workspace, "--source", url, "--confirm")["first_seen_from"] == "platform"


def test_the_post_an_incident_opened_from_is_one_of_its_heard_items(workspace, mastodon):
    status = mastodon.hear("Acme me ha cobrado dos veces, una vergüenza", mention=False)
    incident = opened(workspace, "--source", f"{mastodon.url}/@vecina/{status['id']}")
    [item] = json.loads(workspace.run("inbox", "--json").output)
    assert item["key"] == f"mastodon:{status['id']}" and item["incident"] == incident["id"]
    assert item["platform_time"] == status["created_at"] and item["sentiment"] == "negative"
    assert workspace.run("log", "verify").exit_code == 0


def test_publish_source_keeps_a_news_page_as_a_heard_item_once(workspace):
    incident = workspace.open_incident(case=1)
    published = (datetime.now(timezone.utc) - timedelta(hours=2)).replace(microsecond=0)
    with page_server(PAGE.format(published=published.isoformat(), author="Redacción")) as site:
        url = f"{site.url}/economia/acme"
        kept = workspace.run("source", url, "--incident", incident, "--json")
        assert kept.exit_code == 0, kept.output
        shown = json.loads(kept.output)
        assert shown["new"] is True and shown["incident"] == incident and shown["platform"] == "web"
        again = workspace.run("source", url, "--incident", incident)
        assert again.exit_code == 0 and "already holds" in again.output
        missing = workspace.run("source", url, "--incident", "99")
        assert missing.exit_code == 2 and "Traceback" not in missing.output
    [item] = json.loads(workspace.run("inbox", "--json").output)
    assert item["incident"] == incident and item["key"] == shown["key"]
    viewer = workspace.run("source", url, user="vera")
    assert viewer.exit_code == 2


def test_publish_source_keeps_a_page_without_a_time_saying_so(workspace):
    with page_server("<html><head><title>Acme cae</title></head></html>") as site:
        result = workspace.run("source", f"{site.url}/a")
    assert result.exit_code == 0 and "said at -" in result.output, result.output
    [item] = json.loads(workspace.run("inbox", "--json").output)
    assert item["platform_time"] is None and item["incident"] is None
