"""Telegram: messages to one chat or channel through the Bot API (python-telegram-bot 22).

Guarantees:
- Each part goes out as its own `sendMessage`, verbatim and in order (the core has
  already numbered them); the first one replies to `reply_to` when it is given. With
  `parse_mode` set, each part is escaped for it (`escaped`: `<`, `>`, `&` as HTML
  entities; a backslash before every character MarkdownV2 or Markdown reserves), so Telegram
  parses it back into exactly the approved text: no text is refused with "can't parse
  entities", and the length Telegram counts (after parsing) is the approved text's
  UTF-16 length, the one the drafts are checked against. Parts in
  `message.sent_parts` are not sent again, and a failure after some parts went out
  carries their receipts in `sent_parts`.
- PTB is async: each `send()` runs its own event loop (`asyncio.run`, in a helper thread
  when the caller is itself inside an event loop) with a fresh
  `HTTPXRequest` whose connect/read/write/pool timeouts are `timeout`, and `timeout`
  also bounds each whole request (a trickling answer is cut), as a freeze does for a
  request in flight (`channels.deadline`); httpx does not retry, so every request goes
  out once.
- An answer is read up to `channels.http.MAX_ANSWER` bytes, asked for without compression
  (`Accept-Encoding: identity`; a body compressed anyway is not inflated, so it is not a
  Bot API answer); a longer one is not read further and its outcome is unknown. Nothing
  is kept alive between requests (httpx would read an unsolicited answer the server
  appended to the previous one as the next request's), so a split message opens a
  connection per part.
- Answers are classified from PTB's exception and the HTTP status seen on the wire:
  429 with `parameters.retry_after` is `Retryable(retry_after=...)`; a rejected token
  (401/404), 403 (bot not a member, blocked) and 400 (chat not found, message too long)
  are `Permanent`, and so is a server certificate that does not verify
  (`channels.http.certificate_problem`); 5xx is `Retryable`; a read timeout, a connection broken after
  sending (a 200 whose body is cut off included), and a 200 whose body is not a Bot
  API answer are `Retryable` with
  `maybe_delivered=True`. The Bot API has no idempotency key, so the channel is not
  idempotent and such outcomes are left to a person.
- A correction edits each part in place (`editMessageText`; a part already showing the
  text, "message is not modified", counts as edited); a withdrawal deletes each part
  (`deleteMessage`, last first; "message to delete not found" counts as deleted, so a
  repeated withdrawal is safe; a message a bot may no longer delete is `Permanent`).
- `reply_to` is a message id or a `https://t.me/<chat>/<id>` link (also `t.me/c/...`).
- The token is part of every Bot API URL: the `httpx`, `httpcore` and `telegram`
  loggers are kept at WARNING and above, every reason is redacted (the token, its
  URL-encoded form and its secret half after the colon), PTB's own logging of an
  unreadable body is skipped, and the bot object (whose repr shows the token) never
  leaves this module.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import re
from typing import Any
from urllib.parse import quote, urlsplit

from channels import http
from channels.base import (Channel, combined_receipt, DeliveryError, Message, part_ids, Permanent,
                           quiet_loggers, Receipt, Retryable, SettingError)
from channels.deadline import POLL, Deadline, current_abort
from channels.schemas import OPTIONS

_PUBLIC_LINK = re.compile(r"/(?:s/)?(?P<name>[A-Za-z][A-Za-z0-9_]{3,})/(?:\d+/)?(?P<id>\d+)/?")
_PRIVATE_LINK = re.compile(r"/c/(?P<internal>\d+)/(?:\d+/)?(?P<id>\d+)/?")


class TelegramChannel(Channel):
    type = "telegram"
    variant = "long"
    max_length = 4096
    counting = "utf16"
    overflow = "split"
    supports_reply = True
    idempotent = False
    options = OPTIONS["telegram"]

    def __init__(self, name, settings, secrets=frozenset()):
        super().__init__(name, settings, secrets)
        token = self.settings["token"]
        self.add_secrets({token, quote(token, safe=""), token.partition(":")[2]})
        chat = self.settings["chat"]
        if isinstance(chat, str):
            chat = chat.strip()
            if not (re.fullmatch(r"@[A-Za-z0-9_]{4,}", chat) or re.fullmatch(r"-?\d+", chat)):
                raise SettingError("chat", f"\"@channelname\" or a numeric chat id, got {chat!r}")
            chat = int(chat) if not chat.startswith("@") else chat
        self.chat: str | int = chat
        self.api_url = self.settings["api_url"].rstrip("/")
        if not re.match(r"^https?://", self.api_url):
            raise SettingError("api_url", f"an http(s) URL, got {self.api_url!r}")
        quiet_loggers("httpx", "httpcore", "telegram")

    def send(self, message: Message) -> Receipt:
        reply_id = self.reply_id(message.reply_to) if message.reply_to else None
        receipts = list(message.sent_parts)
        if len(receipts) < len(message.parts):
            _run(self._send_parts(message.parts, receipts, reply_id))
        return combined_receipt(receipts)

    can_edit = True
    can_delete = True

    def edit(self, receipt: Receipt, message: Message) -> Receipt:
        ids = [int(value) for value in part_ids(receipt, len(message.parts), "Telegram") if value.isdigit()]
        if len(ids) != len(message.parts):
            raise Permanent(f"the Telegram receipt {receipt.id!r} does not name message ids")
        edited = _run(self._edit_parts(ids, message.parts))
        return Receipt(str(ids[0]), receipt.url, edited, {"part_ids": [str(value) for value in ids]})

    def delete(self, receipt: Receipt) -> str | None:
        ids = [int(value) for value in part_ids(receipt, None, "Telegram") if value.isdigit()]
        if not ids:
            raise Permanent(f"the Telegram receipt {receipt.id!r} does not name message ids")
        _run(self._delete_parts(list(reversed(ids))))
        return None

    def check(self) -> str:
        me = _run(self._get_me())
        return f"bot @{me.username} (id {me.id}) is accepted by Telegram"

    def reply_id(self, reply_to: str) -> int:
        """The message id `reply_to` names; `Permanent` when it names none in this chat."""
        value = reply_to.strip()
        if value.isdigit():
            return int(value)
        parts = urlsplit(value)
        link = _PUBLIC_LINK.fullmatch(parts.path) or _PRIVATE_LINK.fullmatch(parts.path)
        if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() not in ("t.me", "telegram.me") \
                or not link:
            raise Permanent(self.redact(f"cannot tell which Telegram message reply_to {value!r} names; "
                                        "give its message id or a https://t.me/<chat>/<id> link"))
        found = link.groupdict()
        if found.get("name") and isinstance(self.chat, str) and found["name"].lower() != self.chat[1:].lower() \
                or found.get("internal") and isinstance(self.chat, int) and int(f"-100{found['internal']}") != self.chat:
            raise Permanent(self.redact(f"reply_to {value!r} is a message in another chat than {self.chat}"))
        return int(found["id"])

    def _bot(self) -> tuple[Any, Any]:
        from telegram import Bot

        request = _recording_request(self.timeout)
        bot = Bot(self.settings["token"], base_url=f"{self.api_url}/bot", request=request,
                  get_updates_request=request)
        return bot, request

    async def _send_parts(self, parts: tuple[str, ...], receipts: list[Receipt], reply_id: int | None) -> None:
        from telegram import ReplyParameters

        bot, request = self._bot()
        try:
            for index in range(len(receipts), len(parts)):
                request.answer = None
                replying = ReplyParameters(message_id=reply_id) if index == 0 and reply_id else None
                try:
                    mode = self.settings.get("parse_mode")
                    sent = await bot.send_message(chat_id=self.chat, text=escaped(parts[index], mode),
                                                  parse_mode=mode, reply_parameters=replying)
                    receipts.append(self._receipt(sent))
                except Exception as error:
                    raise self._failure(error, request.answer, tuple(receipts)) from None
        finally:
            await request.shutdown()

    async def _edit_parts(self, ids: list[int], parts: tuple[str, ...]) -> str | None:
        """editMessageText for each part; a part already showing its text ("message is not
        modified") counts as edited. Returns the last `edit_date` Telegram gave."""
        from telegram import error as tg

        bot, request = self._bot()
        edited: str | None = None
        try:
            for message_id, text in zip(ids, parts, strict=True):
                request.answer = None
                mode = self.settings.get("parse_mode")
                try:
                    result = await bot.edit_message_text(text=escaped(text, mode), chat_id=self.chat,
                                                         message_id=message_id, parse_mode=mode)
                except tg.BadRequest as error:
                    if "not modified" in str(error.message).lower():
                        continue
                    raise self._failure(error, request.answer, ()) from None
                except Exception as error:
                    raise self._failure(error, request.answer, ()) from None
                moment = getattr(result, "edit_date", None)
                edited = moment.isoformat(timespec="seconds") if moment is not None else edited
        finally:
            await request.shutdown()
        return edited

    async def _delete_parts(self, ids: list[int]) -> None:
        """deleteMessage for each part; one Telegram no longer has counts as deleted."""
        from telegram import error as tg

        bot, request = self._bot()
        try:
            for message_id in ids:
                request.answer = None
                try:
                    await bot.delete_message(chat_id=self.chat, message_id=message_id)
                except tg.BadRequest as error:
                    if "not found" in str(error.message).lower():
                        continue
                    raise self._failure(error, request.answer, ()) from None
                except Exception as error:
                    raise self._failure(error, request.answer, ()) from None
        finally:
            await request.shutdown()

    async def _get_me(self) -> Any:
        bot, request = self._bot()
        try:
            me = await bot.get_me()
            if not me.username:
                raise ValueError("no username")
            return me
        except Exception as error:
            raise self._failure(error, request.answer, (), sending=False) from None
        finally:
            await request.shutdown()

    def _receipt(self, sent: Any) -> Receipt:
        if not isinstance(sent.message_id, int) or sent.date is None:
            raise ValueError("no message id or date")
        name = sent.chat.username or (self.chat[1:] if isinstance(self.chat, str) else None)
        url = f"https://t.me/{name}/{sent.message_id}" if name else None
        return Receipt(str(sent.message_id), url, sent.date.isoformat(timespec="seconds"))

    def _failure(self, error: BaseException, answer: tuple[int, bytes] | None, sent_parts: tuple[Receipt, ...],
                 sending: bool = True) -> DeliveryError:
        import httpx
        from telegram import error as tg

        status = answer[0] if answer else None
        said = self.redact(str(getattr(error, "message", "") or error))[:300]
        if isinstance(error, tg.RetryAfter):
            return Retryable(f"Telegram is rate limiting the bot: {said}", retry_after=_retry_after(answer),
                             sent_parts=sent_parts)
        if isinstance(error, tg.InvalidToken):
            return Permanent(f"Telegram rejected the bot token ({said})", sent_parts)
        if isinstance(error, tg.ChatMigrated):
            return Permanent(f"the group became a supergroup; set chat to {error.new_chat_id}", sent_parts)
        if isinstance(error, (tg.Forbidden, tg.BadRequest, tg.Conflict)):
            return Permanent(f"Telegram refused the {'message' if sending else 'request'}: {said}", sent_parts)
        if status is not None and 200 <= status < 300:
            return Retryable(f"Telegram answered HTTP {status} but not with a Bot API result"
                             + ("; the message may have been sent" if sending else ""),
                             sent_parts=sent_parts, maybe_delivered=sending)
        if status == 429:
            return Retryable(f"Telegram answered HTTP 429 without saying when to retry: {said}", sent_parts=sent_parts)
        if status is not None and status >= 500:
            return Retryable(f"Telegram had a server error: {said}", sent_parts=sent_parts)
        if status is not None:
            return Permanent(f"Telegram answered HTTP {status}: {said}", sent_parts)
        refused_certificate = http.certificate_problem(error, urlsplit(self.api_url).hostname)
        if refused_certificate:
            return Permanent(self.redact(refused_certificate), sent_parts)
        cause = error.__cause__
        if isinstance(cause, _too_large()):
            return Retryable(http.too_large().reason, sent_parts=sent_parts, maybe_delivered=sending)
        if isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
            return Retryable("could not connect to Telegram", sent_parts=sent_parts)
        if isinstance(error, tg.TimedOut):
            return Retryable("no answer from Telegram before the timeout", sent_parts=sent_parts, maybe_delivered=True)
        if isinstance(error, tg.NetworkError):
            return Retryable("the connection to Telegram broke before an answer", sent_parts=sent_parts,
                             maybe_delivered=True)
        return Permanent(self.redact(f"python-telegram-bot failed before reaching Telegram: {type(error).__name__}"),
                         sent_parts)


MARKDOWN_V2_RESERVED = re.compile(r"([_*\[\]()~`>#+\-=|{}.!\\])")
MARKDOWN_RESERVED = re.compile(r"([_*`\[])")


def escaped(text: str, parse_mode: str | None) -> str:
    """`text` written for `parse_mode` so that Telegram shows exactly `text` (the Bot
    API's "Formatting options"): HTML needs `&`, `<` and `>` as entities; MarkdownV2 a
    backslash before each of _ * [ ] ( ) ~ ` > # + - = | { } . ! and before a backslash;
    legacy Markdown before _ * ` [. Plain text (no mode) is sent as it is."""
    if parse_mode == "HTML":
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if parse_mode == "MarkdownV2":
        return MARKDOWN_V2_RESERVED.sub(r"\\\1", text)
    if parse_mode == "Markdown":
        return MARKDOWN_RESERVED.sub(r"\\\1", text)
    return text


def _run(coroutine: Any) -> Any:
    """Run `coroutine` on an event loop of its own, also when called from async code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _recording_request(timeout: float) -> Any:
    import httpx

    request = _recording_class()(connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout,
                                 pool_timeout=timeout,
                                 httpx_kwargs={"limits": httpx.Limits(max_keepalive_connections=0),
                                               "headers": {"Accept-Encoding": "identity"}})
    request.whole_timeout, request.abort = timeout, current_abort()
    return request


async def _bounded(awaitable: Any, total: float, abort: Any) -> Any:
    """`awaitable`'s result, or PTB's `TimedOut` once the whole-request `Deadline` of
    `total` seconds fires (time up, or the freeze `abort` set): httpx's timeouts are per
    read, so a trickling answer is cut here. The deadline's rules are `channels.deadline`'s;
    only its cut differs (the task is cancelled, there is no socket to shut)."""
    from telegram.error import TimedOut

    task = asyncio.ensure_future(awaitable)
    deadline = Deadline(total, abort)
    while True:
        done, _ = await asyncio.wait({task}, timeout=min(POLL, deadline.remaining()))
        if done:
            return task.result()
        deadline.check()
        if deadline.fired:
            task.cancel()
            raise TimedOut("stopped in flight by a freeze" if deadline.fired == "abort" else
                           f"no whole answer from Telegram within {total:g} s")


@functools.cache
def _too_large() -> type:
    import httpx

    class AnswerTooLarge(httpx.HTTPError):
        """The answer was longer than `channels.http.MAX_ANSWER`."""

    return AnswerTooLarge


@functools.cache
def _bounded_client() -> type:
    import httpx

    class BoundedClient(httpx.AsyncClient):
        """An httpx client that reads each answer's body up to `channels.http.MAX_ANSWER`
        bytes, as they came (never inflated), and closes its connection past that."""

        async def send(self, request: Any, *, stream: bool = False, **kwargs: Any) -> Any:
            response = await super().send(request, stream=True, **kwargs)
            if stream:
                return response
            pieces, size = [], 0
            try:
                async for piece in response.aiter_raw():
                    size += len(piece)
                    if size > http.MAX_ANSWER:
                        raise _too_large()(f"the answer is longer than {http.MAX_ANSWER} bytes")
                    pieces.append(piece)
            finally:
                await response.aclose()
            response._content = b"".join(pieces)
            return response

    return BoundedClient


@functools.cache
def _recording_class() -> type:
    from telegram.error import TelegramError
    from telegram.request import HTTPXRequest

    client = _bounded_client()

    class RecordingRequest(HTTPXRequest):
        """HTTPXRequest that keeps the last HTTP status and body, which PTB's exceptions
        do not carry, reads answers through the bounded client, and does not log an
        unreadable body (PTB logs it whole at ERROR)."""

        answer: tuple[int, bytes] | None = None
        whole_timeout: float = 20.0
        abort: Any = None

        def _build_client(self) -> Any:
            return client(**self._client_kwargs)

        async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
            self.answer = await _bounded(super().do_request(*args, **kwargs), self.whole_timeout, self.abort)
            return self.answer

        @staticmethod
        def parse_json_payload(payload: bytes) -> dict:
            try:
                return json.loads(payload.decode("utf-8", "replace"))
            except ValueError:
                raise TelegramError("Invalid server response") from None

    return RecordingRequest


def _retry_after(answer: tuple[int, bytes] | None) -> float | None:
    """`parameters.retry_after` (seconds) from the Bot API's 429 body."""
    try:
        seconds = json.loads(answer[1])["parameters"]["retry_after"] if answer else None
    except (ValueError, KeyError, TypeError):
        return None
    return float(seconds) if isinstance(seconds, (int, float)) and seconds >= 0 else None
