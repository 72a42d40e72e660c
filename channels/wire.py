"""The webhook channels' requests (webhook, Slack, Discord, Teams), sent through urllib3.

Why not `requests` here: for a POST of a few hundred bytes to a webhook, requests' own
machinery around urllib3 (preparing the request, merging session settings, cookie jars,
building its Response) costs as much CPU as the request itself, and a fan-out to
hundreds of webhooks is bound by that CPU. The channels that speak through an SDK or a
session (X, Facebook, Mastodon) keep requests (`channels.http`); so does this module
whenever a proxy is set in the environment, so proxy rules (`no_proxy`) stay requests'.

Guarantees (those `channels.http` gives, kept here):
- a request goes out once per call: no retry, no redirect followed (a 3xx is returned);
- `timeout` bounds the whole request (connect, send, the whole answer), and a freeze
  stops it in flight (`channels.deadline`);
- every transport failure becomes a `Retryable` whose `maybe_delivered` says whether the
  request could have reached the platform; an answer cut off after its status line is
  an unknown outcome, never a refusal; reasons carry no secret (`redact`);
- TLS is verified against the bundle requests uses (certifi's, or `REQUESTS_CA_BUNDLE` /
  `CURL_CA_BUNDLE`); a user name and password in the URL become Basic authorization;
- connections are pooled per process; nothing of one request (headers, cookies) is kept
  for another.
"""
from __future__ import annotations

import json
import os
import threading
from base64 import b64encode
from typing import Any, Callable, Mapping
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from channels import http
from channels.base import Permanent, Retryable
from channels.deadline import Deadline

USER_AGENT = "publish (crisis response publisher)"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
_managers: dict[str, Any] = {}
_managers_lock = threading.Lock()


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


def send(method: str, url: str, *, body: bytes | None, headers: Mapping[str, str], timeout: float,
         redact: Callable[[str], str], params: Mapping[str, str] | None = None) -> Any:
    """One request; the answer whatever its status. Transport failures raise (see above)."""
    if any(os.environ.get(name) for name in PROXY_VARIABLES):
        return http.request(lambda: http.shared_session().request(
            method, url, data=body, params=params, headers=dict(headers), timeout=timeout,
            allow_redirects=False), redact)
    try:
        target, authorization = _without_userinfo(url)
    except ValueError:
        raise Permanent("request failed: InvalidURL") from None
    if params:
        target += ("&" if "?" in target else "?") + urlencode(params)
    sent = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
    if authorization:
        sent["Authorization"] = authorization
    sent.update(headers)
    total = http.whole_timeout(timeout)
    with Deadline(total) as deadline:
        try:
            raw = _manager().urlopen(method, target, body=body, headers=sent, redirect=False, retries=False,
                                     timeout=_timeout(total), preload_content=False)
        except Exception as error:
            deadline.check()
            raise _unanswered(error, deadline, redact) from None
        try:
            content = raw.read(decode_content=True)
        except Exception:
            deadline.check()
            raw.close()
            raise _ended(deadline) or http.cut_off() from None
        raw.release_conn()
    return Answer(raw.status, raw.headers, content)


def _manager() -> Any:
    """The process's pool manager for the CA bundle in force."""
    bundle = next((os.environ[name] for name in CA_VARIABLES if os.environ.get(name)), "")
    with _managers_lock:
        found = _managers.get(bundle)
        if found is None:
            import certifi
            import urllib3

            found = urllib3.PoolManager(num_pools=http.HOST_POOLS, maxsize=http.POOL_SIZE, cert_reqs="CERT_REQUIRED",
                                        ca_certs=bundle or certifi.where())
            found.pool_classes_by_scheme = dict(http.watched_pools())
            _managers[bundle] = found
    return found


def _timeout(total: float) -> Any:
    from urllib3.util import Timeout

    return Timeout(connect=total, read=total)


def _without_userinfo(url: str) -> tuple[str, str | None]:
    """The URL without `user:password@`, and the Basic authorization they stand for."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    token = b64encode(f"{unquote(user)}:{unquote(password)}".encode("latin-1", "replace")).decode("ascii")
    return urlunsplit(parts._replace(netloc=host)), f"Basic {token}"


def _ended(deadline: Deadline) -> Retryable | None:
    if deadline.fired == "abort":
        return http.frozen_in_flight()
    if deadline.fired:
        return http.no_answer(http.took_longer(deadline.total))
    return None


def _unanswered(error: Exception, deadline: Deadline, redact: Callable[[str], str]) -> Exception:
    """What a failure before the answer's status line means for the outcome."""
    from urllib3 import exceptions

    if isinstance(error, exceptions.MaxRetryError) and error.reason is not None:
        error = error.reason  # type: ignore[assignment]
    ended = _ended(deadline)
    if ended:
        return ended
    if isinstance(error, exceptions.NewConnectionError):
        return http.refused()
    if isinstance(error, exceptions.ConnectTimeoutError):
        return http.not_accepted()
    if isinstance(error, exceptions.ReadTimeoutError):
        return http.no_answer()
    if isinstance(error, (exceptions.ProtocolError, exceptions.SSLError, exceptions.ProxyError, OSError)):
        return http.broke()
    if isinstance(error, exceptions.LocationValueError):
        return Permanent("request failed: InvalidURL")
    return Permanent(redact(f"request failed: {type(error).__name__}"))
