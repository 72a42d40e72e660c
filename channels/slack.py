"""Slack incoming webhooks.

`send()` posts `{"text": "*<title>*\\n<text>"}` once: a bold title line (Slack mrkdwn), then
the approved text byte for byte. Slack answers 200 with the body `ok` and gives neither a
message id nor a link, so the receipt id is derived from the draft and the channel (the
same on every retry), its url is None and its time is Slack's Date header.

Slack's errors are a status and a short string (documented since the 2016 change to
incoming-webhook errors): 400 invalid_payload / no_text, 403 invalid_token /
action_prohibited, 404 no_service / channel_not_found, 410 channel_is_archived, all
permanent; 429 with Retry-After (seconds) and 5xx (rollup_error) are retryable. A 200
whose body is not `ok` did not come from Slack's webhook endpoint as documented: the
outcome is unknown (`maybe_delivered`). Incoming webhooks have no idempotency key, so the
channel is not idempotent.

With a `bot_token`, the channel also sends a direct message to one person (`user`, their
Slack user id, which only the publisher sets, from the person's contact in the log):
`chat.postMessage` to the Web API with `channel` = the user id, which Slack delivers in
the app's direct messages with that person. The Web API answers HTTP 200 with `{"ok":
true, "channel": "D…", "ts": "…"}` (the receipt is channel/ts) or `{"ok": false,
"error": …}` (channel_not_found, not_in_channel, is_archived, msg_too_long,
not_authed, invalid_auth, token_revoked, account_inactive, missing_scope: permanent;
ratelimited comes with HTTP 429 and Retry-After; fatal_error, internal_error,
service_unavailable and 5xx: retryable); an answer that is not that JSON leaves the
outcome unknown.

Slack truncates messages above 40,000 characters, so a longer payload is refused here;
`max_length` leaves room for the title line. `check()` only inspects the URL: Slack has
no way to test a webhook without posting.
"""
from __future__ import annotations

from channels import http
from channels.base import Message, Permanent, Receipt, Retryable
from channels.hooks import HookChannel, answer_time, server_error, snippet, stable_id
from channels.schemas import OPTIONS

SLACK_LIMIT = 40_000

EXPLAINED = {
    "invalid_payload": "Slack could not read the message body",
    "no_text": "the message has no text",
    "missing_text_or_fallback_or_attachments": "the message has no text",
    "user_not_found": "the user named in the request does not exist",
    "invalid_token": "the token in the webhook URL is not valid (the webhook was revoked or the URL is wrong)",
    "action_prohibited": "the workspace does not allow this webhook to post here",
    "posting_to_general_channel_denied": "only workspace admins may post to this channel",
    "team_disabled": "the Slack workspace has been disabled",
    "no_service": "the webhook does not exist any more (removed, disabled, or the URL is wrong)",
    "no_team": "the Slack workspace in the webhook URL does not exist",
    "channel_not_found": "the webhook's channel does not exist any more",
    "channel_is_archived": "the webhook's channel is archived",
    "rollup_error": "Slack had an internal error",
}


class SlackChannel(HookChannel):
    type = "slack"
    variant = "long"
    max_length = 38_000
    counting = "chars"
    overflow = "reject"
    platform = "Slack"
    options = OPTIONS["slack"]

    def send(self, message: Message) -> Receipt:
        text = f"*{message.title}*\n{message.text}" if message.title else message.text
        if len(text) > SLACK_LIMIT:
            raise Permanent(f"the message has {len(text)} characters; Slack truncates anything above {SLACK_LIMIT}")
        if self.settings.get("user"):
            return self.direct(str(self.settings["user"]), text)
        response = self.call("POST", {"text": text})
        status = response.status_code
        body = snippet(response, 100)
        if 200 <= status < 300:
            if body == "ok":
                receipt_id = stable_id("slack", message)
                return Receipt(id=receipt_id, platform_time=answer_time(response), extra={"part_ids": [receipt_id]})
            raise Retryable(self.redact(f"Slack answered HTTP {status} without its usual 'ok' "
                                        f"({body or 'empty body'}); the message may or may not have been posted"),
                            maybe_delivered=True)
        reason = self.redact(f"Slack answered HTTP {status} {body}".rstrip()
                             + (f": {EXPLAINED[body]}" if body in EXPLAINED else ""))
        if status == 429:
            raise Retryable(reason, http.retry_after_seconds(response.headers.get("Retry-After")))
        if status >= 500 or status == 408:
            raise server_error(reason, response)
        raise Permanent(reason)

    def direct(self, user: str, text: str) -> Receipt:
        """`chat.postMessage` from the bot to `user`'s direct messages."""
        token = self.settings.get("bot_token")
        if not token:
            raise Permanent("this Slack channel has no bot_token, so it cannot send a direct message")
        self.add_secrets([str(token)])
        url = str(self.settings.get("web_api_url") or "https://slack.com/api").rstrip("/") + "/chat.postMessage"
        response = self.call("POST", {"channel": user, "text": text, "unfurl_links": False},
                             headers={"Authorization": f"Bearer {token}"}, target=url)
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if status == 200 and isinstance(body, dict) and body.get("ok") is True:
            receipt_id = f"{body.get('channel')}/{body.get('ts')}"
            return Receipt(id=receipt_id, platform_time=answer_time(response), extra={"part_ids": [receipt_id]})
        error = str(body.get("error")) if isinstance(body, dict) and body.get("error") else None
        if error is None:
            raise Retryable(self.redact(f"Slack's Web API answered HTTP {status} without its JSON envelope; the "
                                        "message may or may not have been posted"), maybe_delivered=True)
        reason = self.redact(f"Slack's chat.postMessage answered {error}"
                             + (f" (needs {body['needed']})" if body.get("needed") else ""))
        if status == 429 or error == "ratelimited":
            raise Retryable(reason, http.retry_after_seconds(response.headers.get("Retry-After")))
        if status >= 500 or error in ("fatal_error", "internal_error", "service_unavailable", "request_timeout"):
            raise server_error(reason, response)
        raise Permanent(reason)

    def check(self) -> str:
        return self.check_url("Slack incoming-webhook URL", hosts=("hooks.slack.com", "hooks.slack-gov.com"),
                              path=r"/services/[^/]+/[^/]+/[^/]+/?",
                              example="https://hooks.slack.com/services/T…/B…/…")
