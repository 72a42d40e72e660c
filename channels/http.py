"""The one HTTP transport of the channels (requests and urllib3): the webhook family
through `send()`, Mastodon, Facebook and X through the sessions made here.

Guarantees: a session made here never resends a request by itself (urllib3 retries
are off, so a POST goes out once per call); its `timeout` bounds the whole request, not
each read (a server trickling its answer cannot hold a run), and a freeze stops a request
in flight (`channels.deadline`); every transport failure becomes a `Retryable` whose
`maybe_delivered` says whether the request could have reached the platform, and an
answer cut off after its status line is such an unknown outcome, never a refusal. A
server certificate that does not verify (it names another host, its issuer is not
trusted, it expired) is a `Permanent` failure naming that problem: nothing was sent and
no retry can fix it (`certificate_problem`, which the channels that do not send through
requests use too). Reasons never carry a secret: callers pass them through `Channel.redact`.

Answers are bounded: a body is read up to `MAX_ANSWER` bytes after decompression, in
pieces (a gzip bomb is never inflated whole); a longer one is not read further, its
connection is closed, and the outcome is unknown (`too_large`). An interim 1xx answer
is set aside for the final one. A connection goes back to the pool only after an answer
that ended cleanly (any failure while reading closes it), and a pooled connection with
anything waiting to be read (the server closed it, or sent what nobody asked for) is
closed instead of reused (urllib3 checks it before every reuse), so no request ever
reads another's answer. Proxies (`HTTP_PROXY`, `NO_PROXY`...) and TLS verification
(certifi's bundle, or `REQUESTS_CA_BUNDLE` / `CURL_CA_BUNDLE`) are requests' own.

Sessions are shared: `shared_session()` gives one per process per TLS setting (`verify`,
`cert`), so channels with different trust never share one. A shared session keeps no
cookies and no headers of its own (callers pass headers per request, so no channel's
secret reaches another), and its pools hold as many connections as the most workers.
"""
from __future__ import annotations

import functools
import threading
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

from channels.base import Permanent, Retryable
from channels.deadline import Deadline, current_deadline

DEFAULT_TIMEOUT = 20.0
MAX_ANSWER = 1 << 20
READ_CHUNK = 16384
USER_AGENT = "publish (crisis response publisher)"
POOL_SIZE = 256
HOST_POOLS = 64
ENVIRONMENT = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
               "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
Result = TypeVar("Result")
_shared: dict[tuple[Any, ...], "requests.Session"] = {}
_shared_lock = threading.Lock()

if TYPE_CHECKING:
    import requests


def shared_session(verify: bool | str = True, cert: Any = None) -> "requests.Session":
    """The process's session for these TLS settings and proxy/CA environment, made on first use."""
    import os

    key = (verify, tuple(cert) if isinstance(cert, list) else cert, *map(os.environ.get, ENVIRONMENT))
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            found = _shared[key] = session()
            found.verify, found.cert = verify, cert
    return found


def session() -> "requests.Session":
    """A new session that follows no redirect by itself, never retries and keeps no cookie."""
    from http.cookiejar import DefaultCookiePolicy

    made = session_class()()
    made.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    adapter = adapter_class()(max_retries=no_retries(), pool_connections=HOST_POOLS, pool_maxsize=POOL_SIZE)
    made.mount("http://", adapter)
    made.mount("https://", adapter)
    return made


@functools.cache
def session_class() -> type:
    """A Session that reads the proxy and CA-bundle environment once, when made, instead of
    scanning the whole environment on every request (a third of a request's CPU); with a
    proxy configured it keeps requests' per-URL logic (no_proxy)."""
    import os
    import urllib.request

    import requests
    from requests.sessions import merge_setting

    class OnceSession(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            self.env_proxies = bool(urllib.request.getproxies_environment())
            self.env_ca = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")

        def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
            if self.env_proxies or not self.trust_env:
                return super().merge_environment_settings(url, proxies, stream, verify, cert)
            if verify is True or verify is None:
                verify = self.env_ca or verify
            return {"proxies": merge_setting(proxies, self.proxies), "stream": merge_setting(stream, self.stream),
                    "verify": merge_setting(verify, self.verify), "cert": merge_setting(cert, self.cert)}

    return OnceSession


def no_retries() -> Any:
    from urllib3.util.retry import Retry

    return Retry(total=0, connect=0, read=0, redirect=0, status=0, other=0, raise_on_status=False,
                 raise_on_redirect=False)


@functools.cache
def adapter_class() -> type:
    """The transport adapter every requests-based channel mounts: `timeout` bounds the
    whole request (connect, send, the whole answer, read before `send` returns, bounded
    by `MAX_ANSWER`) and a freeze (`channels.deadline.abort_on`) stops it in flight."""
    import requests
    from requests.adapters import HTTPAdapter

    pools = watched_pools()
    failures = errors()

    class BoundedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = dict(pools)

        def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(*args, **kwargs)
            manager.pool_classes_by_scheme = dict(pools)
            return manager

        def send(self, request: Any, stream: bool = False, timeout: Any = None, verify: bool | str = True,
                 cert: Any = None, proxies: Mapping[str, str] | None = None) -> Any:
            total = whole_timeout(timeout)
            with Deadline(total) as deadline:
                try:
                    response = super().send(request, stream=True, timeout=(total, total), verify=verify, cert=cert,
                                            proxies=proxies)
                    _read_whole(response, deadline)
                except Exception as error:
                    deadline.check()
                    if deadline.fired:
                        raise _ended(deadline) from None
                    if deadline.sent and isinstance(error, requests.exceptions.SSLError):
                        raise failures.BrokeAfterSending("the TLS connection broke after the request went out") \
                            from None
                    raise
            return response

    return BoundedAdapter


def _read_whole(response: "requests.Response", deadline: Deadline) -> None:
    """Read the answer's body into `response.content`, decompressed piece by piece and at
    most `MAX_ANSWER` bytes; past that the connection is closed and `TooLarge` raised."""
    pieces: list[bytes] = []
    size = 0
    for piece in response.iter_content(READ_CHUNK):
        size += len(piece)
        if size > MAX_ANSWER:
            response.raw.close()
            response.close()
            raise errors().TooLarge(f"the answer is longer than {MAX_ANSWER} bytes")
        pieces.append(piece)
    deadline.check()
    if deadline.fired and _ends_at_close(response):
        raise _ended(deadline)
    response._content = b"".join(pieces)


def _ends_at_close(response: "requests.Response") -> bool:
    """Whether the answer's end is its connection's close (no length, not chunked): a
    close made by the deadline would look like that end."""
    headers = response.headers
    return ("Content-Length" not in headers and "chunked" not in headers.get("Transfer-Encoding", "").lower()
            and response.status_code not in (204, 304) and response.request.method != "HEAD")


@functools.cache
def watched_pools() -> dict[str, type]:
    """urllib3's connection pools by scheme, with connections that hand themselves to the
    current deadline (`channels.deadline`) as they connect and send, and read answers
    with `final_answers()`."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    answers = final_answers()

    def watched(base: type) -> type:
        class Watched(base):
            response_class = answers

            def connect(self) -> None:
                _watch(self)
                super().connect()

            def request(self, *args: Any, **kwargs: Any) -> None:
                _watch(self, sending=True)
                super().request(*args, **kwargs)

        return Watched

    class WatchedHTTPPool(HTTPConnectionPool):
        ConnectionCls = watched(HTTPConnection)

    class WatchedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = watched(HTTPSConnection)

    return {"http": WatchedHTTPPool, "https": WatchedHTTPSPool}


@functools.cache
def final_answers() -> type:
    """http.client's answer reader, setting every interim 1xx answer aside for the final
    one (http.client itself only skips 100 Continue; 101 is final)."""
    import http.client

    class FinalAnswer(http.client.HTTPResponse):
        # The one hook http.client offers for this (since Python 3.0); typeshed omits it.
        def _read_status(self) -> tuple[str, int, str]:
            while True:
                version, status, reason = super()._read_status()  # type: ignore[misc]
                if not 100 < status < 200 or status == 101:
                    return version, status, reason
                http.client.parse_headers(self.fp)

    return FinalAnswer


class _Errors:
    """requests exceptions (so SDK wrappers pass them on like any transport failure) for
    what the adapter knows and requests does not say."""

    def __init__(self) -> None:
        import requests

        class WholeTimeout(requests.exceptions.ReadTimeout):
            """The request outlived its timeout."""

        class Interrupted(requests.exceptions.ReadTimeout):
            """A freeze stopped the request in flight."""

        class TooLarge(requests.exceptions.RequestException):
            """The answer was longer than `MAX_ANSWER`."""

        class BrokeAfterSending(requests.exceptions.ConnectionError):
            """The connection failed after the request began to go out."""

        self.WholeTimeout, self.Interrupted = WholeTimeout, Interrupted
        self.TooLarge, self.BrokeAfterSending = TooLarge, BrokeAfterSending


@functools.cache
def errors() -> _Errors:
    return _Errors()


def _watch(connection: Any, sending: bool = False) -> None:
    deadline = current_deadline()
    if deadline is not None:
        deadline.watch(connection)
        deadline.sent = deadline.sent or sending


def _ended(deadline: Deadline) -> Exception:
    if deadline.fired == "abort":
        return errors().Interrupted("publishing was frozen while the request was in flight")
    return errors().WholeTimeout(took_longer(deadline.total))


def took_longer(total: float) -> str:
    return f"the whole request took longer than {total:g} s"


def no_answer(detail: str | None = None) -> Retryable:
    """The request went out and no answer came in time: the outcome is unknown."""
    why = f" ({detail})" if detail else ""
    return Retryable(f"no answer from the platform before the timeout{why}", maybe_delivered=True)


def frozen_in_flight() -> Retryable:
    return Retryable("stopped in flight by a freeze; the platform may have received it", maybe_delivered=True)


def cut_off() -> Retryable:
    return Retryable("the platform's answer was cut off before its end; the post may exist", maybe_delivered=True)


def too_large() -> Retryable:
    """The answer was longer than `MAX_ANSWER` and was not read to its end: the request
    reached the platform, what it did is unknown."""
    return Retryable(f"the platform's answer was longer than {MAX_ANSWER // (1 << 20)} MiB and was not read to "
                     "its end; the post may exist", maybe_delivered=True)


def not_accepted() -> Retryable:
    return Retryable("the platform did not accept the connection in time", maybe_delivered=False)


def refused() -> Retryable:
    return Retryable("the platform refused the connection", maybe_delivered=False)


def tls_failed(detail: str) -> Retryable:
    """The TLS handshake failed for a reason other than the certificate (the connection
    dropped, no protocol or cipher in common): nothing was sent."""
    return Retryable(f"the TLS handshake with the platform failed ({detail})", maybe_delivered=False)


HOST_MISMATCH = frozenset({62, 63, 64})
UNTRUSTED_ISSUER = frozenset({2, 18, 19, 20, 21, 24, 27, 28})
OUT_OF_DATE = frozenset({9, 10})


def certificate_problem(error: BaseException, host: str | None) -> str | None:
    """The sentence for a failed TLS handshake whose cause is the server's certificate
    (OpenSSL's verification codes: a certificate for another host name or address, an
    issuer this machine does not trust, a validity period that is over or not begun):
    nothing was sent, and retrying cannot help until the certificate or the address is
    changed. None when `error` holds no certificate verification failure. The sentence
    names the host and what OpenSSL said, never the URL's path or query; callers still
    pass it through their `redact`."""
    import ssl

    found = _in_chain(error, ssl.SSLCertVerificationError)
    if not isinstance(found, ssl.SSLCertVerificationError):
        return None
    code = found.verify_code
    said = str(found.verify_message or found.reason or "certificate verify failed").rstrip(".")
    server = f"the TLS certificate of {host}" if host else "the server's TLS certificate"
    if code in HOST_MISMATCH:
        problem = f"names another host (hostname mismatch: {said})"
        fix = "correct the address, or have the server given a certificate for this name"
    elif code in UNTRUSTED_ISSUER:
        problem = f"is not trusted (untrusted issuer: {said})"
        fix = "the server needs a certificate from an authority this machine trusts"
    elif code in OUT_OF_DATE:
        problem = f"is out of date ({said})"
        fix = "the server needs a current certificate"
    else:
        problem = f"was refused ({said})"
        fix = "the server needs a certificate this machine accepts"
    return f"{server} {problem}; nothing was sent, and retrying cannot fix it: {fix}"


def broke() -> Retryable:
    """The connection failed after the request may have gone out."""
    return Retryable("the connection broke before an answer", maybe_delivered=True)


def whole_timeout(timeout: Any) -> float:
    """The seconds a whole request may take, from a requests-style `timeout`."""
    if isinstance(timeout, tuple):
        return float(sum(part for part in timeout if part is not None)) or DEFAULT_TIMEOUT
    return float(timeout) if timeout else DEFAULT_TIMEOUT


def send(method: str, url: str, *, body: bytes | None, headers: Mapping[str, str], timeout: float,
         redact: Callable[[str], str], params: Mapping[str, str] | None = None) -> "requests.Response":
    """One request of the webhook channels through the shared session: the answer
    whatever its status (a redirect is returned, not followed); a failure raises what
    `request()` says. A user name and password in the URL become Basic authorization."""
    sent = {"User-Agent": USER_AGENT, **headers}
    return request(lambda: shared_session().request(method, url, data=body, params=params, headers=sent,
                                                    timeout=timeout, allow_redirects=False), redact)


def request(call: Callable[[], Result], redact: Callable[[str], str]) -> Result:
    """Run `call` and turn transport failures into `Retryable`: the one classifier of the
    HTTP channels. A failure before the request went out (refused, not accepted in time,
    a failed TLS handshake) was not delivered; one after it (no answer in time, an answer
    cut off after its status line or too long, a freeze stopping it in flight, a broken
    connection) leaves the outcome unknown: `maybe_delivered`."""
    import requests

    failures = errors()
    try:
        return call()
    except failures.WholeTimeout as error:
        raise no_answer(str(error)) from None
    except failures.Interrupted:
        raise frozen_in_flight() from None
    except failures.TooLarge:
        raise too_large() from None
    except failures.BrokeAfterSending:
        raise broke() from None
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
        raise cut_off() from None
    except requests.exceptions.ConnectTimeout:
        raise not_accepted() from None
    except requests.exceptions.ReadTimeout:
        raise no_answer() from None
    except requests.exceptions.SSLError as error:
        refused_certificate = certificate_problem(error, _host(error))
        if refused_certificate:
            raise Permanent(redact(refused_certificate)) from None
        raise tls_failed(redact(_tls_detail(error))) from None
    except requests.exceptions.ConnectionError as error:
        text = str(error)
        if "refused" in text.lower() or "NewConnectionError" in text or "Name or service" in text:
            raise refused() from None
        raise broke() from None
    except requests.exceptions.RequestException as error:
        raise Permanent(redact(f"request failed: {type(error).__name__}")) from None


def _tls_detail(error: BaseException) -> str:
    """What the TLS library said about a failed handshake ("wrong version number"...)."""
    import ssl

    found = _in_chain(error, ssl.SSLError)
    if isinstance(found, ssl.SSLError):
        return str(found.reason or type(found).__name__)
    return type(error).__name__


def _in_chain(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first `kind` among `error` and what it wraps (its `reason`, its exception
    arguments, its cause or context), as requests, urllib3, httpx and PTB nest them."""
    seen: list[BaseException] = []
    found: BaseException | None = error
    while found is not None and all(found is not known for known in seen):
        seen.append(found)
        if isinstance(found, kind):
            return found
        reason = getattr(found, "reason", None)
        inner = [part for part in found.args if isinstance(part, BaseException)]
        found = reason if isinstance(reason, BaseException) else (
            inner[0] if inner else found.__cause__ or found.__context__)
    return None


def _host(error: BaseException) -> str | None:
    """The host a failed requests call was addressed to."""
    from urllib.parse import urlsplit

    request = getattr(error, "request", None)
    url = getattr(request, "url", None)
    return urlsplit(url).hostname if isinstance(url, str) else None


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Parse a Retry-After header: seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def reset_epoch_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse an epoch-seconds reset header into a delay from now."""
    import time

    if not value:
        return None
    try:
        reset = float(value)
    except ValueError:
        return None
    return max(0.0, reset - (time.time() if now is None else now))


def rate_limited(what: str, said: str, delay: float | None, waits: str = "it resets in",
                 unknown: str | None = None) -> Retryable:
    """The Retryable for a platform's rate limit: what it said, and the delay until it resets
    when it gave one (`unknown` otherwise, by default that `what` gave no reset time)."""
    wait = f"; {waits} {delay:.0f} s" if delay is not None else (unknown or f"; {what} gave no reset time")
    return Retryable(f"{what} rate limit reached ({said}){wait}", retry_after=delay)


def json_body(response: "requests.Response") -> Any:
    """The response's JSON, or None when the body is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def classify_status(response: "requests.Response", what: str, redact: Callable[[str], str]) -> None:
    """Raise the error a non-2xx status means when the platform gave no finer signal."""
    status = response.status_code
    if 200 <= status < 300:
        return
    snippet = redact((response.text or "")[:200].strip())
    detail = f"{what} answered HTTP {status}" + (f": {snippet}" if snippet else "")
    if status == 429:
        raise Retryable(detail, retry_after_seconds(response.headers.get("Retry-After")))
    if status >= 500 or status == 408:
        raise Retryable(detail, retry_after_seconds(response.headers.get("Retry-After")))
    raise Permanent(detail)
