"""httpx requests sent through the one transport of the channels (`channels.http`).

For platform SDKs built on httpx (the atproto SDK): `transport(timeout, redact)` is an
httpx transport whose every request goes out once through `channels.http`'s shared
requests session, with that module's guarantees: one send per call and no retries, the
timeout bounding the whole request, a freeze stopping it in flight, answers bounded to
`channels.http.MAX_ANSWER`, requests' proxy and CA-bundle settings. A failure is raised
as the `Retryable` or `Permanent` that `channels.http.request` classifies it as (whether
the request may have reached the platform included); these pass through httpx and the
SDK unchanged. A server certificate that does not verify (another host's name, an
untrusted issuer, out of date) is a `Permanent` naming the problem
(`channels.http.certificate_problem`), since nothing was sent and no retry can fix it;
the trusted authorities are requests' own (`REQUESTS_CA_BUNDLE`, certifi). A redirect is never followed: an XRPC server does not redirect, so it is
a `Permanent` failure naming where it pointed (after redaction), and nothing is resent.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from channels import http
from channels.base import Permanent

NOT_FORWARDED = frozenset({"host", "content-length", "connection", "accept-encoding", "transfer-encoding"})
NOT_KEPT = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection"})


def transport(timeout: float, redact: Callable[[str], str]) -> Any:
    """An httpx transport that sends through `channels.http` (see the module's guarantees)."""
    return _transport_class()(timeout, redact)


@functools.cache
def _transport_class() -> type:
    import httpx

    class Bridge(httpx.BaseTransport):
        def __init__(self, timeout: float, redact: Callable[[str], str]):
            self.timeout = timeout
            self.redact = redact

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            body = request.read()
            headers = {key: value for key, value in request.headers.items() if key.lower() not in NOT_FORWARDED}
            session = http.shared_session()
            answer = http.request(lambda: session.request(request.method, str(request.url), data=body or None,
                                                          headers=headers, timeout=self.timeout,
                                                          allow_redirects=False), self.redact)
            if 300 <= answer.status_code < 400:
                where = answer.headers.get("Location") or "nowhere"
                raise Permanent(self.redact(f"the server answered HTTP {answer.status_code}, a redirect to {where}; "
                                            "set api_url to the server itself"))
            kept = [(key, value) for key, value in answer.headers.items() if key.lower() not in NOT_KEPT]
            return httpx.Response(answer.status_code, headers=kept, content=answer.content, request=request)

    return Bridge
