"""`timeout` bounds a whole request, a freeze stops requests in flight, and an answer cut
after its status line is an unknown outcome (issue 10, items 10 and 11).

Every network channel is sent to a loopback server that either trickles its answer one
byte a second (status line included) or sends a 200 and resets the connection halfway
through its body. Bounds are generous (a run with timeout = 2 must end well under
10 s, against the 200 s a trickle used to hold it); what is asserted is the outcome."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from channels.base import Channel, Message, Permanent, Receipt, Retryable
from tests.fakes.server import FakeServer, Reply

pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parents[1]
SECRET = "CANARY-timeouts-7b6a5c"


def _message() -> Message:
    return Message(draft_id="d-1", channel="ch", parts=("Service is restored.",), title="Restored",
                   incident_id="1", template="update", language="en", case=2, idempotency_key="idem-d-1-ch")


def _build(kind: str, api_url: str, timeout: float) -> Channel:
    from channels import channel_class

    settings: dict[str, Any] = {
        "webhook": {"url": f"https://tools.example.org/hooks/incident?token={SECRET}"},
        "slack": {"webhook_url": f"https://hooks.slack.com/services/T0ABC1234/B0DEF5678/{SECRET}"},
        "discord": {"webhook_url": f"https://discord.com/api/webhooks/1180000000000000000/{SECRET}"},
        "teams": {"webhook_url": "https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/"
                                 f"paths/invoke?api-version=2016-06-01&sig={SECRET}"},
        "mastodon": {"instance": api_url, "token": SECRET},
        "facebook": {"page_id": "104857600123456", "token": SECRET},
        "x": {"api_key": SECRET + "k", "api_secret": SECRET + "s", "access_token": SECRET + "t",
              "access_token_secret": SECRET + "ts", "username": "acme"},
        "telegram": {"token": f"7012345678:{SECRET}", "chat": "@acme"},
    }[kind]
    if kind != "mastodon":
        settings["api_url"] = api_url
    raw = {"type": kind, "timeout": timeout, **settings}
    return channel_class(kind).build(f"{kind}-test", raw, secrets=frozenset({SECRET}))


SUCCESS: dict[str, tuple[int, Any]] = {
    "webhook": (201, {"id": "evt_0001", "url": "https://status.example.org/events/evt_0001"}),
    "slack": (200, "ok"),
    "discord": (200, {"id": "1180000000000000123", "channel_id": "1", "timestamp": "2026-11-20T10:00:00+00:00",
                      "webhook_id": "1180000000000000000", "content": "Service is restored."}),
    "teams": (202, {"status": "accepted", "run": "08584000000000000000"}),
    "mastodon": (200, {"id": "109999999999999999", "url": "https://social.example/@acme/109999999999999999",
                       "created_at": "2026-11-20T10:00:00.000Z", "content": "<p>Service is restored.</p>"}),
    "facebook": (200, {"id": "104857600123456_987654321000001"}),
    "x": (201, {"data": {"id": "1859000000000000000", "text": "Service is restored.",
                         "edit_history_tweet_ids": ["1859000000000000000"]}}),
    "telegram": (200, {"ok": True, "result": {"message_id": 42, "date": 1795000000,
                                              "chat": {"id": -1001, "type": "channel", "username": "acme"},
                                              "text": "Service is restored."}}),
}
KINDS = sorted(SUCCESS)


def _outcome(channel: Channel) -> Receipt | Exception:
    try:
        return channel.send(_message())
    except (Retryable, Permanent) as error:
        return error


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    return call(), time.monotonic() - started


@pytest.mark.parametrize("kind", KINDS)
def test_a_trickling_answer_is_cut_at_the_timeout(kind):
    status, body = SUCCESS[kind]
    with FakeServer(lambda request: Reply(status, body, trickle=1.0)) as server:
        outcome, took = _timed(lambda: _outcome(_build(kind, server.url, timeout=2)))
        assert server.requests, "the request went out"
    assert isinstance(outcome, Retryable), outcome
    assert outcome.maybe_delivered, outcome.reason
    assert SECRET not in outcome.reason
    assert took < 10, f"{kind} held the send {took:.1f} s with timeout = 2"


@pytest.mark.parametrize("kind", KINDS)
def test_a_success_cut_after_its_status_line_is_an_unknown_outcome(kind):
    status, body = SUCCESS[kind]
    encoded = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    with FakeServer(lambda request: Reply(status, body, cut_after=len(encoded) // 2)) as server:
        outcome = _outcome(_build(kind, server.url, timeout=5))
        assert len([r for r in server.requests if r.method == "POST"]) == 1
    assert isinstance(outcome, Retryable), f"{kind}: {outcome!r}"
    assert outcome.maybe_delivered, f"{kind}: {outcome.reason}"


class TricklingSmtp:
    """An SMTP server that sends an endless greeting one byte a second."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            while not self.stop.is_set():
                for byte in b"220-still greeting\r\n":
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        return
                    if self.stop.wait(1.0):
                        return

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def test_a_trickling_mail_server_is_cut_at_the_timeout():
    from channels.email import EmailChannel

    server = TricklingSmtp()
    try:
        channel = EmailChannel.build("press", {"type": "email", "host": "127.0.0.1", "port": server.port,
                                               "security": "none", "sender": "Acme <press@acme.example>",
                                               "recipients": ["news@example.org"], "timeout": 2})
        outcome, took = _timed(lambda: _outcome(channel))
    finally:
        server.close()
    assert isinstance(outcome, Retryable) and "timeout" in outcome.reason, outcome
    assert took < 10


# --- through the CLI: the run ends, and a freeze stops a request in flight -----------------------


HOOK = '\n[channels.hook]\ntype = "webhook"\nurl = "${HOOK_URL}"\naudience = "internal"\ntimeout = {timeout}\n'


def _approve_to(workspace, server: FakeServer, timeout: float):
    workspace.write_config(extra=HOOK.replace("{timeout}", str(timeout)))
    env = {"HOOK_URL": f"{server.url}/hooks/incident"}
    workspace.open_incident()
    draft = workspace.render("--case", "2", "--template", "apology", env=env)
    return draft, env


def test_a_run_against_a_trickling_receiver_ends_with_an_unknown_outcome(workspace):
    with FakeServer(lambda request: Reply(201, {"id": "evt_1"}, trickle=1.0)) as server:
        draft, env = _approve_to(workspace, server, timeout=2)
        result, took = _timed(lambda: workspace.run("approve", draft, "--as", "ana", env=env))
    assert result.exit_code == 1, result.output
    assert took < 10
    shown = json.loads(workspace.run("drafts", "show", draft, "--json").output)
    assert "unknown" in json.dumps(shown)
    failed = [event for event in json.loads(workspace.run("log", "--json").output)
              if event["kind"] == "delivery.failed" and event["channel"] == "hook"]
    assert failed and "the whole request took longer than 2 s" in json.dumps(failed[-1]["data"])


def test_a_cut_answer_is_not_recorded_as_a_permanent_failure(workspace):
    with FakeServer(lambda request: Reply(201, {"id": "evt_1", "url": "https://e.example/1"}, cut_after=6)) as server:
        draft, env = _approve_to(workspace, server, timeout=5)
        result = workspace.run("approve", draft, "--as", "ana", env=env)
    assert result.exit_code == 1
    log = workspace.run("log", "--json").output
    assert "failed-permanent" not in log and "permanent" not in result.output.lower()
    assert "cut off" in log


def test_a_freeze_stops_a_request_in_flight(workspace):
    with FakeServer(lambda request: Reply(201, {"id": "evt_1"}, trickle=1.0)) as server:
        draft, env = _approve_to(workspace, server, timeout=120)

        def freeze_when_sending() -> None:
            while not server.requests:
                time.sleep(0.05)
            subprocess.run([sys.executable, "-m", "publisher", "freeze", "--reason", "legal asked us to stop"],
                           cwd=ROOT, env={**os.environ, "PUBLISH_WORKSPACE": str(workspace.path),
                                          "PUBLISH_USER": "ana"}, check=True, capture_output=True, timeout=60)

        freezer = threading.Thread(target=freeze_when_sending)
        freezer.start()
        result, took = _timed(lambda: workspace.run("approve", draft, "--as", "ana", env=env))
        freezer.join()
    assert took < 60, "the request in flight was not stopped by the freeze"
    assert result.exit_code == 1, result.output
    log = workspace.run("log", "--json").output
    assert "stopped in flight by a freeze" in log
