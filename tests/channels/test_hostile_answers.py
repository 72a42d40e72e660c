"""The webhook channels against hostile loopback servers (issue 20, item 1): a server that
appends an unsolicited answer after the one asked for on a kept-alive connection, and
servers whose answer never ends or inflates without end. Each channel's outcome must be
its own (a refusal stays a refusal, nothing is posted twice, the log counts right), and
memory stays bounded: an answer is read up to 1 MiB after decompression."""
from __future__ import annotations

import gzip
import json
import re
import socket
import threading
import time
import tracemalloc
from typing import Any, Callable

import pytest

from channels import http
from channels.base import Message, Permanent, Receipt, Retryable
from channels.webhook import WebhookChannel

pytestmark = pytest.mark.servers

MEMORY_BOUND = 50 * 1024 * 1024


def answer(status: int, body: bytes, *headers: str) -> bytes:
    reason = {200: "OK", 201: "Created", 403: "Forbidden", 503: "Service Unavailable"}.get(status, "Answer")
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json", f"Content-Length: {len(body)}",
            *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


GHOST_DELIVERED = answer(200, b'{"id": "ghost"}')
GHOST_FAILED = answer(503, b'{"error": "try again"}', "Retry-After: 0")


class HostileServer:
    """A loopback HTTP/1.1 server on raw sockets. `script(path)` gives, for each request,
    the bytes to answer and what to send after them unasked (`extra`, after `pause`
    seconds), or a callable that writes to the connection itself. Records every request
    as (connection number, method, path) and counts connections."""

    def __init__(self, script: Callable[[str], tuple[Any, bytes, float]]):
        self.script = script
        self.requests: list[tuple[int, str, str]] = []
        self.connections = 0
        self.extras_sent = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> "HostileServer":
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._listener.close()
        for session in list(http._shared.values()):
            session.close()

    def posts(self, path: str) -> int:
        return sum(1 for _, method, seen in self.requests if method == "POST" and seen == path)

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(connection, self.connections), daemon=True).start()

    def _answer(self, connection: socket.socket, number: int) -> None:
        pending = b""
        with connection:
            try:
                while True:
                    while b"\r\n\r\n" not in pending:
                        data = connection.recv(65536)
                        if not data:
                            return
                        pending += data
                    head, _, pending = pending.partition(b"\r\n\r\n")
                    found = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                    length = int(found.group(1)) if found else 0
                    while len(pending) < length:
                        pending += connection.recv(65536)
                    pending = pending[length:]
                    method, path = head.split(b" ", 2)[:2]
                    self.requests.append((number, method.decode(), path.decode().split("?", 1)[0]))
                    reply, extra, pause = self.script(path.decode())
                    if callable(reply):
                        reply(connection)
                        return
                    if extra and not pause:
                        connection.sendall(reply + extra)
                    else:
                        connection.sendall(reply)
                        if extra:
                            time.sleep(pause)
                            connection.sendall(extra)
                    if extra:
                        self.extras_sent.set()
            except OSError:
                return


def _message(channel: str) -> Message:
    return Message(draft_id="d-1", channel=channel, parts=("Service is restored.",), title="Restored",
                   incident_id="1", template="update", language="en", case=2, idempotency_key=f"idem-d-1-{channel}")


def _hook(server: HostileServer, path: str, timeout: float = 5) -> WebhookChannel:
    return WebhookChannel.build(path.strip("/"), {"type": "webhook", "url": f"{server.url}{path}",
                                                  "timeout": timeout})


def _outcome(channel: WebhookChannel) -> Receipt | Exception:
    try:
        return channel.send(_message(channel.name))
    except (Retryable, Permanent) as error:
        return error


# --- an unsolicited second answer on a kept-alive connection --------------------------------


def _appending(ghost: bytes, pause: float) -> Callable[[str], tuple[Any, bytes, float]]:
    def script(path: str) -> tuple[Any, bytes, float]:
        if path.startswith("/hooks/refused"):
            return answer(403, b'{"error": "this hook does not take posts"}'), b"", 0
        name = path.rsplit("/", 1)[-1]
        return answer(201, json.dumps({"id": name}).encode()), ghost, pause
    return script


@pytest.mark.parametrize("pause", [0, 0.2], ids=["in-the-same-write", "just-after"])
@pytest.mark.parametrize("ghost", [GHOST_DELIVERED, GHOST_FAILED], ids=["ghost-200", "ghost-503"])
def test_an_unsolicited_answer_is_never_read_by_the_next_channel(ghost, pause):
    with HostileServer(_appending(ghost, pause)) as server:
        outcomes = []
        for path in ("/hooks/first", "/hooks/refused", "/hooks/second", "/hooks/third"):
            outcomes.append(_outcome(_hook(server, path)))
            assert server.extras_sent.wait(5) or path == "/hooks/refused"
            time.sleep(pause)
    first, refused, second, third = outcomes
    assert isinstance(first, Receipt) and first.id == "first"
    assert isinstance(refused, Permanent) and "403" in refused.reason, refused
    assert isinstance(second, Receipt) and second.id == "second"
    assert isinstance(third, Receipt) and third.id == "third"
    for path in ("/hooks/first", "/hooks/refused", "/hooks/second", "/hooks/third"):
        assert server.posts(path) == 1, (path, server.requests)


HOOKS = "".join(f'\n[channels.{name}]\ntype = "webhook"\nurl = "${{{name.upper().replace("-", "_")}}}"\n'
                f'audience = "internal"\ntimeout = 5\n' for name in ("hook-a", "hook-b", "hook-c", "hook-d"))


def _approve_through(workspace, server: HostileServer, paths: dict[str, str]):
    workspace.write_config(extra=HOOKS + "\n[delivery]\nworkers = 1\n")
    env = {name.upper().replace("-", "_"): f"{server.url}{path}" for name, path in paths.items()}
    workspace.open_incident()
    draft = workspace.render("--case", "2", "--template", "apology", env=env)
    return workspace.run("approve", draft, "--as", "ana", env=env), env


def test_a_run_through_a_server_that_appends_answers_records_each_channel_s_own_outcome(workspace):
    paths = {"hook-a": "/hooks/a", "hook-b": "/hooks/refused", "hook-c": "/hooks/c", "hook-d": "/hooks/d"}
    with HostileServer(_appending(GHOST_DELIVERED + GHOST_FAILED, 0)) as server:
        result, env = _approve_through(workspace, server, paths)
    assert result.exit_code == 1, result.output
    events = [event for event in json.loads(workspace.run("log", "--json", env=env).output)
              if event["kind"] in ("delivery.delivered", "delivery.failed") and event["channel"] in paths]
    delivered = sorted(event["channel"] for event in events if event["kind"] == "delivery.delivered")
    failed = [event["channel"] for event in events if event["kind"] == "delivery.failed"]
    assert delivered == ["hook-a", "hook-c", "hook-d"] and failed == ["hook-b"]
    assert "ghost" not in json.dumps(events)
    assert [server.posts(path) for path in paths.values()] == [1, 1, 1, 1]


# --- answers without end --------------------------------------------------------------------


def _endless_chunks(connection: socket.socket) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b"%x\r\n" % 65536 + b" " * 65536 + b"\r\n"
    while True:
        connection.sendall(piece)


def _bomb() -> bytes:
    """2.3 MB of gzip that inflates to 512 MiB: one member of 8 MiB of zeros, 64 times
    (a gzip body may hold several members, read one after another)."""
    member = gzip.compress(b"\0" * (8 << 20), compresslevel=1)
    return member * 64


def _sending(body: bytes, *headers: str) -> Callable[[socket.socket], None]:
    def send(connection: socket.socket) -> None:
        head = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}", *headers]
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    return send


def _bounded_outcome(channel: WebhookChannel) -> tuple[Receipt | Exception, int]:
    """The channel's outcome and the peak of memory allocated while it was sent."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        outcome = _outcome(channel)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return outcome, peak


BOMB = _bomb()


@pytest.mark.parametrize("body", ["endless-chunks", "gzip-bomb"])
def test_an_answer_without_end_is_an_unknown_outcome_read_in_bounded_memory(body):
    sender = _endless_chunks if body == "endless-chunks" else _sending(BOMB, "Content-Encoding: gzip")
    assert len(BOMB) > 2_000_000
    served = {"/hooks/big": sender, "/hooks/next": answer(201, b'{"id": "next"}')}
    with HostileServer(lambda path: (served[path], b"", 0)) as server:
        outcome, peak = _bounded_outcome(_hook(server, "/hooks/big", timeout=20))
        following = _outcome(_hook(server, "/hooks/next"))
    assert isinstance(outcome, Retryable), outcome
    assert outcome.maybe_delivered and "longer than 1 MiB" in outcome.reason
    assert peak < MEMORY_BOUND, f"{peak / 2**20:.0f} MiB allocated reading one answer"
    assert isinstance(following, Receipt) and following.id == "next"
    assert server.connections == 2 and server.posts("/hooks/big") == 1


def test_an_answer_of_exactly_the_bound_is_read_and_one_byte_more_is_not():
    bound = http.MAX_ANSWER
    exact = json.dumps({"id": "exact", "pad": " " * (bound - 26)}).encode()
    assert len(exact) == bound
    served = {"/hooks/exact": _sending(exact), "/hooks/over": _sending(exact + b" ")}
    with HostileServer(lambda path: (served[path], b"", 0)) as server:
        fits, over = _outcome(_hook(server, "/hooks/exact")), _outcome(_hook(server, "/hooks/over"))
    assert isinstance(fits, Receipt) and fits.id == "exact"
    assert isinstance(over, Retryable) and over.maybe_delivered


def test_a_run_whose_receiver_streams_without_end_records_an_unknown_outcome(workspace):
    with HostileServer(lambda path: (_endless_chunks, b"", 0)) as server:
        result, env = _approve_through(workspace, server, {"hook-a": "/hooks/a", "hook-b": "/hooks/b",
                                                           "hook-c": "/hooks/c", "hook-d": "/hooks/d"})
    assert result.exit_code == 1, result.output
    failed = [event for event in json.loads(workspace.run("log", "--json", env=env).output)
              if event["kind"] == "delivery.failed" and event["channel"].startswith("hook-")]
    assert sorted(event["channel"] for event in failed) == ["hook-a", "hook-b", "hook-c", "hook-d"]
    assert all("longer than 1 MiB" in json.dumps(event["data"]) for event in failed)
    assert "failed-permanent" not in workspace.run("log", "--json", env=env).output
    assert [server.posts(path) for path in ("/hooks/a", "/hooks/b", "/hooks/c", "/hooks/d")] == [1, 1, 1, 1]


# --- Telegram (python-telegram-bot over httpx) ------------------------------------------------


TELEGRAM_TOKEN = "7012345678:CANARY-hostile-3c2b1a"


def _telegram(server: HostileServer):
    from channels.telegram import TelegramChannel

    return TelegramChannel.build("telegram-main", {"type": "telegram", "token": TELEGRAM_TOKEN, "chat": "@acme",
                                                   "api_url": server.url, "timeout": 10},
                                 secrets=frozenset({TELEGRAM_TOKEN}))


def _posted(message_id: int) -> bytes:
    return json.dumps({"ok": True, "result": {"message_id": message_id, "date": 1795000000, "text": "x",
                                              "chat": {"id": -1001, "type": "channel", "username": "acme"}}}).encode()


def test_telegram_never_reads_an_unsolicited_answer_as_the_next_part_s():
    answers = iter([(answer(200, _posted(41)), answer(200, _posted(999)), 0),
                    (answer(400, b'{"ok": false, "error_code": 400, "description": "Bad Request: too long"}'),
                     b"", 0)])
    with HostileServer(lambda path: next(answers)) as server:
        channel = _telegram(server)
        try:
            channel.send(Message(draft_id="d-1", channel="telegram-main", parts=("1/2 Restored.", "2/2 Thanks."),
                                 title="", incident_id="1", template="update", language="en", case=2))
        except Permanent as error:
            outcome = error
    assert "too long" in outcome.reason.lower() and [part.id for part in outcome.sent_parts] == ["41"]
    assert len(server.requests) == 2


@pytest.mark.parametrize("body", ["endless-chunks", "gzip-bomb"])
def test_telegram_reads_an_answer_without_end_in_bounded_memory(body):
    sender = _endless_chunks if body == "endless-chunks" else _sending(BOMB, "Content-Encoding: gzip")
    with HostileServer(lambda path: (sender, b"", 0)) as server:
        channel = _telegram(server)
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            with pytest.raises(Retryable) as too_long:
                channel.send(_message("telegram-main"))
            peak = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
    assert too_long.value.maybe_delivered and "longer than 1 MiB" in too_long.value.reason
    assert peak < MEMORY_BOUND, f"{peak / 2**20:.0f} MiB allocated reading one answer"
