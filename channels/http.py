"""HTTP plumbing shared by the channels that speak to a platform with `requests`.

Guarantees: a session made here never resends a request by itself (urllib3 retries
are off, so a POST goes out once per call), every call has a timeout, and every
transport failure becomes a `Retryable` whose `maybe_delivered` says whether the
request could have reached the platform. Reasons never carry a secret: callers pass
them through `Channel.redact`.
"""
from __future__ import annotations

from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from channels.base import Permanent, Retryable

if TYPE_CHECKING:
    import requests


def session() -> "requests.Session":
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    made = requests.Session()
    adapter = HTTPAdapter(max_retries=Retry(total=0, connect=0, read=0, redirect=0, status=0, other=0,
                                            raise_on_status=False, raise_on_redirect=False))
    made.mount("http://", adapter)
    made.mount("https://", adapter)
    return made


def request(call: Callable[[], "requests.Response"], redact: Callable[[str], str]) -> "requests.Response":
    """Run `call` and turn transport failures into `Retryable`."""
    import requests

    try:
        return call()
    except requests.exceptions.ConnectTimeout:
        raise Retryable("the platform did not accept the connection in time", maybe_delivered=False) from None
    except requests.exceptions.ReadTimeout:
        raise Retryable("no answer from the platform before the timeout", maybe_delivered=True) from None
    except requests.exceptions.ConnectionError as error:
        text = str(error)
        refused = "refused" in text.lower() or "NewConnectionError" in text or "Name or service" in text
        reason = "the platform refused the connection" if refused else "the connection broke before an answer"
        raise Retryable(redact(reason), maybe_delivered=not refused) from None
    except requests.exceptions.RequestException as error:
        raise Permanent(redact(f"request failed: {type(error).__name__}")) from None


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
