"""Issue 22, items 4 and 5: a notice reaches a person through their own contact (a real
SMTP server on loopback, a Telegram Bot API fake on loopback), waits for an
acknowledgement and escalates when nobody answers (an injected clock); each step is
sent once, whatever number of processes send; a freeze holds every channel but the
allowed ones.

Answers of the fakes: SMTP as RFC 5321 (aiosmtpd); Telegram's `sendMessage` to a private
chat as https://core.telegram.org/bots/api#sendmessage and #message (a private chat's
`type` is "private"); the internal Slack webhook answers 200 "ok" as
https://api.slack.com/messaging/webhooks#handling_errors says.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.console.support import Clock, HttpConsole
from tests.fakes.server import FakeServer, Reply
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "7012345678:CANARY-paging-tg-5b4a"
LUIS_CHAT = 424242


def config(smtp: SmtpServer, telegram: FakeTelegram, extra: str = "") -> str:
    return ('\n[channels.mail]\ntype = "email"\nhost = "127.0.0.1"\n'
            f'port = {smtp.port}\nsecurity = "none"\nsender = "Acme <crisis@acme.example>"\n'
            'recipients = ["newsroom@example.org"]\n'
            f'\n[channels.tg]\ntype = "telegram"\ntoken = "${{TG_TOKEN}}"\nchat = "@citywater"\n'
            f'api_url = "{telegram.url}"\ntimeout = 5\n'
            '\n[channels.cabinet]\ntype = "slack"\naudience = "internal"\nwebhook_url = "${CABINET_WEBHOOK}"\n'
            + extra)


@pytest.fixture
def night(workspace, monkeypatch):
    """ana (e-mail), eva (e-mail) and luis (Telegram) approve, in the cabinet's order; marta writes."""
    with SmtpServer("none") as smtp, FakeTelegram(token=TOKEN) as telegram, \
            FakeServer(lambda request: Reply(200, "ok", {"Content-Type": "text/html"})) as cabinet:
        telegram.chats[str(LUIS_CHAT)] = {"id": LUIS_CHAT, "first_name": "Luis", "type": "private"}
        monkeypatch.setenv("TG_TOKEN", TOKEN)
        monkeypatch.setenv("CABINET_WEBHOOK", f"{cabinet.url}/services/T0/B0/secret")
        workspace.write_config(extra=config(smtp, telegram))
        clock = started_before(120)
        for args in (("ana", "--email", "ana@acme.example"), ("luis", "--telegram", str(LUIS_CHAT)),
                     ("eva", "--role", "approver", "--email", "eva@acme.example")):
            added = workspace.run("people", "add", *args, "--as", "ana", clock=clock)
            assert added.exit_code == 0, added.output
        yield smtp, telegram, cabinet, clock


def mails(smtp: SmtpServer) -> list[tuple[str, str]]:
    return [(mail.rcpt_tos[0], mail.message.get_body(("plain",)).get_content()) for mail in smtp.received]


def telegrams(telegram: FakeTelegram) -> list[dict]:
    return [FakeTelegram.params(request) for request in telegram.requests if request.path.endswith("/sendMessage")]


def started_before(minutes: float) -> Clock:
    clock = Clock()
    clock.offset = -timedelta(minutes=minutes)
    return clock


def render(workspace, clock: Clock) -> str:
    first_seen = (clock.now - timedelta(hours=1)).isoformat(timespec="seconds")
    opened = workspace.run("incident", "open", "--case", "2", "--first-seen", first_seen, "--summary",
                           "a payment outage that blocked card purchases", "--what", "the card payment outage",
                           clock=clock)
    assert opened.exit_code == 0, opened.output
    return workspace.render("--case", "2", "--template", "apology", "--channel", "web", user="marta", clock=clock)


def send_round(workspace, clock: Clock) -> str:
    result = workspace.run("notices", "send", clock=clock)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_draft_is_told_to_the_first_approver_then_escalates_in_order(workspace, night):
    smtp, telegram, cabinet, clock = night
    draft = render(workspace, clock)
    assert [to for to, _ in mails(smtp)] == ["ana@acme.example"], "told at once by the rendering command"
    assert f"/drafts/{draft}" in mails(smtp)[0][1] and "/ack/" in mails(smtp)[0][1]
    assert not telegrams(telegram) and not cabinet.requests

    clock.advance(minutes=14)
    assert "Nothing is due" in send_round(workspace, clock)
    clock.advance(minutes=2)
    send_round(workspace, clock)
    assert [to for to, _ in mails(smtp)] == ["ana@acme.example", "eva@acme.example"]
    assert "Nobody has acknowledged this yet" in mails(smtp)[1][1] and draft in mails(smtp)[1][1]
    assert not telegrams(telegram) and not cabinet.requests

    clock.advance(minutes=16)
    send_round(workspace, clock)
    told = telegrams(telegram)
    assert [str(message["chat_id"]) for message in told] == [str(LUIS_CHAT)] and draft in told[0]["text"]
    assert len(mails(smtp)) == 2 and not cabinet.requests

    clock.advance(minutes=16)
    send_round(workspace, clock)
    assert len(cabinet.requests) == 1 and draft in cabinet.requests[0].json()["text"]
    clock.advance(minutes=60)
    assert "Nothing is due" in send_round(workspace, clock)

    events = [(event["kind"], event["data"].get("level")) for event in
              __import__("json").loads(workspace.run("log", "--json").output) if event["kind"].startswith("notice.")]
    assert events == [("notice.sent", None), ("notice.escalated", 1), ("notice.escalated", 2),
                      ("notice.escalated", 3)]
    stored = "\n".join(body for (body,) in workspace.db().execute("SELECT body FROM events"))
    token = re.search(r"/ack/([\w-]+)", mails(smtp)[0][1]).group(1)
    assert token not in stored and "CANARY" not in stored


def test_an_acknowledgement_stops_the_escalation_and_is_in_the_report(workspace, night):
    smtp, telegram, cabinet, clock = night
    draft = render(workspace, clock)
    clock.advance(minutes=5)
    acked = workspace.run("notices", "ack", f"rendered:{draft}", "--as", "ana", clock=clock)
    assert acked.exit_code == 0 and "acknowledged" in acked.output
    twice = workspace.run("notices", "ack", f"rendered:{draft}", "--as", "luis", clock=clock)
    assert twice.exit_code == 2 and "already acknowledged" in twice.output and "Traceback" not in twice.output
    unknown = workspace.run("notices", "ack", "rendered:nope", "--as", "ana", clock=clock)
    assert unknown.exit_code == 2 and "no notice rendered:nope" in unknown.output
    clock.advance(minutes=40)
    assert "Nothing is due" in send_round(workspace, clock)
    assert not telegrams(telegram) and not cabinet.requests and len(mails(smtp)) == 1
    listed = __import__("json").loads(workspace.run("notices", "list", "--json").output)
    assert listed[0]["acknowledged_by"] == "ana" and listed[0]["told"] == ["ana"]
    report = workspace.run("report", "1", "--format", "md", clock=clock)
    assert report.exit_code == 0, report.output
    assert f"rendered:{draft}" in report.output and "acknowledged" in report.output.lower()


def test_the_link_acknowledges_on_the_console_after_a_tap_never_on_opening(workspace, night):
    smtp, telegram, cabinet, clock = night
    render(workspace, clock)
    token = re.search(r"/ack/([\w-]+)", mails(smtp)[0][1]).group(1)
    console = HttpConsole(workspace, clock)
    client = console.client()
    opened = client.get(f"/ack/{token}")
    assert opened.status_code == 200 and "I am on it (ana)" in opened.text
    assert not workspace.db().execute("SELECT 1 FROM events WHERE kind = 'notice.acknowledged'").fetchall()
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', opened.text).group(1)
    tapped = client.post(f"/ack/{token}", data={"csrf": csrf})
    assert tapped.status_code == 200 and "Acknowledged by ana" in tapped.text
    forged = client.get("/ack/not-a-token")
    assert 400 <= forged.status_code < 500 and "not valid" in forged.text
    clock.advance(minutes=40)
    assert "Nothing is due" in send_round(workspace, clock)
    assert not telegrams(telegram)


def test_each_escalation_is_sent_once_by_two_processes_at_once(workspace, night):
    smtp, telegram, cabinet, clock = night  # the draft is rendered 2 h before real time: luis's step is due
    render(workspace, clock)
    env = {**os.environ, "PUBLISH_WORKSPACE": str(workspace.path), "PUBLISH_USER": "marta"}
    env.pop("PUBLISH_DEBUG", None)
    processes = [subprocess.Popen([sys.executable, "-m", "publisher", "notices", "send"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    assert [to for to, _ in mails(smtp)] == ["ana@acme.example", "eva@acme.example"]
    assert sum("rendered:" in out for out, _ in outputs) == 1
    assert not telegrams(telegram) and not cabinet.requests
