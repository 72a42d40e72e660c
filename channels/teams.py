"""Microsoft Teams through a Workflows (Power Automate) webhook, the documented default.

`send()` posts one Adaptive Card message (a bold title TextBlock, then the approved text
verbatim in a wrapping TextBlock) to the workflow's HTTP trigger. The trigger answers 202
with an empty body as soon as the flow run is queued: Teams posts the card afterwards, so
a receipt proves the workflow accepted the card, not that the card is in the channel. The
receipt id is the run id the trigger reports (x-ms-workflow-run-id) when present, else an
id derived from the draft and channel; the url is None (the webhook returns no link).

The URL's `sig=` query value is the credential: it is redacted everywhere. Errors come
from the Logic Apps front end as `{"error": {"code", "message"}}`: 400 (card or JSON
refused), 401/403 (signature or authorization refused), 404 (flow deleted or URL wrong)
are permanent; 429 (with Retry-After) and 5xx are retryable.

A retired Office 365 connector URL (`….webhook.office.com`) still posts the same card,
but the connector answers HTTP 200 whatever Teams did with it: "1" when the message was
posted, else a body "Webhook message delivery failed with error: Microsoft Teams endpoint
returned HTTP error N …". Such a body is never a delivery: N = 429 and 5xx are retryable
(a 504 may have been posted), any other N (400 card refused, 413 too large, 403/404 the
channel or connector gone) is permanent; a failure without N ("Error contacting Microsoft
Teams endpoint") is retryable. Any other 2xx body from a connector proves nothing: the
outcome is unknown, for a person to check.

Teams refuses messages above about 28 KB, so the encoded card is checked before posting
and `max_length` leaves room for the card around the text. Workflows have no idempotency:
not idempotent. `check()` only inspects the URL (and refuses a connector URL): a workflow
cannot be tested without running it.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from channels import http
from channels.base import DeliveryError, Message, Permanent, Receipt, Retryable
from channels.hooks import HookChannel, answer_time, encode, server_error, snippet, stable_id
from channels.schemas import OPTIONS

if TYPE_CHECKING:
    from requests import Response as Answer

TEAMS_LIMIT_BYTES = 28 * 1024
EXPLAINED = {
    400: "the workflow refused the card",
    401: "the workflow refused the URL's signature (copy the URL again from the workflow's trigger)",
    403: "the workflow refused the URL's signature or its caller (check who may trigger the flow)",
    404: "the workflow does not exist any more (deleted, or the URL is wrong)",
}
HOSTS = (".logic.azure.com", ".powerautomate.com", ".powerplatform.com", "flow.microsoft.com")
LEGACY_HOSTS = (".webhook.office.com", "outlook.office.com")
TRIGGER_PATH = r"(/.*)?/workflows/[^/]+/triggers/[^/]+/paths/invoke/?"
EXAMPLE = "https://….logic.azure.com/workflows/…/triggers/manual/paths/invoke?…&sig=…"
CONNECTOR_RETIRED = ("webhook_url is an Office 365 connector URL, and Microsoft retired connectors: create a "
                     "Workflows webhook in the channel (Workflows > 'Send webhook alerts to a channel') and set "
                     "webhook_url to its URL")
CONNECTOR_POSTED = "1"
CONNECTOR_FAILED = re.compile(r"\s*Webhook message delivery failed with error:\s*(?P<said>.*)", re.S | re.I)
INNER_STATUS = re.compile(r"returned HTTP error (?P<status>\d{3})")
CONNECTOR_EXPLAINED = {
    400: "Teams refused the card",
    403: "Teams no longer lets this connector post (removed or disabled in the channel)",
    404: "the channel or the connector no longer exists",
    413: f"the card is larger than Teams accepts (about {28 * 1024} bytes)",
    429: "Teams is rate limiting this connector (at most 4 messages a second, 60 in 30 s, 100 an hour)",
}


def card(title: str, text: str) -> dict[str, Any]:
    blocks = [{"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True}] if title else []
    blocks.append({"type": "TextBlock", "text": text, "wrap": True})
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": None,
        "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard", "version": "1.4", "body": blocks},
    }]}


class TeamsChannel(HookChannel):
    type = "teams"
    variant = "long"
    max_length = 27_000
    counting = "chars"
    overflow = "reject"
    platform = "the Teams workflow"
    options = OPTIONS["teams"]

    def send(self, message: Message) -> Receipt:
        payload = card(message.title, message.text)
        size = len(encode(payload))
        if size > TEAMS_LIMIT_BYTES:
            raise Permanent(f"the card is {size} bytes; Teams refuses messages above {TEAMS_LIMIT_BYTES} bytes")
        response = self.call("POST", payload)
        status = response.status_code
        if 200 <= status < 300:
            refused = self._connector_refusal(response)
            if refused is not None:
                raise refused
            receipt_id = response.headers.get("x-ms-workflow-run-id") or stable_id("teams", message)
            return Receipt(id=receipt_id, platform_time=answer_time(response), extra={"part_ids": [receipt_id]})
        answer = http.json_body(response)
        error = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(error, dict) and (error.get("code") or error.get("message")):
            said = f"{error.get('code') or 'error'}: {error.get('message') or ''}".strip()
        else:
            said = snippet(response)
        reason = f"the Teams workflow answered HTTP {status}" + (f" ({said})" if said else "")
        reason = self.redact(reason + (f" — {EXPLAINED[status]}" if status in EXPLAINED else ""))
        if status == 429:
            raise Retryable(reason, http.retry_after_seconds(response.headers.get("Retry-After")))
        if status >= 500 or status == 408:
            raise server_error(reason, response)
        raise Permanent(reason)

    @property
    def is_connector(self) -> bool:
        """Whether `webhook_url` is a retired Office 365 connector's."""
        host = (urlsplit(self.url).hostname or "").lower()
        return any(host == h.lstrip(".") or host.endswith(h) for h in LEGACY_HOSTS)

    def _connector_refusal(self, response: "Answer") -> DeliveryError | None:
        """The failure a 2xx answer's body states (an Office 365 connector answers 200 even
        when Teams refused the message), or None when the answer is a delivery."""
        body = (response.text or "").strip()
        failed = CONNECTOR_FAILED.match(body)
        if failed is None:
            if not self.is_connector or body == CONNECTOR_POSTED:
                return None
            said = snippet(response)
            return Retryable(self.redact(
                f"the Teams connector answered HTTP {response.status_code} without the \"1\" it returns for a "
                f"posted message" + (f" ({said})" if said else "") + "; the message may not be in the channel"),
                maybe_delivered=True)
        said = " ".join(failed.group("said").split(" with ContextId", 1)[0].split())[:200]
        inner = INNER_STATUS.search(said)
        code = int(inner.group("status")) if inner else None
        reason = f"the Teams connector answered HTTP {response.status_code} but says the delivery failed ({said})"
        if code in CONNECTOR_EXPLAINED:
            reason += f" — {CONNECTOR_EXPLAINED[code]}"
        reason = self.redact(reason)
        if code is None or code == 429 or code == 408 or code >= 500:
            return Retryable(reason, maybe_delivered=code == 504)
        return Permanent(reason)

    def check(self) -> str:
        if self.is_connector:
            raise Permanent(CONNECTOR_RETIRED)
        described = self.check_url("Teams Workflows webhook URL", hosts=HOSTS, path=TRIGGER_PATH,
                                   example=EXAMPLE)
        if not parse_qs(urlsplit(self.url).query).get("sig"):
            raise Permanent("webhook_url has no sig= signature; copy the whole URL from the workflow's trigger")
        return described
