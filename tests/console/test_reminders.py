"""Being told: a rendered draft and every reminder reach the internal channels once,
at the right time (an injected clock), even with two workers telling at once."""
from __future__ import annotations

import threading
from collections import Counter

import pytest

from tests.console.support import Clock

pytestmark = [pytest.mark.servers, pytest.mark.both_stores]
from tests.fakes.server import FakeServer, Reply

INTERNAL = """
[channels.cabinet]
type = "slack"
audience = "internal"
webhook_url = "${{CABINET_WEBHOOK}}"
api_url = "{url}"
"""


@pytest.fixture
def cabinet(workspace, monkeypatch):
    with FakeServer(lambda request: Reply(200, "ok", {"Content-Type": "text/html"})) as fake:
        monkeypatch.setenv("CABINET_WEBHOOK", f"{fake.url}/services/T0/B0/secret")
        workspace.write_config(extra='\n[channels.cabinet]\ntype = "slack"\naudience = "internal"\n'
                                     'webhook_url = "${CABINET_WEBHOOK}"\n')
        yield fake


def servers(workspace, clock: Clock, count: int = 2):
    """Workers' views of one workspace (each its own App, as on its own machine)."""
    from publisher.workspace.app import App

    return [App(workspace.path, clock=clock) for _ in range(count)]


def tick_together(apps) -> list[str]:
    """One round of the worker's notices (`reminders.tell`) in every worker at once."""
    from publisher.evidence.reminders import tell

    sent: list[str] = []
    threads = [threading.Thread(target=lambda a=a: sent.extend(tell(a, 0)[0])) for a in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sent


def started_before(hours: float) -> Clock:
    """A clock `hours` behind real time, so moving it on never takes it past the
    PostgreSQL server's clock (which refuses an event dated ahead of it)."""
    from datetime import timedelta

    clock = Clock()
    clock.offset = -timedelta(hours=hours)
    return clock


def open_at(workspace, clock: Clock, case: int, hours_ago: float) -> str:
    import json
    from datetime import timedelta

    first_seen = (clock.now - timedelta(hours=hours_ago)).isoformat(timespec="seconds")
    result = workspace.run("incident", "open", "--case", str(case), "--first-seen", first_seen, "--summary",
                           "a payment outage that blocked card purchases", "--what", "the card payment outage", "--json",
                           clock=clock)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["id"]


def texts(fake) -> list[str]:
    return [request.json()["text"] for request in fake.requests]


def test_a_rendered_draft_is_announced_once_with_who_may_approve_and_the_link(workspace, cabinet):
    clock = Clock()
    incident = workspace.open_incident(case=2, hours_ago=1)
    draft = workspace.render("--case", "2", "--template", "apology", "--channel", "web", user="marta")
    workers = servers(workspace, clock)
    sent = tick_together(workers) + tick_together(workers)
    assert sent.count(f"rendered:{draft}") == 1
    message = [text for text in texts(cabinet) if draft in text]
    assert len(message) == 1
    assert f"Incident {incident} (case 2)" in message[0] and "ana, luis" in message[0]
    assert f"http://localhost:8400/drafts/{draft}" in message[0]


def test_the_prepare_reminder_fires_once_two_hours_before(workspace, cabinet):
    clock = started_before(2)
    incident = open_at(workspace, clock, 1, 9)
    workers = servers(workspace, clock)
    assert not [key for key in tick_together(workers) if key.startswith("prepare:")]
    clock.advance(hours=1, minutes=1)
    fired = tick_together(workers)
    clock.advance(minutes=30)
    fired += tick_together(workers)
    assert Counter(fired)[f"prepare:{incident}"] == 1
    assert sum("prepare deadline" in text for text in texts(cabinet)) == 1


def test_the_publish_reminder_fires_once_six_hours_before_while_a_channel_is_missing(workspace, cabinet):
    clock = started_before(2)
    incident = open_at(workspace, clock, 1, 41)
    workers = servers(workspace, clock)
    assert f"publish:{incident}" not in tick_together(workers)
    clock.advance(hours=1, minutes=1)
    fired = tick_together(workers) + tick_together(workers)
    assert Counter(fired)[f"publish:{incident}"] == 1
    assert any("still missing: web, outbox" in text for text in texts(cabinet))


def test_case_3_moderation_is_asked_each_day_once(workspace, cabinet):
    clock = started_before(27)
    incident = open_at(workspace, clock, 3, 1)
    workers = servers(workspace, clock)
    first = [key for key in tick_together(workers) if key.startswith("moderation:")]
    clock.advance(hours=2)
    again = [key for key in tick_together(workers) if key.startswith("moderation:")]
    clock.advance(hours=24)
    next_day = [key for key in tick_together(workers) if key.startswith("moderation:")]
    assert len(first) == 1 and again == [] and len(next_day) == 1 and next_day != first
    assert first[0].startswith(f"moderation:{incident}:")


def test_every_notice_is_recorded_in_the_log_once(workspace, cabinet):
    clock = Clock()
    workspace.open_incident(case=1, hours_ago=11)
    workers = servers(workspace, clock, count=3)
    for _ in range(3):
        tick_together(workers)
    keys = [workers[0].store.events(kind="notice.sent")]
    recorded = Counter(event.data["key"] for event in keys[0])
    assert recorded and set(recorded.values()) == {1}
    assert len(cabinet.requests) == sum(recorded.values())
    assert "secret" not in str([event.data for event in keys[0]])


def test_a_case_2_update_reminder_fires_once_when_due(workspace, cabinet):
    clock = started_before(7)
    incident = open_at(workspace, clock, 2, 1)
    draft = workspace.render("--case", "2", "--template", "apology", "--channel", "web", user="marta", clock=clock)
    assert workspace.run("approve", draft, "--as", "ana", clock=clock).exit_code == 0
    workers = servers(workspace, clock)
    assert not [key for key in tick_together(workers) if key.startswith("update:")]
    clock.advance(hours=5, minutes=50)
    assert not [key for key in tick_together(workers) if key.startswith("update:")]
    clock.advance(minutes=20)
    fired = tick_together(workers) + tick_together(workers)
    updates = [key for key in fired if key.startswith(f"update:{incident}:")]
    assert len(updates) == 1
    assert sum("progress update was due" in text for text in texts(cabinet)) == 1


def test_an_invitation_goes_only_to_the_persons_own_address_never_to_a_shared_channel(workspace, cabinet):
    """Issue 21, item 2: the link goes to the invited person's own e-mail address in the
    log, through the workspace's e-mail channel addressed to that person alone; the
    shared channel hears nothing and the inviter's screen shows no link."""
    from tests.fakes.smtp_server import SmtpServer

    with SmtpServer("none") as smtp:
        workspace.write_config(extra='\n[channels.cabinet]\ntype = "slack"\naudience = "internal"\n'
                                     'webhook_url = "${CABINET_WEBHOOK}"\n'
                                     f'\n[channels.press]\ntype = "email"\nhost = "127.0.0.1"\nport = {smtp.port}\n'
                                     'security = "none"\nsender = "Acme <crisis@acme.example>"\n'
                                     'recipients = ["newsroom@example.org"]\n')
        assert workspace.run("people", "add", "vera", "--role", "viewer", "--email", "vera@acme.example",
                             "--as", "ana").exit_code == 0
        result = workspace.run("users", "invite", "vera", user="ana")
        assert result.exit_code == 0, result.output
        assert "/enrol/" not in result.output and "to their own e-mail address through press" in result.output
        assert [mail.rcpt_tos for mail in smtp.received] == [["vera@acme.example"]]
        body = smtp.received[0].message.get_body(("plain",)).get_content()
    token = body.split("/enrol/", 1)[1].split()[0]
    assert not texts(cabinet)
    stored = "\n".join(body for (body,) in workspace.db().execute("SELECT body FROM events"))
    assert token not in stored and '"delivery":"email"' in stored
    in_person = workspace.run("users", "invite", "vera", "--in-person", user="ana")
    assert in_person.exit_code == 0 and "hand it over in person" in in_person.output
    assert in_person.output.strip().splitlines()[-1].startswith("http")
