"""A fake Telegram Bot API, answering like api.telegram.org.

Paths are the real ones (`/bot<token>/getMe`, `/bot<token>/sendMessage`); parameters
come as a query string, a form (values of object type JSON-encoded) or a JSON body, as
the Bot API accepts. Every answer has the Bot API's envelope: `{"ok":true,"result":...}`
or `{"ok":false,"error_code":..,"description":..,"parameters":..}` with the same HTTP
status. A wrong token gets 401 Unauthorized, a malformed one 404 Not Found, an unknown
chat, an empty or over-long text and a missing reply target get the real 400s, and a
chat the bot was removed from gets the real 403. A text sent with `parse_mode` is read as
Telegram reads it (`telegram_entities`): one it cannot parse gets the real 400 "Bad
Request: can't parse entities: …", and the length is counted after parsing, on the text
the message then shows (`sent[-1]["text"]`). Tests queue anything else with
`FakeTelegram.error(...)`, or script the answer to the n-th sendMessage (`fail_call`).

`getUpdates` answers as the Bot API does for a bot in the channel's linked discussion group
(`@citywater_chat`): the queued updates (`comment`, `forward_post` add them, numbered from
`update_id` 900000001) from the lowest one not yet confirmed, at most `limit` (1-100,
default 100); calling it with `offset` confirms, and so forgets for good, every update below
`offset`; a negative `offset` takes that many from the end; `allowed_updates` filters
by kind. While a webhook is set (`webhook = True`) it is the real 409 Conflict.
"""
from __future__ import annotations

import itertools
import json
import re
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request
from tests.fakes.telegram_entities import PARSERS, Unparsable, shown_text

HEADERS = {"Server": "nginx/1.18.0", "Content-Type": "application/json",
           "Access-Control-Allow-Origin": "*",
           "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload"}


class FakeTelegram(FakeServer):
    def __init__(self, token: str = "7012345678:AAF-fake-bot-token", date: int = 1767225600):
        super().__init__(self._answer)
        self._first_token = token
        self.date = date
        self.bot = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "Water Alerts",
                    "username": "water_alerts_bot", "can_join_groups": True,
                    "can_read_all_group_messages": False, "supports_inline_queries": False,
                    "can_connect_to_business": False, "has_main_web_app": False}
        self.chats: dict[str, dict[str, Any]] = {
            "@citywater": {"id": -1001234567890, "title": "City Water Board", "username": "citywater",
                           "type": "channel"},
            "-1009876543210": {"id": -1009876543210, "title": "Crisis cell", "type": "supergroup"},
            "@citywater_chat": {"id": -1001122334455, "title": "City Water Board Chat", "username": "citywater_chat",
                                "type": "supergroup"},
        }
        self.reset()

    def reset(self) -> None:
        """Forget every request, queued reply and message; restore the token."""
        super().reset()
        self.token = self._first_token
        self.removed: set[int] = set()
        self.sent: list[dict[str, Any]] = []
        self.failures: dict[int, Reply] = {}
        self.deleted: list[int] = []
        self.undeletable: set[int] = set()
        self._ids = itertools.count(501)
        self._calls = itertools.count(1)
        self.updates: list[dict[str, Any]] = []
        self._confirmed: list[dict[str, Any]] = []
        self._update_ids = itertools.count(900000001)
        self._group_ids = itertools.count(10)
        self.webhook = False

    def fail_call(self, number: int, reply: Reply) -> None:
        """Answer the `number`th sendMessage (from 1) with `reply` instead."""
        self.failures[number] = reply

    def post(self, chat: str, text: str) -> int:
        """A message already in `chat`, as if posted earlier; returns its id."""
        message = {"message_id": next(self._ids), "chat": self.chats[chat], "date": self.date, "text": text}
        self.sent.append(message)
        return message["message_id"]

    def forward_post(self, channel_message_id: int, text: str, chat: str = "@citywater_chat") -> int:
        """The channel post `channel_message_id` as Telegram copies it into the linked
        discussion group (`is_automatic_forward`); returns its id in the group."""
        channel = self.chats["@citywater"]
        message = {"message_id": next(self._group_ids),
                   "from": {"id": 777000, "is_bot": False, "first_name": "Telegram"},
                   "sender_chat": channel, "chat": self.chats[chat], "date": self.date,
                   "forward_origin": {"type": "channel", "chat": channel, "message_id": channel_message_id,
                                      "date": self.date},
                   "is_automatic_forward": True, "text": text}
        return self._update("message", message)

    def comment(self, text: str | None, sender: dict[str, Any] | None = None, reply_to: int | None = None,
                chat: str = "@citywater_chat", date: int | None = None, **fields: Any) -> int:
        """A member's message in the group (`reply_to`: the group message it answers, which
        also names the thread); returns its id in the group."""
        sender = sender or {"id": 5551234, "is_bot": False, "first_name": "Lucía", "last_name": "Gómez",
                            "username": "luciag", "language_code": "es"}
        message: dict[str, Any] = {"message_id": next(self._group_ids), "from": sender, "chat": self.chats[chat],
                                   "date": self.date if date is None else date, **fields}
        if text is not None:
            message["text"] = text
        if reply_to is not None:
            replied = next(u["message"] for u in self.updates + self._confirmed
                           if u.get("message", {}).get("message_id") == reply_to)
            message["message_thread_id"] = replied.get("message_thread_id", reply_to)
            message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        return self._update("message", message)

    def _update(self, kind: str, message: dict[str, Any]) -> int:
        self.updates.append({"update_id": next(self._update_ids), kind: message})
        return message["message_id"]

    def _get_updates(self, fields: dict[str, Any]) -> Reply:
        """getUpdates (core.telegram.org/bots/api#getupdates)."""
        if self.webhook:
            return self.error(409, "Conflict: can't use getUpdates method while webhook is active; "
                                   "use deleteWebhook to delete the webhook first")
        try:
            limit = int(fields.get("limit") or 100)
            offset = int(fields["offset"]) if fields.get("offset") not in (None, "") else None
        except ValueError:
            return self.error(400, "Bad Request: wrong parameter")
        limit = min(max(limit, 1), 100)
        if offset is not None and offset >= 0:
            self._confirmed += [u for u in self.updates if u["update_id"] < offset]
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        pending = self.updates[offset:] if offset is not None and offset < 0 else self.updates
        allowed = fields.get("allowed_updates")
        if isinstance(allowed, str):
            allowed = json.loads(allowed)
        if allowed:
            pending = [u for u in pending if set(u) - {"update_id"} <= set(allowed)]
        return self.ok(pending[:limit])

    @staticmethod
    def error(status: int, description: str, **parameters: Any) -> Reply:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return Reply(status, body, dict(HEADERS))

    @staticmethod
    def ok(result: Any) -> Reply:
        return Reply(200, {"ok": True, "result": result}, dict(HEADERS))

    @staticmethod
    def params(request: Request) -> dict[str, Any]:
        """The call's parameters, object values decoded."""
        fields: dict[str, Any] = {k: v[-1] for k, v in request.query.items()}
        kind = (request.header("Content-Type") or "").split(";")[0]
        if kind == "application/json":
            fields.update(request.json())
        elif request.body:
            fields.update(request.form())
        for key in ("reply_parameters", "reply_markup", "entities", "link_preview_options", "allowed_updates"):
            if isinstance(fields.get(key), str):
                fields[key] = json.loads(fields[key])
        return fields

    def _answer(self, request: Request) -> Reply:
        match = re.fullmatch(r"/bot([^/]*)/(\w+)", request.path)
        if not match or not re.fullmatch(r"\d+:[\w-]+", match.group(1)):
            return self.error(404, "Not Found")
        token, method = match.groups()
        if token != self.token:
            return self.error(401, "Unauthorized")
        if method == "getMe":
            return self.ok(self.bot)
        if method == "getUpdates":
            return self._get_updates(self.params(request))
        if method == "sendMessage":
            failure = self.failures.get(next(self._calls))
            return failure or self._send(self.params(request))
        if method == "editMessageText":
            return self._edit(self.params(request))
        if method == "deleteMessage":
            return self._delete(self.params(request))
        return self.error(404, "Not Found")

    def _find(self, fields: dict[str, Any]) -> dict[str, Any] | None:
        chat = self.chats.get(str(fields.get("chat_id", "")).lower())
        return next((m for m in self.sent if chat is not None and m["chat"] == chat
                     and m["message_id"] == int(fields.get("message_id") or 0)), None)

    def _edit(self, fields: dict[str, Any]) -> Reply:
        """editMessageText (core.telegram.org/bots/api#editmessagetext): the edited Message
        with `edit_date`; the same text again is the real 400 "message is not modified", an
        unknown message the 400 "message to edit not found"."""
        found = self._find(fields)
        if found is None:
            return self.error(400, "Bad Request: message to edit not found")
        try:
            text = shown_text(str(fields.get("text", "")), fields.get("parse_mode") or None)
        except Unparsable as refused:
            return self.error(400, f"Bad Request: can't parse entities: {refused}")
        if text == found["text"]:
            return self.error(400, "Bad Request: message is not modified: specified new message content and "
                                   "reply markup are exactly the same as a current content and reply markup of "
                                   "the message")
        found.update(text=text, edit_date=self.date + 60)
        return self.ok(found)

    def _delete(self, fields: dict[str, Any]) -> Reply:
        """deleteMessage (core.telegram.org/bots/api#deletemessage): `true`; an unknown
        message is the 400 "message to delete not found"; one in `undeletable` (older than
        48 hours for a bot) the 400 "message can't be deleted"."""
        found = self._find(fields)
        if found is None:
            return self.error(400, "Bad Request: message to delete not found")
        if found["message_id"] in self.undeletable:
            return self.error(400, "Bad Request: message can't be deleted")
        self.sent.remove(found)
        self.deleted.append(found["message_id"])
        return self.ok(True)

    def _send(self, fields: dict[str, Any]) -> Reply:
        chat = self.chats.get(str(fields.get("chat_id", "")).lower())
        if chat is None:
            return self.error(400, "Bad Request: chat not found")
        if chat["id"] in self.removed:
            return self.error(403, f"Forbidden: bot is not a member of the {chat['type']} chat")
        parse_mode = fields.get("parse_mode") or None
        if parse_mode is not None and parse_mode not in PARSERS:
            return self.error(400, "Bad Request: unsupported parse_mode")
        try:
            text = shown_text(str(fields.get("text", "")), parse_mode)
        except Unparsable as refused:
            return self.error(400, f"Bad Request: can't parse entities: {refused}")
        if not text.strip():
            return self.error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return self.error(400, "Bad Request: message is too long")
        message: dict[str, Any] = {"message_id": next(self._ids), "chat": chat, "date": self.date, "text": text}
        if chat["type"] == "channel":
            message["sender_chat"] = chat
        else:
            message["from"] = {k: self.bot[k] for k in ("id", "is_bot", "first_name", "username")}
        target = (fields.get("reply_parameters") or {}).get("message_id")
        if target is not None:
            replied = next((m for m in self.sent if m["message_id"] == target and m["chat"] == chat), None)
            if replied is None:
                return self.error(400, "Bad Request: message to be replied not found")
            message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        self.sent.append(message)
        return self.ok(message)
