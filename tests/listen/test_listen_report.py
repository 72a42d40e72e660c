"""The report proves the listening, from the log, through `publish report`: the source
with its platform time, the claimed items per hour (attach counts), answers timed against
`[cases.3] answer_within`, handled items, a person's sentiment, and each day's moderation
as the case 3 checklist step (no checkbox when the workspace listens)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from publisher.workspace.app import App
from tests.fakes.feeds import FeedSite, rss
from tests.fakes.mastodon_api import FakeMastodon

pytestmark = pytest.mark.servers
TOKEN = "mastodon-report-canary-31"
ENV = {"MASTODON_TOKEN": TOKEN}
NOW = datetime.now(timezone.utc)


def _ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


NEWS = [
    {"title": "Acme filtra los datos de sus clientes", "slug": "n1", "guid": "n1",
     "date": format_datetime(_ago(2.5), usegmt=True), "body": "Una vergüenza, un desastre total."},
    {"title": "Acme abre una tienda", "slug": "n2", "guid": "n2",
     "date": format_datetime(_ago(2.2), usegmt=True), "body": "La tienda abre el lunes."},
]


@pytest.fixture
def servers():
    with FeedSite() as site, FakeMastodon(token=TOKEN) as mastodon:
        yield site, mastodon


def _report(workspace, incident: str) -> dict:
    result = workspace.run("report", incident, "--format", "json", env=ENV)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _moderation(report: dict) -> list[tuple[str, str]]:
    return [(item["state"], item["note"]) for item in report["checklist"] if item["id"] == "moderation"]


def test_the_report_proves_the_listening_from_the_log(workspace, servers):
    site, mastodon = servers
    news = site.put("/search.rss", rss(NEWS))
    workspace.write_config(extra=f"""
[listen]
keywords = ["Acme"]

[listen.prensa]
type = "feed"
urls = ["{news}"]

[channels.mastodon]
type = "mastodon"
instance = "{mastodon.url}"
token = "${{MASTODON_TOKEN}}"

[cases.3]
reply_approvals = 0
freeze_on_open = false
answer_within = 30
""")
    incident = workspace.open_incident(case=3, hours_ago=3, listen="filtra", source="https://news.example/n1")
    assert workspace.run("listen", "--once").exit_code == 0
    complaint = mastodon.seed("@acme me habéis filtrado los datos, qué vergüenza")
    App(workspace.path).store.append_heard("menciones", [(incident, {
        "key": f"mastodon:{complaint}", "source": "menciones", "platform": "mastodon", "id": complaint,
        "text": "@acme me habéis filtrado los datos, qué vergüenza", "author": "eve@social.example",
        "url": f"{mastodon.url}/@eve/{complaint}", "platform_time": _ago(2).isoformat(), "sentiment": "negative"})])
    items = {item["url"]: item for item in json.loads(workspace.run("inbox", "--json").output)}
    leak, shop = items["https://news.example/n1"], items["https://news.example/n2"]
    assert leak["incident"] == incident and shop["incident"] is None

    before = _report(workspace, incident)["listening"]
    assert before["source"]["time_from"] == "platform"
    assert before["source"]["platform_time"] == _ago(2.5).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert before["curve"]["mentions"] == 2 and before["curve"]["negative"] == 2
    assert before["answers"]["verdict"] == "LATE" and before["answers"]["limit_minutes"] == 30
    assert [state for state, _note in _moderation(_report(workspace, incident))] == ["due"]

    variables = ["--var", "affected=the emails of 1,200 customers", "--var", "since=28 November", "--var",
                 "advice=change your password", "--var", "notified_authority=the ICO", "--var",
                 "contact=privacy@acme.example"]
    replied = workspace.run("reply", f"mastodon:{complaint}", *variables, env=ENV)
    assert replied.exit_code == 0, replied.output
    assert workspace.run("inbox", "handle", f"#{leak['seq']}", "--note", "called the editor").exit_code == 0
    assert workspace.run("inbox", "attach", f"#{shop['seq']}", "--incident", incident).exit_code == 0

    report = _report(workspace, incident)
    facts = report["listening"]
    assert facts["curve"]["mentions"] == 3 and facts["curve"]["negative"] == 2
    answers = facts["answers"]
    assert answers["verdict"] == "FAIL" and answers["worst_item"] == f"mastodon:{complaint}"
    assert answers["worst_minutes"] > 30 and answers["handled"] == [leak["key"]] and not answers["unanswered"]
    assert facts["moderation"][0]["state"] == "done" and facts["moderation"][0]["number"] == 1
    assert _moderation(report)[0][0] == "done"
    refused = workspace.run("done", "moderation", "--incident", incident)
    assert refused.exit_code == 2 and "proven by what listening heard" in refused.output

    said = workspace.run("inbox", "sentiment", f"#{shop['seq']}", "negative", "--reason", "mocking the leak")
    assert said.exit_code == 0, said.output
    facts = _report(workspace, incident)["listening"]
    assert [row["item"] for row in facts["answers"]["unanswered"]] == [shop["key"]]
    assert facts["moderation"][0]["open"] == 1 and _moderation(_report(workspace, incident))[0][0] == "due"
    assert workspace.run("inbox", "detach", f"#{shop['seq']}").exit_code == 0
    facts = _report(workspace, incident)["listening"]
    assert facts["curve"]["mentions"] == 2 and not facts["answers"]["unanswered"]

    markdown = workspace.run("report", incident, "--format", "md", env=ENV).output
    assert "## Listening" in markdown and "from the platform" in markdown and "### Daily moderation" in markdown
    html = workspace.run("report", incident, "--format", "html", env=ENV).output
    assert '<section class="listening">' in html and "<svg" in html and "<script" not in html
    assert TOKEN not in markdown + html
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 0, verified.output


def test_without_listening_the_moderation_step_is_marked_by_hand_and_the_report_has_no_listening(workspace):
    incident = workspace.open_incident(case=3, hours_ago=3)
    assert workspace.run("done", "moderation", "--incident", incident).exit_code == 0
    report = _report(workspace, incident)
    assert "listening" not in report
    assert _moderation(report)[0][0] == "done"
