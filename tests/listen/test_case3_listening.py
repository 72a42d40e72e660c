"""Case 3's listening step end to end, through the CLI: negative Mastodon mentions and a
blog entry are heard and judged as they are stored, the cabinet is told of the dip once
with the first negative mention as the suggested source, the incident opens from that
post at its platform time, its negative items are answered (within `[cases.3]
answer_within`) or handled, the day's moderation is proven in the checklist and the
report, and `log verify` passes."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.fakes.feeds import FeedSite, atom
from tests.fakes.mastodon_api import FakeMastodon

pytestmark = pytest.mark.servers
TOKEN = "mastodon-case3-canary-58"
ENV = {"MASTODON_TOKEN": TOKEN}
VARIABLES = ["--var", "affected=the emails of 1,200 customers", "--var", "since=28 November", "--var",
             "advice=change your password", "--var", "notified_authority=the ICO", "--var",
             "contact=privacy@acme.example"]


@pytest.fixture
def servers():
    with FeedSite() as site, FakeMastodon(token=TOKEN) as mastodon:
        yield site, mastodon


def test_case_3_hears_tells_opens_answers_and_proves_the_day_s_moderation(workspace, servers):
    site, mastodon = servers
    mastodon.advance(timedelta(minutes=-20))
    first = mastodon.hear("@acme me habéis filtrado los datos, qué vergüenza", acct="eve@otra.example")
    for number in range(10):
        mastodon.hear(f"@acme otra filtración, un desastre horrible {number}", acct=f"v{number}@otra.example")
    mastodon.advance(timedelta(minutes=20))
    said = datetime.now(timezone.utc) - timedelta(minutes=15)
    blog = site.put("/feed.atom", atom([{"title": "Acme filtra datos", "slug": "fuga", "author": "Lucía",
                                         "published": said.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                         "content": "Una fuga vergonzosa, un desastre total."}]),
                    "application/atom+xml")
    workspace.write_config(extra=f"""
[listen]
keywords = ["Acme"]

[listen.menciones]
type = "mastodon"
channel = "mastodon"

[listen.prensa]
type = "feed"
urls = ["{blog}"]

[channels.mastodon]
type = "mastodon"
instance = "{mastodon.url}"
token = "${{MASTODON_TOKEN}}"

[cases.3]
reply_approvals = 0
freeze_on_open = false
""")
    heard = workspace.run("listen", "--once", env=ENV)
    assert heard.exit_code == 0, heard.output
    inbox = json.loads(workspace.run("inbox", "--json", "--negative", env=ENV).output)
    assert len(inbox) == 12
    log = json.loads(workspace.run("log", "--json").output)
    told = [event["data"] for event in log if event["kind"] == "notice.sent"
            and event["data"]["key"].startswith("crisis:dip:-:")]
    assert len(told) == 1 and "possible crisis: open an incident?" in told[0]["text"]
    assert first["url"] in told[0]["text"] and f"--first-seen {first['created_at'][:19]}Z" in told[0]["text"]
    assert workspace.run("listen", "--once", env=ENV).exit_code == 0
    assert len([event for event in json.loads(workspace.run("log", "--json").output)
                if event["kind"] == "notice.sent" and event["data"]["key"].startswith("crisis:")]) == 1

    opened = workspace.run("incident", "open", "--case", "3", "--source", f"{mastodon.url}/@eve/{first['id']}",
                           "--listen", "filtra", "--what", "the leak of customer emails", "--json", env=ENV)
    assert opened.exit_code == 0, opened.output
    incident = json.loads(opened.output)
    assert incident["first_seen_from"] == "platform" and incident["first_seen"] == first["created_at"][:19] + "Z"
    by_key = {item["key"]: item for item in inbox}
    for item in inbox:
        assert workspace.run("inbox", "attach", f"#{item['seq']}", "--incident", incident["id"]).exit_code == 0
    for key, item in by_key.items():
        if item["platform"] == "mastodon":
            replied = workspace.run("reply", key, *VARIABLES, env=ENV)
            assert replied.exit_code == 0, replied.output
        else:
            assert workspace.run("inbox", "handle", f"#{item['seq']}", "--note", "wrote to the editor").exit_code == 0

    report = json.loads(workspace.run("report", incident["id"], "--format", "json", env=ENV).output)
    listening = report["listening"]
    assert listening["source"]["time_from"] == "platform"
    assert listening["answers"]["verdict"] == "PASS" and len(listening["answers"]["answered"]) == 11
    assert listening["answers"]["limit_minutes"] == 60 and listening["answers"]["worst_minutes"] <= 60
    assert [day["state"] for day in listening["moderation"]] == ["done"]
    moderation = [item for item in report["checklist"] if item["id"] == "moderation"]
    assert [item["state"] for item in moderation] == ["done"]
    markdown = workspace.run("report", incident["id"], env=ENV).output
    assert "## Listening" in markdown and "### Daily moderation" in markdown
    assert TOKEN not in markdown + workspace.run("log", "--json").output
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 0, verified.output
