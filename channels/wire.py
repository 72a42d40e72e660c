"""The webhook channels' requests (webhook, Slack, Discord, Teams): HTTP/1.1 written on a
kept-alive socket, answers read by httptools.

Why not requests or urllib3 here: a fan-out to hundreds of webhooks is bound by the CPU
each request costs, and for a POST of a few hundred bytes their Python layers (requests'
session machinery, urllib3's pool manager, http.client's e-mail header parser) cost six
times what the request itself does (0.27 ms against 0.04 ms per POST, measured on
loopback). Here a request goes out in one write and its answer is parsed by llhttp,
Node's HTTP parser, through httptools (the parser uvicorn runs on). The channels that
speak through an SDK or a session (X, Facebook, Mastodon) keep requests
(`channels.http`); so does this module whenever a proxy is set in the environment, so
proxy rules (`no_proxy`) stay requests'.

Guarantees (those `channels.http` gives, kept here):
- a request goes out once per call: no retry, no redirect followed (a 3xx is returned);
- `timeout` bounds the whole request (connect, send, the whole answer), and a freeze
  stops it in flight (`channels.deadline`);
- every transport failure becomes a `Retryable` whose `maybe_delivered` says whether the
  request could have reached the platform: a connection refused, not accepted in time or
  whose TLS handshake failed was not; a request whose answer did not come, broke off or
  was cut after its status line may have been, and is never taken for a refusal;
  reasons carry no secret (`redact`);
- TLS is verified against the bundle requests uses (certifi's, or `REQUESTS_CA_BUNDLE` /
  `CURL_CA_BUNDLE`), host name included; a user name and password in the URL become
  Basic authorization and never reach the request line or `Host`;
- connections are kept alive and pooled per process and per (scheme, host, port, trust);
  one the server closed while it was idle is never reused, and one whose answer did not
  end cleanly is closed; nothing of one request (headers, cookies) is kept for another.
"""
from __future__ import annotations

import functools
import json
import os
import select
import socket
import threading
import zlib
from base64 import b64encode
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote, unquote, urlencode, urlsplit

from channels import http
from channels.base import Permanent, Retryable
from channels.deadline import Deadline

USER_AGENT = "publish (crisis response publisher)"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
BODY_METHODS = ("POST", "PUT", "PATCH")
PATH_SAFE = "!#$%&'()*+,/:;=?@[]~"
READ_SIZE = 65536


class Headers:
    """An answer's headers, looked up by name in any case; a repeated header's values are
    joined by ", "."""

    __slots__ = ("_values",)

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()):
        values: dict[str, str] = {}
        for name, value in pairs:
            key = name.lower()
            values[key] = f"{values[key]}, {value}" if key in values else value
        self._values = values

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]



class Answer:
    """A platform's answer as the webhook channels read it (the parts of a
    `requests.Response` they use)."""

    __slots__ = ("status_code", "headers", "content")

    def __init__(self, status_code: int, headers: Any, content: bytes):
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def encoding(self) -> str:
        kind = self.headers.get("Content-Type") or ""
        for parameter in kind.split(";")[1:]:
            name, _, value = parameter.strip().partition("=")
            if name.lower() == "charset" and value:
                return value.strip('"\'')
        return "utf-8"

    @property
    def text(self) -> str:
        try:
            return self.content.decode(self.encoding, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class _Target:
    """Where one request goes: the pool it draws on, and what its request line and `Host`
    say (never the URL's user name or password)."""

    __slots__ = ("key", "host", "port", "tls", "host_header", "path", "authorization")

    def __init__(self, url: str, params: Mapping[str, str] | None):
        scheme, self.host, self.port, self.host_header, self.path, self.authorization = _parsed(url)
        if params:
            self.path += ("&" if "?" in self.path else "?") + quote(urlencode(params), safe=PATH_SAFE)
        self.tls = scheme == "https"
        bundle = next((os.environ[name] for name in CA_VARIABLES if os.environ.get(name)), "") if self.tls else ""
        self.key = (scheme, self.host, self.port, bundle)


@functools.lru_cache(maxsize=1024)
def _parsed(url: str) -> tuple[str, str, int, str, str, str | None]:
    """(scheme, host, port, Host header, request path, Basic authorization) of a URL (a
    channel posts to the same few URLs again and again)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    default_port = 443 if scheme == "https" else 80
    host = parts.hostname.encode("idna").decode("ascii")
    port = parts.port or default_port
    userinfo, _, host_header = parts.netloc.rpartition("@")
    if not host_header.isascii():
        host_header = host if port == default_port else f"{host}:{port}"
    path = quote(parts.path or "/", safe=PATH_SAFE) + (f"?{quote(parts.query, safe=PATH_SAFE)}" if parts.query else "")
    authorization = None
    if userinfo:
        user, _, password = userinfo.partition(":")
        token = b64encode(f"{unquote(user)}:{unquote(password)}".encode("latin-1", "replace")).decode("ascii")
        authorization = f"Basic {token}"
    return scheme, host, port, host_header, path, authorization


def send(method: str, url: str, *, body: bytes | None, headers: Mapping[str, str], timeout: float,
         redact: Callable[[str], str], params: Mapping[str, str] | None = None) -> Any:
    """One request; the answer whatever its status. Transport failures raise (see above)."""
    if any(os.environ.get(name) for name in PROXY_VARIABLES):
        return http.request(lambda: http.shared_session().request(
            method, url, data=body, params=params, headers=dict(headers), timeout=timeout,
            allow_redirects=False), redact)
    try:
        target = _Target(url, params)
        request = _request_bytes(method, target, body, headers)
    except (ValueError, UnicodeError):
        raise Permanent("request failed: InvalidURL") from None
    total = http.whole_timeout(timeout)
    with Deadline(total) as deadline:
        exchange = _Exchange(target, deadline)
        try:
            return exchange.run(request, total)
        except Exception as error:
            exchange.discard()
            deadline.check()
            raise _failure(error, exchange.stage, deadline, redact) from None


def _request_bytes(method: str, target: _Target, body: bytes | None, headers: Mapping[str, str]) -> bytes:
    sent = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
    if target.authorization:
        sent["Authorization"] = target.authorization
    sent.update(headers)
    lines = [f"{method} {target.path} HTTP/1.1", f"Host: {target.host_header}"]
    lines += [f"{name}: {value}" for name, value in sent.items() if name.lower() not in ("host", "content-length")]
    if body is not None or method in BODY_METHODS:
        lines.append(f"Content-Length: {len(body or b'')}")
    if any("\n" in line or "\r" in line or "\x00" in line for line in lines):
        raise ValueError("a header holds a line break")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class _Reading:
    """httptools' callbacks for one answer: status, headers and body of the final answer
    (an interim 1xx answer is set aside)."""

    __slots__ = ("parser", "status_seen", "headers", "body", "headers_done", "complete", "until_close", "keep_alive")

    def __init__(self) -> None:
        from httptools import HttpResponseParser

        self.parser = HttpResponseParser(self)
        self.status_seen = False
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.headers_done = self.complete = self.until_close = self.keep_alive = False

    def on_message_begin(self) -> None:
        self.headers, self.body, self.headers_done = [], [], False

    def on_status(self, _status: bytes) -> None:
        self.status_seen = True

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        named = {name.lower() for name, _ in self.headers}
        status = self.parser.get_status_code()
        self.until_close = ("content-length" not in named and "transfer-encoding" not in named
                            and status >= 200 and status not in (204, 304))

    def on_body(self, chunk: bytes) -> None:
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        if not 100 <= self.parser.get_status_code() < 200:
            self.complete = True
            self.keep_alive = self.parser.should_keep_alive()


class _Exchange:
    """One request and its answer on one connection. `stage` says how far it got, which
    is what a failure means for the outcome: "connect" (nothing sent), "answer" (sent, no
    status line yet) or "rest" (the answer had begun)."""

    def __init__(self, target: _Target, deadline: Deadline):
        self.target = target
        self.deadline = deadline
        self.stage = "connect"
        self.sock: Any = None

    def run(self, request: bytes, total: float) -> Answer:
        self.sock = connections.take(self.target.key) or _connect(self.target, max(self.deadline.remaining(), 0.001))
        self.deadline.watch(self.sock)
        if self.sock.gettimeout() != total:
            self.sock.settimeout(total)
        self.stage = "answer"
        self.sock.sendall(request)
        reading = _Reading()
        while not reading.complete:
            data = self.sock.recv(READ_SIZE)
            if not data:
                if reading.headers_done and reading.until_close:
                    self._ended_by_close()
                    break
                raise ConnectionResetError("the connection closed before the answer's end")
            reading.parser.feed_data(data)
            if reading.status_seen:
                self.stage = "rest"
        headers = Headers(reading.headers)
        content = _decoded(b"".join(reading.body), headers.get("Content-Encoding"))
        if reading.until_close or not reading.keep_alive:
            self.discard()
        else:
            connections.give(self.target.key, self.sock)
            self.sock = None
        return Answer(reading.parser.get_status_code(), headers, content)

    def _ended_by_close(self) -> None:
        """An answer whose end is the connection's close: a close made by the deadline
        (time up, or a freeze) is not that end."""
        self.deadline.check()
        if self.deadline.fired:
            raise TimeoutError("the deadline closed the connection")

    def discard(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def _connect(target: _Target, timeout: float) -> Any:
    sock = socket.create_connection((target.host, target.port), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if target.tls:
            return _tls_context(target.key[3]).wrap_socket(sock, server_hostname=target.host)
    except BaseException:
        sock.close()
        raise
    return sock


_contexts: dict[str, Any] = {}
_contexts_lock = threading.Lock()


def _tls_context(bundle: str) -> Any:
    """The verifying TLS context for a CA bundle (a file or a folder; certifi's when none)."""
    with _contexts_lock:
        found = _contexts.get(bundle)
        if found is None:
            import ssl

            if bundle and os.path.isdir(bundle):
                found = ssl.create_default_context(capath=bundle)
            else:
                import certifi

                found = ssl.create_default_context(cafile=bundle or certifi.where())
            _contexts[bundle] = found
    return found


class _Connections:
    """Idle kept-alive connections by (scheme, host, port, trust), newest first; at most
    `http.POOL_SIZE` per key and `http.HOST_POOLS` keys (the oldest key's are closed)."""

    def __init__(self) -> None:
        self._idle: dict[tuple[Any, ...], list[Any]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple[Any, ...]) -> Any:
        while True:
            with self._lock:
                idle = self._idle.get(key)
                sock = idle.pop() if idle else None
            if sock is None or not _closed_by_peer(sock):
                return sock
            sock.close()

    def give(self, key: tuple[Any, ...], sock: Any) -> None:
        closing: list[Any] = []
        with self._lock:
            idle = self._idle.get(key)
            if idle is None:
                if len(self._idle) >= http.HOST_POOLS:
                    closing = self._idle.pop(next(iter(self._idle)))
                idle = self._idle[key] = []
            if len(idle) < http.POOL_SIZE:
                idle.append(sock)
            else:
                closing.append(sock)
        for extra in closing:
            extra.close()


connections = _Connections()


def _closed_by_peer(sock: Any) -> bool:
    """Whether an idle connection has anything to read: the server closed it (or sent
    what nobody asked for), so it must not carry a request."""
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def _decoded(content: bytes, encoding: str | None) -> bytes:
    kind = (encoding or "").strip().lower()
    if kind in ("gzip", "x-gzip"):
        return zlib.decompress(content, 16 + zlib.MAX_WBITS)
    if kind == "deflate":
        try:
            return zlib.decompress(content)
        except zlib.error:
            return zlib.decompress(content, -zlib.MAX_WBITS)
    return content


def _ended(deadline: Deadline) -> Retryable | None:
    if deadline.fired == "abort":
        return http.frozen_in_flight()
    if deadline.fired:
        return http.no_answer(http.took_longer(deadline.total))
    return None


def _failure(error: Exception, stage: str, deadline: Deadline, redact: Callable[[str], str]) -> Exception:
    """What a failure at `stage` means for the outcome."""
    ended = _ended(deadline)
    if ended:
        return ended
    if stage == "connect":
        if isinstance(error, TimeoutError):
            return http.not_accepted()
        if type(error).__module__ == "ssl":
            detail = getattr(error, "verify_message", None) or getattr(error, "reason", None)
            return http.tls_failed(redact(str(detail or type(error).__name__)))
        if isinstance(error, OSError):
            return http.refused()
    elif stage == "rest":
        return http.cut_off()
    elif isinstance(error, TimeoutError):
        return http.no_answer()
    if isinstance(error, OSError) or type(error).__name__ == "HttpParserError" or isinstance(error, zlib.error):
        return http.broke()
    return Permanent(redact(f"request failed: {type(error).__name__}"))
