"""The channels' one HTTP transport (`channels.http.send`, as the webhook channels use it)
against a loopback server: what goes on the wire, what is never carried from one request
to the next, and what each failure means for the outcome."""
from __future__ import annotations

import base64
import gzip
import re
import socket
import threading

import pytest

from channels import http
from channels.base import Permanent, Retryable
from tests.fakes.server import FakeServer, Reply
from tests.fakes.smtp_server import self_signed_cert, server_context

pytestmark = pytest.mark.servers

SECRET = "CANARY-transport-5d1e0a"


def _send(url: str, **extra):
    options = {"body": b'{"text": "Service is restored."}', "headers": {"Content-Type": "application/json"},
               "timeout": 5, "redact": lambda text: text.replace(SECRET, "***")}
    options.update(extra)
    return http.send("POST", url, **options)


def test_a_post_carries_its_body_headers_and_query_and_nothing_else():
    with FakeServer(lambda request: Reply(201, {"id": "evt_1"}, {"Set-Cookie": "sid=abc; Path=/"})) as server:
        first = _send(f"{server.url}/hooks/a", params={"wait": "true"}, headers={"Idempotency-Key": "k-1"})
        _send(f"{server.url}/hooks/b")
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


def forget_connections() -> None:
    """Close the shared sessions' idle connections (each test counts its own)."""
    for session in list(http._shared.values()):
        session.close()


class ScriptedServer:
    """A loopback HTTP/1.1 server answering each request with the next scripted bytes
    (`None`: close the connection without answering; `(bytes, "close")`: answer, then
    close); counts the connections it took."""

    def __init__(self, *answers, tls=None):
        self.answers = list(answers)
        self.connections = 0
        self.requests: list[bytes] = []
        self.closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._tls = tls
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._listener.close()
        forget_connections()

    def _serve(self) -> None:
        while self.answers:
            try:
                connection, _ = self._listener.accept()
                if self._tls:
                    connection = self._tls.wrap_socket(connection, server_side=True)
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            pending = b""
            while self.answers:
                while b"\r\n\r\n" not in pending:
                    data = connection.recv(65536)
                    if not data:
                        return
                    pending += data
                head, _, pending = pending.partition(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1)) if b"ength" in head else 0
                while len(pending) < length:
                    pending += connection.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + pending[:length])
                pending = pending[length:]
                answer = self.answers.pop(0)
                if answer is None:
                    return
                if isinstance(answer, tuple):
                    connection.sendall(answer[0])
                    connection.close()
                    self.closed.set()
                    return
                connection.sendall(answer)


OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"id\": \"1\"}"


def test_one_kept_alive_connection_carries_requests_one_after_another():
    with ScriptedServer(OK, OK, OK) as server:
        answers = [_send(f"{server.url}/hooks/{n}") for n in range(3)]
    assert [answer.json() for answer in answers] == [{"id": "1"}] * 3
    assert server.connections == 1


def test_an_answer_saying_connection_close_leaves_its_connection():
    closing = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    with ScriptedServer(closing, OK) as server:
        first, second = _send(f"{server.url}/hooks/a"), _send(f"{server.url}/hooks/b")
    assert (first.text, second.json()) == ("ok", {"id": "1"})
    assert server.connections == 2


def test_a_kept_alive_connection_the_server_closed_while_idle_is_not_reused():
    with ScriptedServer((OK, "close"), OK) as server:
        first = _send(f"{server.url}/hooks/a")
        assert server.closed.wait(5)
        second = _send(f"{server.url}/hooks/b")
    assert first.json() == second.json() == {"id": "1"}
    assert server.connections == 2 and len(server.requests) == 2


def test_chunked_gzipped_and_close_delimited_answers_are_read_whole():
    packed = gzip.compress(b'{"id": "zipped"}')
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\n{\"id\"\r\n9\r\n: \"parts\"\r\n1\r\n}\r\n0\r\n\r\n")
    zipped = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(packed) + packed
    until_close = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nthe whole answer"
    with ScriptedServer(chunked, zipped, until_close) as server:
        answers = [_send(f"{server.url}/hooks/{n}") for n in range(3)]
    assert answers[0].json() == {"id": "parts"} and answers[1].json() == {"id": "zipped"}
    assert answers[2].text == "the whole answer"


def test_an_interim_answer_is_set_aside_for_the_final_one():
    with ScriptedServer(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK) as server:
        answer = _send(f"{server.url}/hooks/a")
    assert answer.status_code == 200 and answer.headers.get("link") is None


def test_an_answer_cut_after_its_status_line_may_have_been_delivered():
    with ScriptedServer((b"HTTP/1.1 201 Created\r\nContent-Length: 400\r\n\r\n{\"id\"", "close")) as server:
        with pytest.raises(Retryable) as cut:
            _send(f"{server.url}/hooks/a")
    assert cut.value.maybe_delivered is True and "cut off" in cut.value.reason


def test_an_answer_that_is_not_http_may_have_been_delivered():
    with ScriptedServer((b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "close")) as server:
        with pytest.raises(Retryable) as garbled:
            _send(f"{server.url}/hooks/a")
    assert garbled.value.maybe_delivered is True


def test_a_header_holding_a_line_break_is_refused_before_anything_is_sent():
    with ScriptedServer(OK) as server:
        with pytest.raises(Permanent):
            _send(f"{server.url}/hooks/a", headers={"X-Note": "one\r\nX-Injected: yes"})
    assert server.requests == []


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


def test_https_is_verified_against_the_configured_bundle(certificate, monkeypatch):
    cert, key = certificate
    with ScriptedServer(OK, tls=server_context(cert, key)) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        answer = _send(f"{server.url}/hooks/{SECRET}")
    assert answer.json() == {"id": "1"} and server.requests[0].startswith(f"POST /hooks/{SECRET} ".encode())


def test_an_untrusted_certificate_is_a_permanent_failure_and_nothing_is_sent(certificate, monkeypatch):
    cert, key = certificate
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with ScriptedServer(OK, tls=server_context(cert, key)) as server:
        with pytest.raises(Permanent) as untrusted:
            _send(f"{server.url}/hooks/{SECRET}")
    assert "is not trusted (untrusted issuer: self-signed certificate)" in untrusted.value.reason
    assert SECRET not in str(untrusted.value) and server.requests == []
