"""Issue 24's "done when", end to end through the command line and the worker's own
reading: a negative Mastodon post and a blog entry are heard by the sources themselves;
the cabinet is told of the spike; the incident opens from the source with its platform
time; case 1's complainant gets the public reply and the "solved" follow-up, in one
thread; case 3's negative comments are answered within `answer_within` and the day's
moderation is proven in the report; `log verify` passes throughout."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from tests.fakes.feeds import FeedSite, rss
from tests.fakes.mastodon_api import FakeMastodon

pytestmark = pytest.mark.servers
TOKEN = "CANARY-listening-e2e-mastodon-5c1d"
ENV = {"MASTODON_TOKEN": TOKEN}
NOW = datetime.now(timezone.utc).replace(microsecond=0)
BLOG_PAGE = """<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Acme filtra datos</title>
<meta property="article:published_time" content="{time}"></head>
<body><article><h1>Acme filtra los datos de sus clientes</h1><p>Una vergüenza.</p></article></body></html>"""


@pytest.fixture
def platforms():
    with FeedSite() as site, FakeMastodon(token=TOKEN) as mastodon:
        yield site, mastodon


def _configure(workspace, site, mastodon, feed_url: str) -> None:
    workspace.write_config(extra=f"""
[listen]
keywords = ["Acme"]
spike = 3.0
negative_share = 0.4

[listen.menciones]
type = "mastodon"
channel = "mastodon"

[listen.prensa]
type = "feed"
urls = ["{feed_url}"]

[channels.mastodon]
type = "mastodon"
instance = "{mastodon.url}"
token = "${{MASTODON_TOKEN}}"

[cases.3]
freeze_on_open = false
answer_within = 60
""")


def _ok(workspace, *args: str, user: str = "marta"):
    result = workspace.run(*args, user=user, env=ENV)
    assert result.exit_code == 0, (args, result.output)
    return result


def _json(workspace, *args: str):
    return json.loads(_ok(workspace, *args, "--json").output)


def _inbox(workspace) -> dict[str, dict]:
    return {item["key"]: item for item in _json(workspace, "inbox", "--all")}


def _reply(workspace, key: str, *variables: str) -> str:
    draft = _json(workspace, "reply", key, *variables)["draft"]["id"]
    _ok(workspace, "approve", draft, "--as", "ana")
    return draft


def test_each_cases_listening_step_end_to_end(workspace, platforms):
    site, mastodon = platforms
    blog_time = NOW - timedelta(minutes=50)
    calm_week = [{"title": f"Acme abre una tienda nueva {number}", "slug": f"tienda-{number}", "guid": f"tienda-{number}",
                  "date": format_datetime(NOW - timedelta(hours=6 * number + 3), usegmt=True),
                  "body": "La tienda abre el lunes."} for number in range(1, 28)]
    feed = site.put("/blog/feed.rss", rss([
        {"title": "Acme filtra los datos de sus clientes", "slug": "acme-filtra", "guid": "acme-filtra",
         "date": format_datetime(blog_time, usegmt=True), "body": "Una vergüenza, un desastre total."},
        *calm_week]))
    blog = site.put("/blog/acme-filtra", BLOG_PAGE.format(time=blog_time.isoformat()).encode(),
                    "text/html; charset=utf-8")
    _configure(workspace, site, mastodon, feed)
    complaint = mastodon.hear("@acme llevo dos días sin poder pagar con tarjeta, una vergüenza",
                              acct="pepe@otra.example", display_name="Pepe")
    for number in range(10):  # the hour's wave: a calm week's baseline, then a dozen complaints at once
        mastodon.hear(f"@acme otra vez sin poder pagar, qué desastre {number}", acct=f"vecino{number}@otra.example")

    # heard by the sources themselves, and the cabinet told
    listened = _ok(workspace, "listen", "--once")
    items = _inbox(workspace)
    mention, entry = f"mastodon:{complaint['id']}", next(key for key in items if key.startswith("feed:"))
    assert {mention, entry} <= set(items)
    assert items[mention]["sentiment"] == "negative" and items[entry]["sentiment"] == "negative"
    log = _json(workspace, "log")
    told = [event["data"] for event in log if event["kind"] == "notice.sent"
            and str(event["data"].get("key", "")).startswith("crisis:")]
    assert any(notice["key"].startswith("crisis:spike:") for notice in told), told
    assert all("possible crisis: open an incident?" in notice["text"] for notice in told)

    # case 1: the incident opens from the complaint itself, at the platform's time
    source_url = f"{mastodon.url}/@pepe/{complaint['id']}"
    opened = _json(workspace, "incident", "open", "--case", "1", "--source", source_url, "--severity", "single",
                   "--what", "los fallos en los pagos con tarjeta", "--lang", "es")
    case1 = opened["id"]
    assert opened["first_seen_from"] == "platform"
    _ok(workspace, "inbox", "attach", mention, "--incident", case1)
    first = _reply(workspace, mention, "--var", "cause=una avería de nuestro proveedor de pagos")
    solved = _reply(workspace, mention, "--var", "solved=los pagos con tarjeta vuelven a funcionar",
                    "--var", "cause=una avería de nuestro proveedor de pagos")
    answers = [status for status in mastodon.statuses.values() if status["in_reply_to_id"] == complaint["id"]]
    assert len(answers) == 2 and "resuelto" in answers[1]["content"]
    assert _inbox(workspace)[mention]["state"] == "answered"
    report = json.loads(_ok(workspace, "report", case1, "--format", "json").output)
    listening = report["listening"]
    assert listening["source"]["time_from"] == "platform"
    [thread] = [thread for thread in listening["threads"] if thread["item"] == mention]
    assert [(answer["draft"], answer["solved"]) for answer in thread["answers"]] == [(first, False), (solved, True)]
    markdown = _ok(workspace, "report", case1, "--format", "md").output
    assert "### Public answers, by thread" in markdown and "follow-up: solved" in markdown

    # case 3: opened from the blog page at its published time; each negative comment answered in time
    leak = _json(workspace, "incident", "open", "--case", "3", "--source", blog, "--listen", "filtrado",
                 "--what", "la filtración de datos de clientes", "--lang", "es")["id"]
    comments = [mastodon.hear(f"@acme me habéis filtrado los datos, qué vergüenza {number}",
                              acct=f"cliente{number}@otra.example") for number in range(3)]
    _ok(workspace, "listen", "--once")
    leak_values = ["--var", "affected=el correo de 1.200 clientes", "--var", "since=el 28 de noviembre",
                   "--var", "advice=cambiar la contraseña", "--var",
                   "notified_authority=la Agencia Española de Protección de Datos",
                   "--var", "contact=privacidad@acme.example"]
    for comment in comments:
        key = f"mastodon:{comment['id']}"
        assert _inbox(workspace)[key]["incident"] == leak
        _reply(workspace, key, *leak_values)
    report = json.loads(_ok(workspace, "report", leak, "--format", "json").output)
    listening = report["listening"]
    assert listening["source"]["time_from"] == "platform"
    assert listening["answers"]["verdict"] == "PASS" and not listening["answers"]["unanswered"]
    assert listening["moderation"][-1]["state"] == "done"
    assert [item["state"] for item in report["checklist"] if item["id"] == "moderation"] == ["done"]

    verified = workspace.run("log", "verify")
    assert verified.exit_code == 0, verified.output
    for text in (listened.output, json.dumps(report)):
        assert TOKEN not in text
