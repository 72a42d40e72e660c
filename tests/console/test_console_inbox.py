"""The console's inbox (issue 24, item 4): what listening heard, with its author, platform
time in the organisation's zone, thread and state, filtered and paged like the log; one
item's page with the actions a role allows, through the same core functions as
`publish inbox` and `publish reply`; hostile text from sources escaped everywhere; bad
input a 400 with one sentence; a forged form refused."""
from __future__ import annotations

import html
import json
import re

import pytest

from publisher.workspace.app import App
from tests.console.support import HttpConsole, https_console
from tests.fakes.mastodon_api import FakeMastodon

pytestmark = pytest.mark.servers
TOKEN = "mastodon-inbox-canary-31"
HOSTILE_AUTHOR = '<script>alert("author")</script><img src=x onerror=alert(1)>Eve\x1b[2J\x07'
HOSTILE_TEXT = 'line one\n<script>alert("text")</script>\x00\x1b]8;;http://evil\x07 \u202eowt'


@pytest.fixture
def mastodon():
    with FakeMastodon(token=TOKEN) as fake:
        yield fake


def _heard(key_id: str, text: str, author: str, **more) -> dict:
    return {"key": f"mastodon:{key_id}", "source": "menciones", "platform": "mastodon", "id": key_id, "text": text,
            "author": author, "url": f"https://social.example/@x/{key_id}", "platform_time": "2026-12-05T09:00:00Z",
            "read_at": "2026-12-05T09:00:05Z", "answers": None, "extra": {}, "rule": None, **more}


def _console(workspace, mastodon):
    https_console(workspace, extra=f"""
[channels.mastodon]
type = "mastodon"
instance = "{mastodon.url}"
token = "${{MASTODON_TOKEN}}"
""")
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace('language = "en"', 'language = "en"\ntimezone = "Europe/Madrid"'))
    incident = workspace.open_incident(case=1, listen="@pepe", severity="single")
    complaint = mastodon.seed("@acme llevo dos días sin poder pagar")
    App(workspace.path).store.append_heard("menciones", [
        (incident, _heard(complaint, "@acme llevo dos días sin poder pagar", "pepe@social.example")),
        (None, _heard("hostile-1", HOSTILE_TEXT, HOSTILE_AUTHOR, url="javascript:alert(1)", answers=complaint,
                      platform_time="not a date")),
    ])
    return HttpConsole(workspace), incident, f"/inbox/mastodon:{complaint}"


def _form(console, client, path: str, page: str, **fields: str):
    return client.post(path, data={"csrf": console.csrf(client, page), **fields})


def test_the_inbox_lists_items_with_author_time_thread_and_state_escaped(workspace, mastodon, monkeypatch):
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    console, incident, item = _console(workspace, mastodon)
    marta = console.login("marta")
    page = marta.get("/inbox")
    assert page.status_code == 200, page.text
    text = page.text
    assert "pepe@social.example" in text and "2026-12-05 10:00 CET (UTC+01:00)" in text
    assert "<script>alert" not in text and "<img src=x" not in text and "javascript:" not in text
    assert "&lt;script&gt;alert(&#34;author&#34;)" in text and "&lt;script&gt;alert(&#34;text&#34;)" in text
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202e]", text)
    assert "not a date" in text
    assert 'href="/inbox/mastodon:hostile-1"' in text and f'href="{item}"' in text
    assert "answers" in text and ">new<" in text.replace("\n", "")
    assert 'href="/inbox"' in text
    assert f'href="/incidents/{incident}/inbox"' in marta.get(f"/incidents/{incident}").text
    mine = marta.get(f"/incidents/{incident}/inbox").text
    assert "pepe@social.example" in mine and "mastodon:hostile-1" not in mine
    assert marta.get("/incidents/nope/inbox").status_code == 400
    spanish = marta.get(f"{item}?lang=es").text
    assert "Bandeja de entrada" in spanish and "Hora en la plataforma" in spanish and "Redactar un borrador" in spanish


def test_an_operator_works_an_item_and_replies_through_the_same_functions_as_the_cli(workspace, mastodon,
                                                                                      monkeypatch):
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    console, incident, item = _console(workspace, mastodon)
    marta = console.login("marta")
    shown = marta.get(item)
    assert shown.status_code == 200 and f'action="{item}/reply"' in shown.text
    assert _form(console, marta, f"{item}/assign", item, person="luis").status_code == 303
    assert "assigned to luis" in marta.get(item).text
    hostile = "/inbox/mastodon:hostile-1"
    page = marta.get(hostile).text
    assert "<script>" not in page and 'href="javascript' not in page and "not a date" in page
    assert _form(console, marta, f"{hostile}/attach", hostile, incident=incident).status_code == 303
    assert _form(console, marta, f"{hostile}/detach", hostile).status_code == 303
    assert _form(console, marta, f"{hostile}/ignore", hostile, reason="spam <b>bot</b>").status_code == 303
    ignored = marta.get(hostile).text
    assert "ignored: spam &lt;b&gt;bot&lt;/b&gt;" in ignored
    history = ignored.split("<h2>History</h2>")[1].split("</ol>")[0]
    assert [kind for kind in re.findall(r"<strong>(item\.\w+)</strong>", history)] == [
        "item.heard", "item.attached", "item.detached", "item.ignored"]
    assert "spam &lt;b&gt;bot&lt;/b&gt;" in history and "Historial" in marta.get(f"{hostile}?lang=es").text
    assert marta.get("/inbox?lang=en").status_code == 200
    done = _form(console, marta, f"{item}/reply", item, template="reply", variables="contact=ayuda@acme.example")
    assert done.status_code == 303 and done.headers["location"].startswith("/drafts/")
    draft = done.headers["location"].rsplit("/", 1)[1]
    assert "pepe@social.example" in marta.get(f"/drafts/{draft}").text
    listed = json.loads(workspace.run("inbox", "--json", "--all").output)
    states = {entry["key"]: entry for entry in listed}
    assert states[item.rsplit("/", 1)[1]]["assignee"] == "luis" and states["mastodon:hostile-1"]["state"] == "ignored"
    assert states["mastodon:hostile-1"]["incident"] is None
    link = [event for event in json.loads(workspace.run("log", "--json").output) if event["kind"] == "item.reply"]
    assert link[0]["draft"] == draft and link[0]["actor"] == "marta"
    assert draft in marta.get(item).text
    approved = workspace.run("approve", draft, "--as", "ana", env={"MASTODON_TOKEN": TOKEN})
    assert approved.exit_code == 0, approved.output
    assert "<dd>answered · " in marta.get(item).text
    assert marta.get("/inbox?unanswered=1").text.count('class="card item-') == 0
    assert workspace.run("log", "verify").exit_code == 0


def test_bad_input_is_a_400_with_one_sentence_a_viewer_sees_no_actions_and_forgery_is_refused(workspace, mastodon,
                                                                                             monkeypatch):
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    console, _incident, item = _console(workspace, mastodon)
    marta = console.login("marta")
    kinds = ("item.assigned", "item.handled", "item.ignored", "item.attached", "item.detached", "item.reply",
             "draft.rendered")
    before = len(console.app.store.events(kind=kinds))
    for path, fields, words in ((f"{item}/assign", {"person": "mallory"}, "is not in the cabinet"),
                                (f"{item}/handle", {"note": " "}, "say why with --note"),
                                (f"{item}/attach", {"incident": "nope"}, "no incident"),
                                ("/inbox/mastodon:999/ignore", {"reason": "x"}, "no heard item"),
                                ("/inbox/mastodon:hostile-1/reply", {}, "belongs to no incident")):
        answer = _form(console, marta, path, item, **fields)
        assert answer.status_code == 400, (path, answer.text)
        assert words in html.unescape(answer.text) and "Traceback" not in answer.text
    assert marta.get("/inbox/99999999999999999999999").status_code == 400
    assert _form(console, marta, "/inbox/99999999999999999999999/ignore", item, reason="x").status_code == 400
    assert marta.get("/inbox/mastodon:nope").status_code == 400
    forged = marta.post(f"{item}/ignore", data={"csrf": "0" * 64, "reason": "forged"})
    assert forged.status_code == 403
    vera = console.login("vera")
    seen = vera.get(item)
    assert seen.status_code == 200 and "/assign" not in seen.text and "/reply" not in seen.text
    assert _form(console, vera, f"{item}/ignore", item, reason="no").status_code == 403
    assert len(console.app.store.events(kind=kinds)) == before == 0


def test_the_inbox_pages_keeping_its_filters(workspace, mastodon, monkeypatch):
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    console, incident, item = _console(workspace, mastodon)
    App(workspace.path).store.append_heard("menciones", [
        (incident, _heard(str(200 + number), f"complaint {number}", f"user{number}")) for number in range(60)])
    marta = console.login("marta")
    first = marta.get("/inbox?unanswered=1").text
    assert first.count('class="card item-') == 50 and "user59" in first and "user9<" not in first
    older = re.search(r'href="(\?[^"]*before=\d+[^"]*)"', first).group(1)
    assert "unanswered=1" in html.unescape(older)
    second = marta.get("/inbox" + html.unescape(older)).text
    assert second.count('class="card item-') == 12 and "user9<" in second and "user59" not in second


def test_an_item_whose_key_holds_slashes_and_a_query_has_its_own_page(workspace, mastodon, monkeypatch):
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    console, incident, _item = _console(workspace, mastodon)
    key = "feed:https://blog.example/2026/12/acme-caido?utm=x#comments"
    App(workspace.path).store.append_heard("prensa", [(incident, {
        **_heard("x", "Acme sigue caído", "Blog de Ana"), "key": key, "platform": "feed", "id": key[5:],
        "source": "prensa"})])
    marta = console.login("marta")
    path = "/inbox/feed:https:%2F%2Fblog.example%2F2026%2F12%2Facme-caido%3Futm%3Dx%23comments"
    listing = marta.get("/inbox").text
    assert f'href="{path}"' in listing, re.findall(r'href="/inbox/feed[^"]*"', listing)
    page = marta.get(path)
    assert page.status_code == 200 and "Acme sigue caído" in page.text
    handled = _form(console, marta, f"{path}/handle", path, note="called the blog's author")
    assert handled.status_code == 303 and handled.headers["location"] == path
    assert "handled: called the blog&#39;s author" in marta.get(path).text
    assert marta.get(f"{path}/handle").status_code == 400


def test_a_case_that_lets_the_community_manager_answer_alone_sends_the_reply_from_the_console(workspace, mastodon,
                                                                                            monkeypatch):
    import time

    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    console, _incident, item = _console(workspace, mastodon)
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text() + "\n[cases.1]\nreply_approvals = 0\n")
    console = HttpConsole(workspace)
    marta = console.login("marta")
    done = _form(console, marta, f"{item}/reply", item, variables="solved=we refunded the double charge")
    assert done.status_code == 303, done.text
    complaint = item.rsplit(":", 1)[1]
    for _attempt in range(200):
        if json.loads(workspace.run("inbox", "--json").output)[-1]["state"] == "answered":
            break
        time.sleep(0.05)
    posted = [status for status in mastodon.statuses.values() if status["in_reply_to_id"] == complaint]
    assert len(posted) == 1 and "refunded the double charge" in posted[0]["content"]
    assert "<dd>answered · " in marta.get(item).text
    draft = done.headers["location"].rsplit("/", 1)[1]
    App(workspace.path).store.append_heard("menciones", [
        (None, _heard("thanks-1", "gracias, ya funciona", "pepe@social.example", answers=posted[0]["id"]))])
    thanks = marta.get("/inbox/mastodon:thanks-1").text
    assert f'answers our statement <a href="/drafts/{draft}"><code>{draft}</code></a> (mastodon)' in thanks
    assert workspace.run("log", "verify").exit_code == 0


def test_during_a_freeze_a_reply_sent_alone_waits(workspace, mastodon, monkeypatch):
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    console, _incident, item = _console(workspace, mastodon)
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text() + "\n[cases.1]\nreply_approvals = 0\n")
    console = HttpConsole(workspace)
    assert workspace.run("freeze", "--reason", "tracing a leak", user="luis").exit_code == 0
    marta = console.login("marta")
    done = _form(console, marta, f"{item}/reply", item, variables="solved=we refunded the double charge")
    assert done.status_code == 303, done.text
    assert [status for status in mastodon.statuses.values() if status["in_reply_to_id"]] == []
    assert "<dd>new</dd>" in marta.get(item).text
    assert not console.app.store.events(kind="delivery.delivered")
