"""Two (or three) operators: `publish send` run by several processes on one workspace at
the same moment never delivers the same (draft, channel) twice, and every process ends
knowing the draft is delivered."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.delivery_support import Fakes, delivery_events, machines
from tests.fakes.server import Reply

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.servers, pytest.mark.both_stores]


def _slow(fake, seconds: float) -> None:
    normal = fake.handler

    def answer(request):
        reply = normal(request)
        if request.method == "POST":
            return Reply(reply.status, reply.body, reply.headers, delay=seconds)
        return reply

    fake.handler = answer
    if hasattr(fake, "answers"):
        fake.answers = answer


@pytest.fixture
def fakes(workspace):
    running = Fakes().start()
    for fake in running.all:
        _slow(fake, 0.6)
    try:
        yield running
    finally:
        running.stop()


def _approved_not_sent(workspace, fakes, summary: str) -> str:
    """An approved draft nobody has sent yet: approved while a freeze held it, then the
    freeze lifted without sending."""
    workspace.write_config(required=1, extra=fakes.config())
    workspace.open_incident(case=2, what=summary)
    draft = workspace.render("--case", "2", "--template", "apology", env=fakes.env())
    assert workspace.run("freeze", "--reason", "hold it", "--as", "ana", env=fakes.env()).exit_code == 0
    assert workspace.run("approve", draft, "--as", "ana", env=fakes.env()).exit_code == 0
    assert workspace.run("unfreeze", "--reason", "send it by hand", "--as", "ana", env=fakes.env()).exit_code == 0
    return draft


def _send_at_once(workspace, fakes, draft: str, processes: int) -> list[subprocess.CompletedProcess]:
    """`processes` operators at once; on PostgreSQL each on a machine of its own."""
    env = {**os.environ, **fakes.env(), "PUBLISH_USER": "luis"}
    running = [subprocess.Popen([sys.executable, "-m", "publisher", "send", draft], cwd=ROOT,
                                env={**env, "PUBLISH_WORKSPACE": str(folder)},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for folder in machines(workspace, processes)]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=120), p.communicate()[0]) for p in running]


@pytest.mark.parametrize("processes", [2, 3])
def test_operators_sending_one_draft_at_once_deliver_each_channel_once(workspace, fakes, processes):
    marker = f"an outage seen by {processes} operators"
    draft = _approved_not_sent(workspace, fakes, marker)
    results = _send_at_once(workspace, fakes, draft, processes)
    assert [r.returncode for r in results] == [0] * processes, [r.stdout for r in results]
    assert fakes.posts(marker) == {"mastodon": 1, "x": 1, "cabinet": 1}
    events = delivery_events(workspace)
    for channel in ("web", "outbox", "mastodon", "x", "cabinet"):
        kinds = [e["kind"] for e in events if e["channel"] == channel]
        assert kinds == ["delivery.started", "delivery.delivered"], (channel, kinds)
        senders = [r for r in results if f" s  {channel}: sending - attempt 1" in r.stdout]
        assert len(senders) == 1, channel
    waited = [r for r in results if "another publish process is sending this channel" in r.stdout]
    assert waited, "the processes never overlapped"
    assert workspace.run("log", "verify").exit_code == 0


def test_a_second_operator_after_the_first_sends_nothing(workspace, fakes):
    draft = _approved_not_sent(workspace, fakes, "an outage sent twice in a row")
    first, = _send_at_once(workspace, fakes, draft, 1)
    second, = _send_at_once(workspace, fakes, draft, 1)
    assert first.returncode == 0 and second.returncode == 0
    assert second.stdout.count("already delivered") >= 5
    assert fakes.posts("an outage sent twice in a row") == {"mastodon": 1, "x": 1, "cabinet": 1}


def test_an_attempt_in_flight_is_not_listed_as_unconfirmed(workspace, fakes):
    from tests.delivery_support import wait_for

    draft = _approved_not_sent(workspace, fakes, "an outage still being sent")
    _slow(fakes.slack, 2.0)
    env = {**os.environ, **fakes.env(), "PUBLISH_WORKSPACE": str(workspace.path), "PUBLISH_USER": "luis"}
    process = subprocess.Popen([sys.executable, "-m", "publisher", "send", draft], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: any(r.method == "POST" for r in fakes.slack.requests))
        shown = workspace.run("drafts", "show", draft, "--json").output
        assert '"cabinet": "sending"' in shown
        status = workspace.run("status", "--json", env=fakes.env())
        assert '"unconfirmed": []' in status.output
        busy = workspace.run("confirm", draft, "cabinet", "--url", "https://acme.slack.com/x", "--as", "ana")
        assert busy.exit_code == 2 and "right now" in busy.output
    finally:
        output = process.communicate(timeout=60)[0]
    assert process.returncode == 0, output
    assert fakes.posts("an outage still being sent")["cabinet"] == 1
