"""Telegram source: the messages in the channel's linked discussion group (the comments
under its posts, and anything else said there), read by the bot with `getUpdates`
(python-telegram-bot, through the Telegram channel's bounded transport).

Guarantees:
- The cursor is the next `offset` (the last update's `update_id` + 1). A read asks
  `getUpdates` with the stored cursor, which confirms to Telegram only updates already
  returned by an earlier read (and so stored before the cursor was): a restart neither
  loses nor repeats an update. With no cursor it reads the updates Telegram still holds
  (it keeps unconfirmed ones for 24 hours). Updates of other chats, service messages and
  messages without text or caption advance the cursor and are not items; neither are the
  channel's own posts, which Telegram copies into the group (`is_automatic_forward`).
- An item is keyed `CHAT_ID/MESSAGE_ID` (unique across groups), with a `t.me` link, the
  author (name and @username, or the chat a member posted as), the platform's time, its
  text or caption. `answers`: for a comment on one of the channel's posts, that post's
  message id as the Telegram channel's receipts record it (`extra["answers_chat"]` names
  the channel); for a reply to another message of the group, that message's item id.
- Each request is bounded like the channel's (`timeout` for the whole request, the answer
  up to `channels.http.MAX_ANSWER` bytes, a freeze stops it) and classified by the same
  rules: 429 is `Retryable` with Telegram's `retry_after`; a rejected token (401), a group
  the bot cannot read, and a webhook set on the bot (409: `getUpdates` then refuses) are
  `Permanent`; 5xx and network failures are `Retryable`. The token never shows in a reason.
- The bot sees every message of the group only when it is an administrator there or its
  privacy mode is off (@BotFather, /setprivacy); otherwise Telegram sends it only commands
  and replies to the bot.
"""
from __future__ import annotations

import re
from typing import Any, Mapping, cast

from channels.base import Permanent
from channels.heard_text import clean_line, clean_text
from channels.options import NETWORK_OPTIONS, Option
from channels.schemas import BOT_API_URL
from channels.sources import Heard, Source

PAGE = 100


class TelegramSource(Source):
    type = "telegram"
    platform = "telegram"
    options = {
        "token": Option(str, required=True, secret=True, help="bot token from @BotFather (the channel's bot)"),
        "chat": Option((str, int), required=True,
                       help="the discussion group linked to the channel: \"@groupname\" or its numeric id"),
        "channel": Option(str, help="the [channels] entry whose token and api_url this source reuses"),
        **NETWORK_OPTIONS,
        "api_url": Option(str, default=BOT_API_URL, help=NETWORK_OPTIONS["api_url"].help, url=BOT_API_URL),
    }

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        from channels.telegram import TelegramChannel

        raw = {key: settings[key] for key in ("token", "chat", "api_url", "timeout") if key in settings}
        self._channel = cast(TelegramChannel, TelegramChannel.build(name, {"type": "telegram", **raw},
                                                                   frozenset(secrets)))
        super().__init__(name, settings, frozenset(secrets) | self._channel.secrets)
        self.chat = self._channel.chat

    def redact(self, text: str) -> str:
        return self._channel.redact(text)

    def read(self, cursor: str | None, limit: int = 200) -> tuple[list[Heard], str | None]:
        from channels.telegram import _run

        offset = _offset(cursor)
        updates = _run(self._updates(offset, max(1, min(limit, PAGE))))
        items = [item for item in map(self._heard, updates) if item is not None]
        last = max((update.update_id for update in updates), default=None)
        return items, str(last + 1) if last is not None else cursor

    def check(self) -> str:
        return self._channel.check()

    async def _updates(self, offset: int | None, limit: int) -> tuple[Any, ...]:
        bot, request = self._channel._bot()
        try:
            return tuple(await bot.get_updates(offset=offset, limit=limit, timeout=0, allowed_updates=["message"]))
        except Exception as error:
            raise self._channel._failure(error, request.answer, (), sending=False) from None
        finally:
            await request.shutdown()

    def _ours(self, chat: Any) -> bool:
        if isinstance(self.chat, int):
            return chat.id == self.chat
        return (chat.username or "").lower() == self.chat[1:].lower()

    def _heard(self, update: Any) -> Heard | None:
        message = update.message
        if message is None or not self._ours(message.chat) or message.is_automatic_forward:
            return None
        text = clean_text(message.text or message.caption or "")
        if not text:
            return None
        answers, extra = None, {"chat": message.chat.id, "message_id": message.message_id,
                                "update_id": update.update_id}
        if message.message_thread_id is not None:
            extra["thread"] = f"{message.chat.id}/{message.message_thread_id}"
        replied = message.reply_to_message
        if replied is not None:
            origin = replied.forward_origin if replied.is_automatic_forward else None
            if origin is not None and getattr(origin, "message_id", None) is not None:
                answers = str(origin.message_id)
                extra["answers_chat"] = _chat_name(origin.chat)
            else:
                answers = f"{message.chat.id}/{replied.message_id}"
        if message.caption and not message.text:
            extra["caption"] = True
        return Heard(platform=self.platform, id=f"{message.chat.id}/{message.message_id}", text=text,
                     author=_author(message), url=_link(message.chat, message.message_id),
                     platform_time=message.date.isoformat(timespec="seconds") if message.date else None,
                     answers=answers, extra=extra)


def _offset(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not re.fullmatch(r"\d{1,19}", cursor.strip()):
        raise Permanent(f"the stored Telegram cursor {cursor[:40]!r} is not an update offset")
    return int(cursor)


def _chat_name(chat: Any) -> str:
    return f"@{chat.username}" if chat.username else str(chat.id)


def _author(message: Any) -> str:
    if message.sender_chat is not None:
        chat = message.sender_chat
        name = clean_line(chat.title or "")
        return clean_line(f"{name} (@{chat.username})" if chat.username else name or str(chat.id))
    user = message.from_user
    if user is None:
        return ""
    name = clean_line(user.full_name or "")
    return clean_line(f"{name} (@{user.username})" if user.username else name or str(user.id))


def _link(chat: Any, message_id: int) -> str | None:
    if chat.username:
        return f"https://t.me/{chat.username}/{message_id}"
    internal = str(chat.id)
    if internal.startswith("-100"):
        return f"https://t.me/c/{internal[4:]}/{message_id}"
    return None
