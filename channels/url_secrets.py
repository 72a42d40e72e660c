"""Which parts of a secret URL are themselves secrets.

Guarantees: for a URL held as a secret (a webhook URL, a URL resolved from `${NAME}`),
these are secrets too, written and decoded: every path segment and query value of
`MIN_FRAGMENT` characters or more, the fragment, the user name, and whatever their length
the password and the value of a query key naming a credential (`sig`, `token`, `key`...).
So a receiver that echoes one back (a 404 naming the hook, a token in an error) cannot
put it on a screen or in the log. Scheme and host stay visible (people tell channels
apart by them), and so does a segment that is a plain lowercase word (`services`,
`webhooks`, `incident`) or an API version (`api-version=2016-06-01`): it is a route, not
a credential, and masking it would mask that word or date in every statement and message.
"""
from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, unquote, urlsplit

MIN_FRAGMENT = 6
ROUTE_WORD = re.compile(r"[a-z]+(?:[-_.][a-z]+)*|IncomingWebhook|webhookb2")
VERSION_KEY = re.compile(r"(api[-_])?version|v", re.IGNORECASE)
SECRET_QUERY_KEYS = re.compile(r"sig|token|key|secret|pass|auth|code|hash", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def url_fragments(url: str) -> frozenset[str]:
    """The secret parts of `url`; empty when `url` is not a URL with a host (computed once
    per URL per process: a workspace asks for each of its URLs several times)."""
    try:
        parts = urlsplit(url.strip())
        user, password = parts.username, parts.password
    except ValueError:
        return frozenset()
    if not parts.scheme or not parts.netloc:
        return frozenset()
    candidates = parts.path.split("/") + [parts.fragment, user or ""]
    pairs = [pair.partition("=") for pair in re.split("[&;]", parts.query)]
    candidates += [value for key, _, value in pairs if not VERSION_KEY.fullmatch(key)]
    candidates += [value for key, value in parse_qsl(parts.query, keep_blank_values=True)
                   if not VERSION_KEY.fullmatch(key)]
    found = {text for candidate in candidates for text in (candidate, unquote(candidate))
             if len(text) >= MIN_FRAGMENT and not ROUTE_WORD.fullmatch(text)}
    found.update(value for key, value in parse_qsl(parts.query) if SECRET_QUERY_KEYS.search(key) and value)
    if password:
        found.update({password, unquote(password)})
    return frozenset(found)
