"""Matrix: a statement as `m.text` messages in one room, through the client-server API.

The client is matrix-nio (pinned in pyproject.toml), used as what it is designed as, a
sans-I/O library: `nio.Api` builds each request (method, path, JSON body) and nio's
response classes read the answers, validated against its JSON schemas. The requests
themselves go out synchronously through the one transport of the channels
(`channels.http`: one send per call and no retries, `timeout` bounding the whole request,
a freeze stopping it in flight, answers read up to `channels.http.MAX_ANSWER` bytes), so
no event loop, aiohttp session or thread of nio's runs. Chosen over mautrix (also
maintained, lighter to import: 0.36 s against nio's 0.6 s, measured here) because
mautrix is async-only on aiohttp, and sending through `channels.http` would mean
replacing its private `_send`; nio's request builders and answer readers are its public,
documented API. nio is imported only when a Matrix channel sends or checks.

Guarantees:
- every message goes out as `PUT /rooms/{room}/send/m.room.message/{txnId}`, the
  transaction id derived from the message's part key: a resend after an unknown outcome
  (a timeout, a reset, a 5xx, an answer cut off) reuses it, and the homeserver answers
  with the event the first attempt made instead of posting again (client-server API,
  "Transaction identifiers"; Synapse keeps them per device, so per access token, one
  day in its database), so resending is safe (`idempotent`); once the message's first
  attempt is `TXN_SECONDS - CLOCK_MARGIN` or longer ago, each part still to send is first looked
  for among the account's messages in the room since then (by its transaction id, which
  the homeserver shows the token that sent it, or by its text and relation), and one
  found is taken as the delivery (`extra["found_on_platform"]`); a look-up that cannot
  finish posts nothing and leaves the outcome unknown;
- the limit is 12,000 code points (`chars`): Matrix limits an event to 65,536 bytes of
  canonical JSON ("Size limits"), and 12,000 four-byte characters (48,000 bytes) leave
  room for the event's other fields and a thread relation; a longer text is a thread;
- the access token travels in the `Authorization` header only (nio's builders put it
  in the query string, the form the spec deprecates; it is taken out), and every reason
  is redacted, so the token is never in a URL, a log or an error;
- a statement in several parts is a thread (`m.thread`, client-server API "Threading"):
  part 0 is the thread's root, every later part is in its thread with an `m.in_reply_to`
  fallback to the part before it; the first part replies to `reply_to` (an event id or
  a matrix.to link to an event of the same room) when given; parts in
  `message.sent_parts` are not sent again;
- a correction is an edit (`m.replace` with `m.new_content`, the body prefixed `* ` as
  the fallback, "Event replacements"), one per part, with its own transaction id; a
  withdrawal is a redaction of every part, last first
  (`PUT /rooms/{room}/redact/{eventId}/{txnId}`), a part the room no longer has counting
  as withdrawn;
- answers are classified by their Matrix error code: `M_LIMIT_EXCEEDED` (HTTP 429) is
  `Retryable` after `retry_after_ms` (or `Retry-After`); `M_UNKNOWN_TOKEN`,
  `M_MISSING_TOKEN`, `M_FORBIDDEN` (not in the room, too little power), `M_NOT_FOUND`,
  `M_TOO_LARGE` and the other 4xx are `Permanent` with one sentence naming the room or
  the account; 5xx and a 2xx that is not the documented answer are `Retryable` with an
  unknown outcome;
- `lookup()` reads an event of the room by id or matrix.to link (its text as sent; a
  redacted event counts as absent);
- `check()` asks whoami and the room's power levels, and says whether the account may
  send messages there.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from channels import http
from channels.base import lookup_since as base_lookup_since
from channels.base import (Channel, DeliveryError, looking_before_resend, Message, Permanent, post_in_parts,
                           quiet_loggers, Receipt, Retryable, SettingError, too_many_to_look_up)
from channels.schemas import OPTIONS

MESSAGE = "m.room.message"
POWER_LEVELS = "m.room.power_levels"
ROOM_ID = re.compile(r"![^\s:/?#]+(?::[A-Za-z0-9.\-\[\]]+(?::[0-9]{1,5})?)?")
EVENT_ID = re.compile(r"\$[A-Za-z0-9+/_=.:\-]+")
TXN_SECONDS = 24 * 3600
LOOKUP_PAGES = 5
PAGE_SIZE = 100
TOKEN_ERRORS = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"})


class MatrixChannel(Channel):
    type = "matrix"
    variant = "long"
    max_length = 12000
    counting = "chars"
    overflow = "thread"
    supports_reply = True
    idempotent = True
    can_edit = True
    can_delete = True
    options = OPTIONS["matrix"]

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        super().__init__(name, settings, secrets)
        self.homeserver = str(self.settings["homeserver"]).rstrip("/")
        self.api = str(self.settings.get("api_url") or self.homeserver).rstrip("/")
        self.room = str(self.settings["room"]).strip()
        if not ROOM_ID.fullmatch(self.room):
            raise SettingError("room", "a room id like \"!abc:example.org\" or, from room version 12, \"!abc\" (the "
                                       "room's settings, Advanced), "
                                       f"got {self.room!r}")
        self.add_secrets({str(self.settings["token"])})
        quiet_loggers("urllib3", "nio")

    def send(self, message: Message) -> Receipt:
        answered = self._event_id(message.reply_to) if message.reply_to and not message.sent_parts else None
        root = message.sent_parts[0].id if message.sent_parts else None
        since = lookup_since(message.first_attempt)
        found: list[str] = []

        def post(index: int, previous: str | None) -> Receipt:
            nonlocal root, since
            content: dict[str, Any] = {"msgtype": "m.text", "body": message.parts[index]}
            if index > 0 and root and previous:
                content["m.relates_to"] = {"rel_type": "m.thread", "event_id": root, "is_falling_back": True,
                                           "m.in_reply_to": {"event_id": previous}}
            elif previous:
                content["m.relates_to"] = {"m.in_reply_to": {"event_id": previous}}
            txn_id = _key(message, index)
            existing = self._find_sent(txn_id, content, since) if since is not None else None
            if existing is not None:
                found.append(existing.id)
            else:
                since = None
            receipt = existing or self._send_event(content, txn_id)
            root = root or receipt.id
            return receipt

        receipt = post_in_parts(message, post, answered)
        if found:
            receipt = Receipt(receipt.id, receipt.url, receipt.platform_time,
                              {**receipt.extra, "found_on_platform": found})
        return receipt

    can_look_up = True

    def lookup(self, reference: str) -> Receipt | None:
        from nio import Api

        event_id = self._event_id(reference)
        method, path = Api.room_get_event("-", self.room, event_id)
        found = self._call(method, path, missing_ok=True)
        if found is None or "redacted_because" in _table(found.get("unsigned")):
            return None
        if found.get("event_id") != event_id or found.get("room_id", self.room) != self.room:
            raise Retryable(f"the homeserver's answer for event {event_id} is not that event")
        body = _table(found.get("content")).get("body")
        return Receipt(id=event_id, url=self._event_url(event_id), platform_time=_time(found.get("origin_server_ts")),
                       extra={"text": body if isinstance(body, str) else ""})

    def _find_sent(self, txn_id: str, content: Mapping[str, Any], since: datetime) -> Receipt | None:
        """The account's message in the room, sent since `since`, that an earlier attempt
        made under `txn_id` (its `unsigned.transaction_id`, shown to the token that sent
        it) or that carries the same text and relation; None when there is none. Newest
        first, `PAGE_SIZE` at a time, at most `LOOKUP_PAGES` pages."""
        from nio import Api, MessageDirection

        wanted = (content.get("body"), content.get("m.relates_to"))
        with looking_before_resend(lambda reason: (
                f"the homeserver would not show the room's messages to look for the one an earlier attempt may have "
                f"made ({reason}); nothing was posted again"), "message"):
            me = self._whoami()
            start: str | None = None
            for _ in range(LOOKUP_PAGES):
                method, path = Api.room_messages("-", self.room, start=start, direction=MessageDirection.back,
                                                 limit=PAGE_SIZE,
                                                 message_filter={"types": [MESSAGE], "senders": [me]})
                page = self._call(method, path)
                events = page.get("chunk")
                if not isinstance(events, list):
                    raise Retryable("the homeserver's list of the room's messages could not be read")
                for event in events:
                    if not isinstance(event, dict):
                        continue
                    stamp = event.get("origin_server_ts")
                    if isinstance(stamp, int) and stamp < since.timestamp() * 1000:
                        return None
                    shown = _table(event.get("content"))
                    if event.get("sender") == me and EVENT_ID.fullmatch(str(event.get("event_id"))) and (
                            _table(event.get("unsigned")).get("transaction_id") == txn_id
                            or (shown.get("body"), shown.get("m.relates_to")) == wanted):
                        event_id = str(event["event_id"])
                        return Receipt(id=event_id, url=self._event_url(event_id), platform_time=_time(stamp),
                                       extra={"txn_id": txn_id})
                start = page.get("end") if isinstance(page.get("end"), str) else None
                if not events or start is None:
                    return None
        raise too_many_to_look_up(f"the account sent more than {LOOKUP_PAGES * PAGE_SIZE} messages to the room")

    def _whoami(self) -> str:
        from nio import Api, WhoamiResponse

        method, path = Api.whoami("-")
        who = WhoamiResponse.from_dict(self._call(method, path))
        if not isinstance(who, WhoamiResponse):
            raise Retryable("the homeserver's answer to whoami had no user id")
        return str(who.user_id)

    def edit(self, receipt: Receipt, message: Message) -> Receipt:
        targets = [str(part) for part in receipt.extra.get("part_ids") or [receipt.id]]
        if len(targets) != len(message.parts):
            raise Permanent(f"the post has {len(targets)} part(s) and the correction {len(message.parts)}; "
                            "a Matrix edit replaces one message by one message")
        edits: list[str] = []
        edited_at: str | None = None
        for index, (target, text) in enumerate(zip(targets, message.parts, strict=True)):
            content = {"msgtype": "m.text", "body": f"* {text}",
                       "m.new_content": {"msgtype": "m.text", "body": text},
                       "m.relates_to": {"rel_type": "m.replace", "event_id": target}}
            made = self._send_event(content, f"{_key(message, index)}.edit.{_digest(target)}")
            edits.append(made.id)
            edited_at = edited_at or made.platform_time
        return Receipt(id=receipt.id, url=receipt.url, platform_time=edited_at,
                       extra={**receipt.extra, "part_ids": targets, "edit_ids": edits})

    def delete(self, receipt: Receipt) -> str | None:
        from nio import Api, RoomRedactResponse

        targets = [str(part) for part in receipt.extra.get("part_ids") or [receipt.id]]
        deleted_at: str | None = None
        for target in reversed(targets):
            method, path, body = Api.room_redact("-", self.room, target, f"withdraw.{_digest(target)}")
            answer = self._call(method, path, body, posting=True, missing_ok=True)
            if answer is None:
                continue
            parsed = RoomRedactResponse.from_dict(answer, self.room)
            if not isinstance(parsed, RoomRedactResponse):
                raise Retryable(f"the homeserver's answer to the redaction of {target} had no event id; it may be "
                                "withdrawn (a resend with the same transaction id is safe)", maybe_delivered=True)
            deleted_at = self._event_time(parsed.event_id) or deleted_at
        return deleted_at

    def check(self) -> str:
        from nio import Api, RoomGetStateEventResponse

        user_id = self._whoami()
        method, path = Api.room_get_state_event("-", self.room, POWER_LEVELS)
        try:
            levels = RoomGetStateEventResponse.from_dict(self._call(method, path), POWER_LEVELS, "", self.room)
        except Permanent as error:
            raise Permanent(f"{user_id} cannot read room {self.room}: it is not a member, or the room does "
                            f"not exist ({error.reason})") from None
        content = levels.content if isinstance(levels, RoomGetStateEventResponse) else {}
        need = needed_power(content, MESSAGE)
        if self._is_creator(user_id):
            return f"Matrix token works for {user_id}, who created {self.room} and may send messages there"
        have = power_of(content, user_id)
        if have < need:
            raise Permanent(f"{user_id} is in room {self.room} but may not send messages there (its power "
                            f"level is {have}, messages need {need})")
        return f"Matrix token works for {user_id}, who may send messages in {self.room} (power {have} of {need})"

    def _is_creator(self, user_id: str) -> bool:
        """Whether `user_id` is a creator of a room of version 12 or later, where creators
        have every power and are not listed in the power levels (client-server API,
        "Room version 12")."""
        from nio import Api

        method, path = Api.room_get_state_event("-", self.room, "m.room.create")
        where, _, query = path.partition("?")
        create = self._call(method, f"{where}?format=event&{query}")
        content = _table(create.get("content"))
        version = str(content.get("room_version") or "1")
        if not version.isdigit() or int(version) < 12:
            return False
        extra = content.get("additional_creators")
        return user_id == create.get("sender") or (isinstance(extra, list) and user_id in extra)

    def _send_event(self, content: dict[str, Any], txn_id: str) -> Receipt:
        from nio import Api, RoomSendResponse

        method, path, body = Api.room_send("-", self.room, MESSAGE, content, txn_id)
        answer = self._call(method, path, body, posting=True)
        parsed = RoomSendResponse.from_dict(answer, self.room)
        if not isinstance(parsed, RoomSendResponse) or not EVENT_ID.fullmatch(parsed.event_id):
            raise Retryable("the homeserver answered without an event id; the message may exist (a resend with the "
                            "same transaction id is safe)", maybe_delivered=True)
        return Receipt(id=parsed.event_id, url=self._event_url(parsed.event_id),
                       platform_time=self._event_time(parsed.event_id), extra={"txn_id": txn_id})

    def _event_time(self, event_id: str) -> str | None:
        """When the homeserver received `event_id` (its `origin_server_ts`), or None when
        it cannot be read now: the event is sent either way."""
        from nio import Api

        method, path = Api.room_get_event("-", self.room, event_id)
        try:
            found = self._call(method, path)
        except DeliveryError:
            return None
        return _time(found.get("origin_server_ts"))

    def _call(self, method: str, path: str, body: str | None = None, posting: bool = False,
              missing_ok: bool = False) -> Any:
        """One request built by `nio.Api`, its token moved from the query to the header;
        the answer's JSON object, or the failure it means (None for `M_NOT_FOUND` when
        `missing_ok`)."""
        where, _, query = path.partition("?")
        kept = [(key, value) for key, value in parse_qsl(query) if key != "access_token"]
        url = f"{self.api}{where}" + (f"?{urlencode(kept)}" if kept else "")
        headers = {"Authorization": f"Bearer {self.settings['token']}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = http.send(method, url, body=body.encode() if body is not None else None, headers=headers,
                                 timeout=self.timeout, redact=self.redact)
        except Retryable as error:
            if error.maybe_delivered and not posting:
                raise Retryable(error.reason, error.retry_after) from None
            raise
        answer = http.json_body(response)
        if 200 <= response.status_code < 300:
            if not isinstance(answer, dict):
                raise Retryable(f"the homeserver answered HTTP {response.status_code} with a body that is not JSON"
                                + ("; the message may exist" if posting else ""), maybe_delivered=posting)
            return answer
        if missing_ok and response.status_code == 404 and isinstance(answer, dict) \
                and answer.get("errcode") == "M_NOT_FOUND":
            return None
        raise self._failure(response, answer if isinstance(answer, dict) else {}, posting)

    def _failure(self, response: Any, answer: dict[str, Any], posting: bool) -> DeliveryError:
        status = response.status_code
        code = answer.get("errcode") if isinstance(answer.get("errcode"), str) else ""
        said = self.redact(" ".join(part for part in (f"HTTP {status}", code, str(answer.get("error") or "")[:200])
                                    if part))
        if status == 429 or code == "M_LIMIT_EXCEEDED":
            delay = _retry_after(answer, response.headers.get("Retry-After"))
            wait = f"; it resets in {delay:.1f} s" if delay is not None else "; the homeserver gave no delay"
            return Retryable(f"the Matrix homeserver's rate limit was reached ({said}){wait}", retry_after=delay)
        if code in TOKEN_ERRORS or status == 401:
            return Permanent(f"the Matrix homeserver rejected the access token: it is wrong, expired or logged out "
                             f"({said})")
        if code == "M_FORBIDDEN" or status == 403:
            return Permanent(f"the Matrix account may not do this in room {self.room}: it is not a member, or its "
                             f"power level is too low ({said})")
        if code == "M_UNRECOGNIZED" or status in (405, 501):
            return Permanent(f"{self.api} does not serve this Matrix client-server API request; homeserver (or "
                             f"api_url) must be the homeserver's client API base URL ({said})")
        if status >= 500:
            return Retryable(f"the Matrix homeserver had a server error ({said})"
                             + ("; the message may exist" if posting else ""),
                             retry_after=http.retry_after_seconds(response.headers.get("Retry-After")),
                             maybe_delivered=posting)
        if status == 404 or code == "M_NOT_FOUND":
            return Permanent(f"the Matrix homeserver did not find what was asked in room {self.room} ({said})")
        return Permanent(f"the Matrix homeserver refused the request ({said})")

    def _event_url(self, event_id: str) -> str:
        return f"https://matrix.to/#/{quote(self.room, safe='!:')}/{quote(event_id, safe='$')}"

    def _event_id(self, reference: str) -> str:
        value = reference.strip()
        if EVENT_ID.fullmatch(value):
            return value
        parts = urlsplit(value)
        if parts.scheme == "https" and parts.hostname == "matrix.to":
            pieces = [unquote(piece) for piece in parts.fragment.split("?")[0].strip("/").split("/")]
            if len(pieces) == 2 and EVENT_ID.fullmatch(pieces[1]):
                if pieces[0] != self.room:
                    raise Permanent(self.redact(f"reply_to {value!r} is an event of another room than {self.room}"))
                return pieces[1]
        raise Permanent(self.redact(f"reply_to {value!r} is neither a Matrix event id ($...) nor a matrix.to link "
                                    "to an event"))


def power_of(levels: Mapping[str, Any], user_id: str) -> int:
    """The user's power level in a room with these `m.room.power_levels` (spec defaults)."""
    return _level(_table(levels.get("users")).get(user_id), _level(levels.get("users_default"), 0))


def needed_power(levels: Mapping[str, Any], event_type: str) -> int:
    """The power level sending `event_type` needs in a room with these power levels."""
    return _level(_table(levels.get("events")).get(event_type), _level(levels.get("events_default"), 0))


def lookup_since(first_attempt: str | None, now: datetime | None = None) -> datetime | None:
    """`channels.base.lookup_since` with this platform's memory (TXN_SECONDS)."""
    return base_lookup_since(first_attempt, TXN_SECONDS, now)


def _time(stamp: Any) -> str | None:
    """An `origin_server_ts` (milliseconds since the epoch) as ISO 8601, or None."""
    if not isinstance(stamp, int) or isinstance(stamp, bool) or not 0 < stamp < 10 ** 14:
        return None
    return datetime.fromtimestamp(stamp / 1000, timezone.utc).isoformat(timespec="milliseconds")


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _level(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,15}", value):
        return int(value)
    return default


def _retry_after(answer: Mapping[str, Any], header: str | None) -> float | None:
    """Seconds to wait from `retry_after_ms` (the body of M_LIMIT_EXCEEDED), else `Retry-After`."""
    value = answer.get("retry_after_ms")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 10 ** 9:
        return value / 1000
    return http.retry_after_seconds(header)


def _digest(event_id: str) -> str:
    return hashlib.sha256(event_id.encode()).hexdigest()[:24]


def _key(message: Message, index: int) -> str:
    if message.idempotency_key:
        return message.part_key(index)
    return f"{message.draft_id}-{message.channel}-{index}"
