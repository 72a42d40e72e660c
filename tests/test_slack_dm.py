"""Issue 22, item 4: a notice to a person as a Slack direct message, through the Slack
channel's bot token (`chat.postMessage` with the person's user id, to a fake of Slack's
Web API on loopback, tests/fakes/slack_api.py), never to the channel's shared webhook;
Slack's errors are said; a freeze holds it like any messenger; the token never shows."""
from __future__ import annotations

import json

import pytest

from tests.fakes.server import FakeServer, Reply
from tests.fakes.slack_api import FakeSlackApi
from tests.test_notices_escalation import render, started_before

pytestmark = pytest.mark.servers

BOT = "xoxb-1234-5678-CANARYslackbot"


def slack_config(api: FakeSlackApi) -> str:
    return ('\n[channels.cabinet]\ntype = "slack"\naudience = "internal"\nwebhook_url = "${CABINET_WEBHOOK}"\n'
            f'bot_token = "${{SLACK_BOT}}"\nweb_api_url = "{api.url}/api"\n')


@pytest.fixture
def slack(workspace, monkeypatch):
    with FakeSlackApi(BOT) as api, FakeServer(lambda request: Reply(200, "ok", {"Content-Type": "text/html"})) as hook:
        api.users.update({"U0ANA12345", "U0LUIS1234"})
        monkeypatch.setenv("SLACK_BOT", BOT)
        monkeypatch.setenv("CABINET_WEBHOOK", f"{hook.url}/services/T0/B0/secret")
        workspace.write_config(extra=slack_config(api))
        clock = started_before(120)
        for name, user in (("ana", "U0ANA12345"), ("luis", "U0LUIS1234")):
            added = workspace.run("people", "add", name, "--slack", user, "--as", "ana", clock=clock)
            assert added.exit_code == 0, added.output
        yield api, hook, clock


def notices(workspace) -> list[dict]:
    return [json.loads(body)["data"] for (body,) in workspace.db().execute(
        "SELECT body FROM events WHERE kind LIKE 'notice.%' ORDER BY seq")]


def test_a_notice_is_a_direct_message_to_the_person_then_escalates(workspace, slack):
    api, hook, clock = slack
    draft = render(workspace, clock)
    [sent] = api.sent
    assert sent["user"] == "U0ANA12345" and draft in sent["text"] and "/ack/" in sent["text"]
    assert not hook.requests, "never the shared webhook"
    assert notices(workspace)[0]["reached"] == {"ana": "cabinet"}
    clock.advance(minutes=16)
    assert workspace.run("notices", "send", clock=clock).exit_code == 0
    assert [item["user"] for item in api.sent] == ["U0ANA12345", "U0LUIS1234"]
    stored = "\n".join(body for (body,) in workspace.db().execute("SELECT body FROM events"))
    assert "CANARY" not in stored


def test_slack_errors_are_said_and_the_internal_channels_told_instead(workspace, slack):
    api, hook, clock = slack
    api.users.discard("U0ANA12345")
    draft = render(workspace, clock)
    first = notices(workspace)[0]
    assert "channel_not_found" in first["failed"]["ana"] and "CANARY" not in json.dumps(first)
    assert len(hook.requests) == 1 and draft in hook.requests[0].json()["text"]


def test_a_rate_limit_and_a_wrong_token_are_failures_with_their_reason(workspace, slack, monkeypatch):
    api, hook, clock = slack
    api.queue(FakeSlackApi.ratelimited(30))
    render(workspace, clock)
    assert "ratelimited" in notices(workspace)[0]["failed"]["ana"]
    api.token = "xoxb-another"
    clock.advance(minutes=16)
    workspace.run("notices", "send", clock=clock)
    assert "invalid_auth" in notices(workspace)[-1]["failed"]["ana"], "nobody was told: ana is asked again"


def test_a_freeze_holds_the_slack_message(workspace, slack):
    api, hook, clock = slack
    assert workspace.run("freeze", "--reason", "a leak is traced", "--all", user="ana", clock=clock).exit_code == 0
    render(workspace, clock)
    assert not api.sent and not hook.requests
    assert notices(workspace)[0]["held"] == ["cabinet"]


def test_a_slack_id_that_is_not_one_is_one_sentence(workspace, slack):
    api, hook, clock = slack
    bad = workspace.run("people", "add", "ana", "--slack", "ana@acme", "--as", "ana", clock=clock)
    assert bad.exit_code == 2 and "not a Slack user id" in bad.output and "Traceback" not in bad.output
    shown = json.loads(workspace.run("people", "list", "--json", clock=clock).output)
    assert {person["name"]: person["slack"] for person in shown["people"]}["luis"] == "U0LUIS1234"
