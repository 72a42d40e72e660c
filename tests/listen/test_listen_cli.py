"""Listening end to end through the CLI: a feed heard, claimed by an incident's rule,
worked in the inbox, every step in the log."""
from __future__ import annotations

import json

import pytest

from tests.fakes.feeds import FeedSite, atom, rss

pytestmark = pytest.mark.servers

NEWS = [
    {"title": "Acme se cae otra vez", "slug": "n1", "guid": "n1", "date": "Sat, 05 Dec 2026 09:00:00 GMT",
     "body": "<p>Miles de clientes sin poder pagar.</p>"},
    {"title": "Tiempo soleado", "slug": "n2", "guid": "n2", "date": "Sat, 05 Dec 2026 09:30:00 GMT",
     "body": "Nada que ver."},
]
BLOG = [{"title": "Queja", "slug": "q", "published": "2026-12-05T10:00:00Z",
         "author": "&lt;script&gt;alert(1)&lt;/script&gt;Pepe", "content": "@acme_soporte nadie me contesta"}]


@pytest.fixture
def site():
    with FeedSite() as served:
        yield served


def _configure(workspace, site, extra: str = "") -> None:
    news = site.put("/search.rss", rss(NEWS))
    blog = site.put("/feed.atom", atom(BLOG), "application/atom+xml")
    workspace.write_config(extra=f"""
[listen]
keywords = ["Acme"]

[listen.prensa]
type = "feed"
urls = ["{news}", "{blog}"]
every = 300
{extra}""")


def _inbox(workspace, *args: str) -> list[dict]:
    result = workspace.run("inbox", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.both_stores
def test_heard_items_are_claimed_by_rules_and_worked_in_the_inbox(workspace, site):
    _configure(workspace, site)
    incident = workspace.open_incident(case=3, listen="Acme")
    assert workspace.run("incident", "listen", incident, "--add", "@acme_soporte").exit_code == 0
    result = workspace.run("listen", "--once", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"practice": True, "source": "prensa", "read": 3, "new": 3, "outcome": "ok", "reason": "",
                                          "retry_after": None}]
    items = _inbox(workspace)
    by_title = {item["text"].split("\n")[0]: item for item in items}
    assert by_title["Acme se cae otra vez"]["incident"] == incident
    assert by_title["Acme se cae otra vez"]["rule"] == "Acme"
    assert by_title["Acme se cae otra vez"]["platform_time"] == "2026-12-05T09:00:00Z"
    assert by_title["Queja"]["rule"] == "@acme_soporte" and by_title["Queja"]["incident"] == incident
    assert by_title["Tiempo soleado"]["incident"] is None
    assert [item["text"].split("\n")[0] for item in _inbox(workspace, "--incident", incident)] == [
        "Queja", "Acme se cae otra vez"]

    again = json.loads(workspace.run("listen", "--once", "prensa", "--json").output)
    assert again[0]["new"] == 0

    weather = f"#{by_title['Tiempo soleado']['seq']}"
    assert workspace.run("inbox", "attach", weather, "--incident", incident).exit_code == 0
    assert len(_inbox(workspace, "--incident", incident)) == 3
    assert workspace.run("inbox", "detach", weather).exit_code == 0
    assert len(_inbox(workspace, "--incident", incident)) == 2
    complaint = by_title["Queja"]["key"]
    assert workspace.run("inbox", "assign", complaint, "luis").exit_code == 0
    assert workspace.run("inbox", "handle", f"#{by_title['Acme se cae otra vez']['seq']}",
                         "--note", "llamamos al periodista").exit_code == 0
    assert workspace.run("inbox", "ignore", weather, "--reason", "no habla de nosotros").exit_code == 0
    states = {item["key"]: (item["state"], item["assignee"], item["note"]) for item in _inbox(workspace)}
    assert states[complaint] == ("assigned", "luis", None)
    assert ("handled", None, "llamamos al periodista") in states.values()
    assert ("ignored", None, "no habla de nosotros") in states.values()
    assert [item["key"] for item in _inbox(workspace, "--unanswered")] == [complaint]
    assert len(_inbox(workspace, "-n", "1")) == 1 and len(_inbox(workspace, "--all")) == 3

    shown = workspace.run("inbox").output
    assert "Pepe" in shown and "script" not in shown
    full = workspace.run("inbox", "show", complaint)
    assert full.exit_code == 0 and "@acme_soporte nadie me contesta" in full.output
    assert "item.assigned" in full.output and "to=luis" in full.output
    history = json.loads(workspace.run("inbox", "show", complaint, "--json").output)["history"]
    assert [event["kind"] for event in history] == ["item.heard", "item.assigned"]
    kinds = [kind for _seq, kind in workspace.events()]
    assert kinds.count("item.heard") == 3 and "item.attached" in kinds and "item.detached" in kinds
    assert workspace.run("log", "verify").exit_code == 0


def test_what_a_source_says_is_shown_as_one_safe_line(workspace):
    from publisher.workspace.app import App

    hostile = {"key": "x:1", "source": "x", "platform": "x", "id": "1", "author": "\x1b]8;;http://evil\x07Eve",
               "text": "line one\n\x1b[2Jline two \u202eowt", "read_at": "2026-12-05T10:00:00Z"}
    App(workspace.path).store.append_heard("x", [(None, hostile)])
    shown = workspace.run("inbox").output
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert "line one line two" in shown and "Eve" in shown
    assert json.loads(workspace.run("inbox", "--json").output)[0]["text"] == hostile["text"]


def test_bad_input_is_one_sentence_and_exit_2(workspace, site):
    _configure(workspace, site)
    workspace.open_incident(case=2)
    for args, words in ((("inbox", "assign", "#999", "luis"), "no heard item"),
                        (("inbox", "ignore", "#1", "--reason", ""), "say why with --reason"),
                        (("listen", "--once", "nope"), "no source named 'nope'"),
                        (("incident", "listen", "1", "--remove", "Acme"), "has no rule"),
                        (("incident", "listen", "1", "--add", ""), "listening rule")):
        result = workspace.run(*args)
        assert result.exit_code == 2 and words in result.output, (args, result.output)
    for section, words in (('[listen.x]\ntype = "nothing"\n', "[listen.x] type: expected one of"),
                           ('[listen.x]\ntype = "feed"\n', "[listen.x] urls: missing"),
                           ('[listen.x]\ntype = "feed"\nurls = ["ftp://a"]\n', "http:// or https://"),
                           ('[listen.x]\ntype = "feed"\nurls = ["https://a"]\nchannel = "none"\n', "[listen.x] channel"),
                           ('[listen]\nspike = "high"\n', "[listen] spike")):
        workspace.write_config(extra=section)
        result = workspace.run("inbox")
        assert result.exit_code == 2 and words in result.output, (section, result.output)
        assert len(result.output.strip().splitlines()) == 1


def test_a_secret_in_a_feed_address_never_reaches_the_log_or_the_output(workspace, site):
    canary = "feedtoken-canary-4417"
    site.put("/private.rss", rss(NEWS))
    workspace.write_config(extra=f"""
[listen.privado]
type = "feed"
urls = ["{site.url}/private.rss?token=${{FEED_TOKEN}}"]
""")
    env = {"FEED_TOKEN": canary}
    first = workspace.run("listen", "--once", "--json", env=env)
    assert first.exit_code == 0 and json.loads(first.output)[0]["new"] == 2, first.output
    again = workspace.run("listen", "--once", "--json", env=env)
    assert json.loads(again.output)[0]["new"] == 0
    assert site.requests[-1].header("If-None-Match"), "the cursor resumes although the URL holds a secret"
    shown = workspace.run("inbox", "--json", env=env).output + workspace.run("log", "--json", env=env).output
    assert canary not in shown and canary not in first.output
    db = workspace.db()
    try:
        assert not db.execute("SELECT count(*) FROM events WHERE body LIKE ?", (f"%{canary}%",)).fetchone()[0]
    finally:
        db.close()
