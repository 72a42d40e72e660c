"""The webhook channels' transport (`channels.wire`) against a loopback server: what goes
on the wire, what is never carried from one request to the next, and what each failure
means for the outcome."""
from __future__ import annotations

import base64
import socket

import pytest

from channels import wire
from channels.base import Permanent, Retryable
from tests.fakes.server import FakeServer, Reply

SECRET = "CANARY-wire-5d1e0a"


def _send(url: str, **extra):
    options = {"body": b'{"text": "Service is restored."}', "headers": {"Content-Type": "application/json"},
               "timeout": 5, "redact": lambda text: text.replace(SECRET, "***")}
    options.update(extra)
    return wire.send("POST", url, **options)


def test_a_post_carries_its_body_headers_and_query_and_nothing_else():
    with FakeServer(lambda request: Reply(201, {"id": "evt_1"}, {"Set-Cookie": "sid=abc; Path=/"})) as server:
        first = _send(f"{server.url}/hooks/a", params={"wait": "true"}, headers={"Idempotency-Key": "k-1"})
        second = _send(f"{server.url}/hooks/b")
    assert first.status_code == 201 and first.json() == {"id": "evt_1"}
    assert first.headers.get("set-cookie") == "sid=abc; Path=/"
    posted, again = server.requests
    assert posted.path == "/hooks/a" and posted.query == {"wait": ["true"]}
    assert posted.json() == {"text": "Service is restored."} and posted.header("Idempotency-Key") == "k-1"
    assert posted.header("Content-Length") == str(len(posted.body))
    assert again.header("Idempotency-Key") is None and again.header("Cookie") is None


def test_a_user_and_password_in_the_url_become_basic_authorization_and_leave_the_url():
    with FakeServer(lambda request: Reply(200, "ok")) as server:
        host = server.url.split("//", 1)[1]
        answer = _send(f"http://hook%20user:{SECRET}@{host}/hooks/a")
    assert answer.text == "ok"
    (request,) = server.requests
    assert request.header("Authorization") == "Basic " + base64.b64encode(f"hook user:{SECRET}".encode()).decode()
    assert SECRET not in request.path and "@" not in (request.header("Host") or "")


def test_a_redirect_is_returned_not_followed():
    with FakeServer(lambda request: Reply(302, "", {"Location": "/elsewhere"})) as server:
        answer = _send(f"{server.url}/hooks/a")
    assert answer.status_code == 302
    assert [request.path for request in server.requests] == ["/hooks/a"]


def test_a_refused_connection_was_not_delivered():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Retryable) as refused:
        _send(f"http://127.0.0.1:{port}/hooks/{SECRET}")
    assert refused.value.maybe_delivered is False and "refused the connection" in refused.value.reason
    assert SECRET not in str(refused.value)


def test_a_connection_reset_before_the_answer_may_have_been_delivered():
    with FakeServer(lambda request: Reply(reset=True)) as server:
        with pytest.raises(Retryable) as broke:
            _send(f"{server.url}/hooks/a")
    assert broke.value.maybe_delivered is True


def test_an_unusable_url_is_a_permanent_failure():
    with pytest.raises(Permanent):
        _send("http://[not-a-host/hooks/a")


def test_a_proxy_in_the_environment_is_used(monkeypatch):
    with FakeServer(lambda request: Reply(200, {"id": "via-proxy"})) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        answer = _send("http://hooks.example.org/hooks/a")
    assert answer.json() == {"id": "via-proxy"}
    (request,) = proxy.requests
    assert request.path == "/hooks/a" and request.header("Host") == "hooks.example.org"


def test_an_answer_in_another_charset_is_read_in_it():
    body = "Service rétabli".encode("latin-1")
    with FakeServer(lambda request: Reply(400, body, {"Content-Type": "text/plain; charset=iso-8859-1"})) as server:
        answer = _send(f"{server.url}/hooks/a")
    assert answer.text == "Service rétabli"
    with pytest.raises(ValueError):
        answer.json()
