"""What one e-mail says, read from its raw bytes (stdlib `email`), for the IMAP source.

Guarantees: `read_message` never raises on a malformed or cut message: every header is
decoded from RFC 2047 words and its charset (an unknown charset or bad bytes are replaced,
never fatal); the author is the From's display name and address as one line; the time is
the Date header in UTC ISO 8601, or None when it is missing or malformed; the text is the
first text/plain part, else the first text/html part as plain text (`heard_text.plain_text`),
each decoded from its transfer encoding and charset; `answers` is the In-Reply-To's
Message-ID, else the last of References (with its angle brackets, as the e-mail channel's
receipts keep them). Every value is cleaned by `heard_text`.
"""
from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import re
from dataclasses import dataclass
from datetime import timezone
from email.message import Message

from channels.heard_text import clean_line, clean_text, plain_text

_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")


@dataclass(frozen=True)
class ReadMessage:
    message_id: str | None
    author: str
    address: str
    subject: str
    platform_time: str | None
    text: str
    answers: str | None


def header(message: Message, name: str) -> str:
    """The header's value with RFC 2047 words decoded; "" when missing or unreadable."""
    raw = message.get(name)
    if raw is None:
        return ""
    try:
        pieces = email.header.decode_header(str(raw))
    except Exception:  # noqa: BLE001 - a header the parser cannot split is kept as it came
        return str(raw)
    words = []
    for value, charset in pieces:
        words.append(value if isinstance(value, str) else _decode(value, charset))
    return "".join(words)


def _decode(data: bytes, charset: str | None) -> str:
    try:
        return data.decode(charset or "utf-8", "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def _time(message: Message) -> str | None:
    value = header(message, "Date").strip()
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # RFC 5322's "-0000": the time is UTC, the zone unknown
    try:
        return moment.astimezone(timezone.utc).isoformat(timespec="seconds")
    except (ValueError, OverflowError):
        return None


def _body(message: Message) -> str:
    plain = html = None
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        try:
            data = part.get_payload(decode=True)
        except Exception:  # noqa: BLE001 - a broken transfer encoding: the part is unreadable
            continue
        if not isinstance(data, bytes):
            continue
        text = _decode(data, part.get_content_charset())
        if kind == "text/plain" and plain is None:
            plain = text
        elif kind == "text/html" and html is None:
            html = text
    if plain is not None:
        return clean_text(plain)
    return plain_text(html) if html is not None else ""


def _answers(message: Message) -> str | None:
    for name in ("In-Reply-To", "References"):
        found = _MESSAGE_ID.findall(header(message, name))
        if found:
            return found[0] if name == "In-Reply-To" else found[-1]
    return None


def read_message(raw: bytes) -> ReadMessage:
    """What `raw` (a whole or cut RFC 5322 message) says."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    name, address = email.utils.parseaddr(header(message, "From"))
    name, address = clean_line(name), clean_line(address, 320)
    author = f"{name} <{address}>" if name and address else name or address
    found = _MESSAGE_ID.search(header(message, "Message-ID"))
    return ReadMessage(
        message_id=found.group(0) if found else None,
        author=clean_line(author, 400),
        address=address,
        subject=clean_line(header(message, "Subject"), 500),
        platform_time=_time(message),
        text=_body(message),
        answers=_answers(message),
    )
