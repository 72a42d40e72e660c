"""Discord webhooks.

`send()` executes the webhook (`POST <webhook_url>?wait=true`, JSON `{"content": part}`)
once per part, in order, each part verbatim; parts already in `message.sent_parts` are
skipped, and a failure carries in `sent_parts` the receipts of every part sent so far
(those of earlier attempts first).

`wait=true` makes Discord answer 200 with the created Message, whose id and timestamp
make the receipt; the url is a jump link when the Message names its guild, else None
(execute-webhook answers usually carry only channel_id). A 204 (an answer without the
Message, i.e. `wait` got lost on the way) still means Discord accepted the part: it
counts as delivered, with an id derived from the draft, channel and part index.

Mentions are never parsed (`allowed_mentions.parse = []`): a statement that quotes
"@everyone" does not ping anyone.

Errors: 429 carries `retry_after` (float seconds) in its JSON body, preferred, and a
Retry-After header; 401 (50027 Invalid Webhook Token), 404 (10015 Unknown Webhook), 403
and 400 (50035 Invalid Form Body, with per-field errors) are permanent; 5xx retryable.
Between parts, when Discord says the webhook's bucket is empty (X-RateLimit-Remaining 0),
the channel waits X-RateLimit-Reset-After if it is short, otherwise stops with a
Retryable carrying the parts already sent. A 200 without a message id leaves the outcome
unknown (`maybe_delivered`). Discord webhooks have no idempotency: not idempotent.

A correction edits each part in place (`PATCH <webhook_url>/messages/<id>`, answered 200
with the edited Message, its `edited_timestamp` the receipt's time) and a withdrawal
deletes each part, last first (`DELETE` on the same path, answered 204). A message
Discord no longer has (404, code 10008 Unknown Message) counts as deleted and cannot be
edited; only messages whose id Discord gave (a send with `wait=true`) can be edited or
deleted. A webhook URL's `thread_id` is kept on these requests (and on the look-up), so
messages posted into a thread are found there.

`check()` reads the webhook with its token (GET, documented as needing no other
authentication), which proves the token without posting.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from channels import http
from channels.base import (DeliveryError, Message, part_ids, Permanent, post_in_parts, Receipt,
                           Retryable)
from channels.hooks import HookChannel, answer_time, server_error, snippet, stable_id
from channels.schemas import OPTIONS

if TYPE_CHECKING:
    from requests import Response as Answer

PACE_LIMIT = 5.0
UNKNOWN_MESSAGE = 10008
EXPLAINED = {
    401: "the webhook token in the URL was rejected (the webhook was reset or the URL is wrong)",
    403: "the webhook is not allowed to post there",
    404: "Discord does not know this webhook (it was deleted or the URL is wrong)",
}


def field_error(errors: Any, path: tuple[str, ...] = ()) -> str | None:
    """The first per-field message of an Invalid Form Body answer, e.g. 'content: Must be
    2000 or fewer in length.'"""
    if not isinstance(errors, dict):
        return None
    for item in errors.get("_errors") or ():
        if isinstance(item, dict) and item.get("message"):
            return ".".join(path) + ": " + str(item["message"]) if path else str(item["message"])
    for key, value in errors.items():
        if key != "_errors":
            found = field_error(value, path + (str(key),))
            if found:
                return found
    return None


def _unknown_message(response: "Answer") -> bool:
    """Whether Discord answered 404 Unknown Message (JSON error code 10008)."""
    answer = http.json_body(response) if response.status_code == 404 else None
    return isinstance(answer, dict) and answer.get("code") == UNKNOWN_MESSAGE


class DiscordChannel(HookChannel):
    type = "discord"
    variant = "long"
    max_length = 2000
    counting = "utf16"
    overflow = "split"
    platform = "Discord"
    options = OPTIONS["discord"]

    def send(self, message: Message) -> Receipt:
        answers: list["Answer"] = []

        def post(index: int, previous: str | None) -> Receipt:
            if answers:
                self._pace(answers[-1])
            receipt, response = self._post_part(message, index)
            answers.append(response)
            return receipt

        return post_in_parts(message, post)

    can_look_up = True

    def lookup(self, reference: str) -> Receipt | None:
        message_id = reference.strip().rstrip("/").rsplit("/", 1)[-1]
        if not message_id.isdigit():
            raise Permanent(self.redact(f"{reference!r} is neither a Discord message id nor a message link"))
        response = self.call("GET", target=self._message_url(message_id), params=self._in_thread())
        if response.status_code == 404:
            return None
        if not 200 <= response.status_code < 300:
            raise self._error(response, f"message {message_id}")
        found = http.json_body(response)
        if not isinstance(found, dict) or str(found.get("id")) != message_id:
            raise Retryable(f"Discord's answer for message {message_id} is not that message")
        channel_id, guild_id = str(found.get("channel_id") or ""), str(found.get("guild_id") or "")
        url = f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}" if guild_id and channel_id else None
        stamp = found.get("timestamp") if isinstance(found.get("timestamp"), str) else None
        return Receipt(id=message_id, url=url, platform_time=stamp, extra={"text": str(found.get("content") or "")})

    can_edit = True
    can_delete = True

    def edit(self, receipt: Receipt, message: Message) -> Receipt:
        message_ids = self._message_ids(receipt, "edited")
        if len(message_ids) != len(message.parts):
            raise Permanent(f"the correction has {len(message.parts)} parts but the Discord post has "
                            f"{len(message_ids)} messages; nothing was edited")
        edited: list[Receipt] = []
        previous: "Answer | None" = None
        for index, message_id in enumerate(message_ids):
            if previous is not None:
                self._pace(previous)
            payload = {"content": message.parts[index], "allowed_mentions": {"parse": []}}
            previous = self.call("PATCH", payload, target=self._message_url(message_id), params=self._in_thread())
            what = f"the edit of message {message_id}"
            if _unknown_message(previous):
                raise Permanent(f"Discord no longer has message {message_id}, so it cannot be edited")
            if previous.status_code != 200:
                raise self._error(previous, what)
            answer = http.json_body(previous)
            if not isinstance(answer, dict) or str(answer.get("id")) != message_id:
                raise Retryable(f"Discord's answer to {what} is not that message; the edit may have been made",
                                maybe_delivered=True)
            stamp = answer.get("edited_timestamp")
            edited.append(Receipt(message_id, receipt.url if index == 0 else None,
                                  stamp if isinstance(stamp, str) else None))
        first = edited[0]
        return Receipt(first.id, first.url, first.platform_time, {"part_ids": message_ids})

    def delete(self, receipt: Receipt) -> str | None:
        message_ids = self._message_ids(receipt, "deleted")
        previous: "Answer | None" = None
        for message_id in reversed(message_ids):
            if previous is not None:
                self._pace(previous)
            previous = self.call("DELETE", target=self._message_url(message_id), params=self._in_thread())
            if 200 <= previous.status_code < 300 or _unknown_message(previous):
                continue
            raise self._error(previous, f"the deletion of message {message_id}")
        return answer_time(previous) if previous is not None else None

    def _message_ids(self, receipt: Receipt, done: str) -> list[str]:
        message_ids = part_ids(receipt)
        for message_id in message_ids:
            if not message_id.isdigit():
                raise Permanent(self.redact(f"{message_id!r} is not a Discord message id (the message was sent "
                                            f"without Discord naming it), so nothing was {done}"))
        return message_ids

    def _message_url(self, message_id: str) -> str:
        return f"{self.target.split('?', 1)[0].rstrip('/')}/messages/{message_id}"

    def _in_thread(self) -> dict[str, str] | None:
        """The `thread_id` of a webhook URL that posts into a thread: its messages are
        read, edited and deleted there."""
        thread = parse_qs(urlsplit(self.url).query).get("thread_id", [""])[0]
        return {"thread_id": thread} if thread.isdigit() else None

    def _post_part(self, message: Message, index: int) -> tuple[Receipt, "Answer"]:
        payload: dict[str, Any] = {"content": message.parts[index], "allowed_mentions": {"parse": []}}
        if self.settings.get("username"):
            payload["username"] = self.settings["username"]
        response = self.call("POST", payload, params={"wait": "true"})
        if not 200 <= response.status_code < 300:
            raise self._error(response, f"part {index + 1} of {len(message.parts)}")
        if response.status_code == 204:
            return Receipt(id=stable_id("discord", message, index)), response
        posted = http.json_body(response)
        if not isinstance(posted, dict) or not posted.get("id"):
            raise Retryable(self.redact("Discord answered HTTP 200 without a message id "
                                        f"({snippet(response, 100) or 'empty body'}); "
                                        "the part may or may not have been posted"), maybe_delivered=True)
        message_id, channel_id, guild_id = (str(posted.get(k) or "") for k in ("id", "channel_id", "guild_id"))
        url = f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}" if guild_id and channel_id else None
        timestamp = posted.get("timestamp") if isinstance(posted.get("timestamp"), str) else None
        return Receipt(id=message_id, url=url, platform_time=timestamp, extra={"channel_id": channel_id}), response

    def _pace(self, response: "Answer") -> None:
        if response.headers.get("X-RateLimit-Remaining") != "0":
            return
        try:
            wait = max(0.0, float(response.headers.get("X-RateLimit-Reset-After") or 0))
        except ValueError:
            return
        if wait > PACE_LIMIT:
            raise Retryable(f"Discord's rate limit for this webhook is used up for {wait:.1f} s; "
                            "the remaining parts wait", retry_after=wait)
        time.sleep(wait)

    def _error(self, response: "Answer", what: str) -> DeliveryError:
        status = response.status_code
        answer = http.json_body(response)
        answer = answer if isinstance(answer, dict) else {}
        said = str(answer.get("message") or "") or snippet(response)
        code = answer.get("code")
        detail = f"Discord answered HTTP {status}" + (f", code {code}" if code else "") + (f": {said}" if said else "")
        field = field_error(answer.get("errors"))
        detail += f" ({field})" if field else ""
        reason = self.redact(f"{detail} — {EXPLAINED[status]}" if status in EXPLAINED else detail)
        if status == 429:
            retry_after = answer.get("retry_after")
            if not isinstance(retry_after, (int, float)) or isinstance(retry_after, bool):
                retry_after = http.retry_after_seconds(response.headers.get("Retry-After"))
            retry_after = None if retry_after is None else float(retry_after)
            scope = "all requests from here (global limit)" if answer.get("global") else "this webhook"
            wait = f"; it asks to wait {retry_after:g} s" if retry_after is not None else ""
            return Retryable(f"Discord is rate limiting {scope}, so {what} was not sent{wait}", retry_after=retry_after)
        if status >= 500 or status == 408:
            return server_error(reason, response)
        return Permanent(reason)

    def check(self) -> str:
        self.check_url("Discord webhook URL",
                       hosts=("discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"),
                       path=r"/api(/v\d+)?/webhooks/\d+/[^/]+/?",
                       example="https://discord.com/api/webhooks/<id>/<token>")
        response = self.call("GET")
        if response.status_code != 200:
            raise self._error(response, "the webhook check")
        webhook = http.json_body(response)
        if not isinstance(webhook, dict) or not webhook.get("channel_id"):
            raise Retryable("Discord answered the webhook check without a channel id")
        name = str(webhook.get("name") or "unnamed")
        return self.redact(f"Discord webhook '{name}' is valid and posts to channel {webhook['channel_id']}")
