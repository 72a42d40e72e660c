"""Generic webhook: the whole delivery as one JSON document, for tools of your own.

`send()` POSTs once to `url` with the configured `headers`, an `Idempotency-Key` header and
`{"draft", "channel", "incident", "case", "template", "language", "title", "text",
"parts", "reply_to", "idempotency_key"}`; `text` is the parts joined, `parts` each part
verbatim. The key is the message's idempotency key (stable across retries), so a receiver
that honours it can drop a resend; nothing proves it does, so the channel is not
idempotent.

Any 2xx is a delivery. The receipt id is the answer's JSON `id` when it has one, else the
idempotency key; its url is the answer's `url` when given; its time is the receiver's
Date header. 409 means the receiver already has this delivery: Duplicate, with the same
receipt. 429 and 503 are retryable after their Retry-After, other 5xx retryable, every
other 4xx permanent with the start of the answer's body.

`url` may hold secrets (through `${...}`) and every header value is treated as one:
describe() masks them all, and reasons are redacted of them. `check()` only inspects the
URL.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from channels import http
from channels.base import (Duplicate, Message, Permanent, Receipt, Retryable,
                           SettingError, mask)
from channels.hooks import HookChannel, answer_time, server_error, snippet, stable_id
from channels.schemas import OPTIONS

if TYPE_CHECKING:
    from requests import Response as Answer

MIN_REDACTED_HEADER = 6


class WebhookChannel(HookChannel):
    type = "webhook"
    variant = "long"
    counting = "chars"
    overflow = "reject"
    url_option = "url"
    platform = "the webhook receiver"
    options = OPTIONS["webhook"]

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        super().__init__(name, settings, secrets)
        self.headers: dict[str, str] = dict(self.settings.get("headers") or {})
        for key, value in self.headers.items():
            if not isinstance(key, str) or not isinstance(value, str) or any(c in key + value for c in "\r\n"):
                raise SettingError("headers", "expected a table of single-line text values")
        self.add_secrets(v for v in self.headers.values() if len(v) >= MIN_REDACTED_HEADER)

    def send(self, message: Message) -> Receipt:
        key = message.idempotency_key or stable_id("webhook", message)
        payload = {
            "draft": message.draft_id, "channel": message.channel, "incident": message.incident_id,
            "case": message.case, "template": message.template, "language": message.language,
            "title": message.title, "text": message.text, "parts": list(message.parts),
            "reply_to": message.reply_to, "idempotency_key": key,
        }
        response = self.call("POST", payload, headers={**self.headers, "Idempotency-Key": key})
        status = response.status_code
        if 200 <= status < 300:
            return self._receipt(response, key)
        said = snippet(response)
        reason = self.redact(f"the webhook receiver answered HTTP {status}" + (f": {said}" if said else ""))
        if status == 409:
            raise Duplicate(reason, receipt=self._receipt(response, key))
        if status == 429:
            raise Retryable(reason, http.retry_after_seconds(response.headers.get("Retry-After")))
        if status >= 500 or status == 408:
            raise server_error(reason, response)
        raise Permanent(reason)

    def _receipt(self, response: "Answer", key: str) -> Receipt:
        answer = http.json_body(response)
        answer = answer if isinstance(answer, dict) else {}
        given, link = answer.get("id"), answer.get("url")
        usable = isinstance(given, (str, int)) and not isinstance(given, bool) and str(given) != ""
        receipt_id = self.redact(str(given) if usable else key)
        url = self.redact(link) if isinstance(link, str) and link.startswith(("http://", "https://")) else None
        return Receipt(id=receipt_id, url=url, platform_time=answer_time(response), extra={"part_ids": [receipt_id]})

    def check(self) -> str:
        return self.check_url("webhook URL", secure=False, example="https://tools.example.org/hooks/incident")

    def describe(self) -> dict[str, Any]:
        shown = super().describe()
        if "headers" in shown:
            shown["headers"] = {key: mask(value) for key, value in self.headers.items()}
        return shown
