"""Microsoft Teams through a Workflows (Power Automate) webhook.

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

Teams refuses messages above about 28 KB, so the encoded card is checked before posting
and `max_length` leaves room for the card around the text. Workflows have no idempotency:
not idempotent. `check()` only inspects the URL: a workflow cannot be tested without
running it.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels import http
from channels.base import Message, Permanent, Receipt, Retryable
from channels.hooks import HookChannel, answer_time, encode, server_error, snippet, stable_id
from channels.schemas import OPTIONS

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

    def check(self) -> str:
        host = (urlsplit(self.url).hostname or "").lower()
        if any(host == h.lstrip(".") or host.endswith(h) for h in LEGACY_HOSTS):
            raise Permanent("webhook_url is an Office 365 connector URL; connectors are retired, "
                            "create a Workflows webhook ('Send webhook alerts to a channel') instead")
        described = self.check_url("Teams Workflows webhook URL", hosts=HOSTS, path=TRIGGER_PATH,
                                   example=EXAMPLE)
        if not parse_qs(urlsplit(self.url).query).get("sig"):
            raise Permanent("webhook_url has no sig= signature; copy the whole URL from the workflow's trigger")
        return described
