"""`publish reply ITEM`: a reply draft aimed at one heard item on its platform, approved
like any statement (or by the community manager alone where the case allows it), whose
delivery answers that very post and marks the item answered."""
from __future__ import annotations

import json

import pytest

from publisher.workspace.app import App
from tests.fakes.mastodon_api import FakeMastodon

pytestmark = pytest.mark.servers
TOKEN = "mastodon-reply-canary-77"


@pytest.fixture
def mastodon():
    with FakeMastodon(token=TOKEN) as fake:
        yield fake


def _setup(workspace, mastodon, cases: str = "") -> tuple[str, str]:
    workspace.write_config(extra=f"""
[channels.mastodon]
type = "mastodon"
instance = "{mastodon.url}"
token = "${{MASTODON_TOKEN}}"
{cases}""")
    incident = workspace.open_incident(case=1, listen="@pepe", severity="single")
    complaint = mastodon.seed("@acme llevo dos días sin poder pagar")
    heard = {"key": f"mastodon:{complaint}", "source": "menciones", "platform": "mastodon", "id": complaint,
             "text": "@acme llevo dos días sin poder pagar", "author": "pepe@social.example",
             "url": f"{mastodon.url}/@pepe/{complaint}", "platform_time": "2026-12-05T09:00:00Z",
             "read_at": "2026-12-05T09:00:05Z", "answers": None, "extra": {}, "rule": "@pepe"}
    App(workspace.path).store.append_heard("menciones", [(incident, heard)])
    return incident, complaint


def _item(workspace) -> dict:
    return json.loads(workspace.run("inbox", "--json").output)[0]


def test_a_reply_is_approved_then_answers_the_post_and_marks_the_item(workspace, mastodon):
    env = {"MASTODON_TOKEN": TOKEN}
    incident, complaint = _setup(workspace, mastodon)
    seq = _item(workspace)["seq"]
    result = workspace.run("reply", f"#{seq}", "--json", env=env)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    draft = shown["draft"]["id"]
    assert shown["status"] == "awaiting approval" and shown["draft"]["reply_to"] == complaint
    assert list(shown["draft"]["payloads"]) == ["mastodon"]
    assert "pepe@social.example" in shown["draft"]["payloads"]["mastodon"]["parts"][0]
    assert _item(workspace)["state"] == "new"
    approved = workspace.run("approve", draft, "--as", "ana", env=env)
    assert approved.exit_code == 0, approved.output
    posted = [status for status in mastodon.statuses.values() if status["in_reply_to_id"] == complaint]
    assert len(posted) == 1
    item = _item(workspace)
    assert item["state"] == "answered" and item["answered_by"] == draft
    kinds = [kind for _seq, kind in workspace.events()]
    assert kinds.index("item.reply") < kinds.index("delivery.delivered") < kinds.index("item.answered")

    from channels.sources import Heard
    from publisher.delivery.listening import record

    ours = posted[0]["id"]
    record(App(workspace.path), "menciones", [Heard("mastodon", "990001", "gracias, ya funciona", "pepe",
                                                    answers=ours)], None)
    thanks = _item(workspace)
    assert (thanks["incident"], thanks["rule"]) == (incident, f"reply:{ours}")
    assert TOKEN not in workspace.run("log", "--json").output
    assert workspace.run("log", "verify").exit_code == 0


def test_a_case_may_let_the_community_manager_answer_alone_and_says_so(workspace, mastodon):
    env = {"MASTODON_TOKEN": TOKEN}
    _incident, complaint = _setup(workspace, mastodon, "[cases.1]\nreply_approvals = 0\n")
    seq = _item(workspace)["seq"]
    result = workspace.run("--reply-to", f"#{seq}", "--case", "1", "--template", "reply", "--var",
                           "solved=we refunded the double charge", env=env)
    assert result.exit_code == 0, result.output
    assert [status for status in mastodon.statuses.values() if status["in_reply_to_id"] == complaint]
    assert _item(workspace)["state"] == "answered"
    link = [event for event in json.loads(workspace.run("log", "--json").output) if event["kind"] == "item.reply"]
    assert link[0]["data"]["approvals"] == 0 and link[0]["data"]["because"] == "[cases.1] reply_approvals = 0"
    assert link[0]["actor"] == "marta"


def test_an_item_nobody_can_answer_here_is_refused_in_one_sentence(workspace, mastodon):
    _setup(workspace, mastodon)
    store = App(workspace.path).store
    store.append_heard("prensa", [("1", {"key": "feed:https://news.example/1", "source": "prensa",
                                         "platform": "feed", "id": "https://news.example/1", "text": "Acme cae"})])
    store.append_heard("prensa", [(None, {"key": "feed:https://news.example/2", "source": "prensa",
                                          "platform": "feed", "id": "https://news.example/2", "text": "otra"})])
    items = {item["id"]: item["seq"] for item in json.loads(workspace.run("inbox", "--json").output)}
    result = workspace.run("reply", f"#{items['https://news.example/1']}")
    assert result.exit_code == 2 and "no enabled channel can answer" in result.output
    result = workspace.run("reply", f"#{items['https://news.example/2']}")
    assert result.exit_code == 2 and "attach it first" in result.output


def test_during_a_case_3_freeze_a_reply_waits(workspace, mastodon):
    env = {"MASTODON_TOKEN": TOKEN}
    workspace.write_config(extra=f"""
[channels.mastodon]
type = "mastodon"
instance = "{mastodon.url}"
token = "${{MASTODON_TOKEN}}"

[cases.3]
reply_approvals = 0
""")
    incident = workspace.open_incident(case=3)
    complaint = mastodon.seed("@acme where is my data")
    App(workspace.path).store.append_heard("menciones", [(incident, {
        "key": f"mastodon:{complaint}", "source": "menciones", "platform": "mastodon", "id": complaint,
        "text": "@acme where is my data", "author": "eve@social.example"})])
    variables = ["--var", "affected=the names and emails of 1,200 customers", "--var", "since=28 November",
                 "--var", "advice=change your password", "--var",
                 "notified_authority=the Information Commissioner's Office", "--var", "contact=privacy@acme.example"]
    result = workspace.run("reply", f"mastodon:{complaint}", *variables, env=env)
    assert "frozen" in result.output.lower(), result.output
    assert not [status for status in mastodon.statuses.values() if status["in_reply_to_id"] == complaint]
    assert _item(workspace)["state"] == "new"
