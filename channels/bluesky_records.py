"""What the Bluesky channel derives without the network: record keys, post URIs and URLs,
and the times record keys and repository revisions carry.

Guarantees:
- `record_key(key)` is a valid TID (13 characters of base32-sortable, top bit 0), the
  only record key the PDS accepts for an `app.bsky.feed.post`, and the same for the same
  idempotency key in every process: a resend creates at the same key, which the PDS
  refuses to create twice. Its timestamp part is taken from the key's hash within 2023,
  so it never looks like a time in the future; the post's own `createdAt` is the real time.
- `post_reference()` reads a post's `at://` URI or its bsky.app URL, and nothing else.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone

POST = "app.bsky.feed.post"
ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
KEY_EPOCH_US = 1672531200 * 1_000_000
KEY_SPAN_US = 1 << 44
ACTOR = r"(?P<repo>did:[a-z]+:[A-Za-z0-9._:%-]{1,2048}|[A-Za-z0-9][A-Za-z0-9.-]{0,252})"
AT_URI = re.compile(rf"at://{ACTOR}/app\.bsky\.feed\.post/(?P<rkey>[A-Za-z0-9._:~-]{{1,512}})")
APP_URL = re.compile(rf"https?://(?:www\.)?bsky\.app/profile/{ACTOR}/post/(?P<rkey>[A-Za-z0-9._:~-]{{1,512}})/?"
                     r"(?:[?#].*)?")


def record_key(key: str) -> str:
    """The TID under which the post with idempotency key `key` is created."""
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest(), "big")
    micros = KEY_EPOCH_US + digest % KEY_SPAN_US
    clock = (digest >> 64) & 0x3FF
    return _encode((micros << 10) | clock)


def tid_time(tid: str) -> str | None:
    """The time a TID (a record key or a repository revision) carries, ISO 8601 in UTC."""
    if not TID.fullmatch(tid):
        return None
    value = 0
    for char in tid:
        value = value * 32 + ALPHABET.index(char)
    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=value >> 10)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def post_reference(value: str) -> tuple[str, str] | None:
    """(repo, record key) of a post named by its `at://` URI or bsky.app URL; the repo is
    a handle or a DID as written."""
    text = value.strip()
    match = AT_URI.fullmatch(text) or APP_URL.fullmatch(text)
    return (match.group("repo"), match.group("rkey")) if match else None


def post_uri(repo: str, rkey: str) -> str:
    return f"at://{repo}/{POST}/{rkey}"


def post_url(repo: str, rkey: str) -> str:
    """The post's page on bsky.app (by DID, which outlives any handle)."""
    return f"https://bsky.app/profile/{repo}/post/{rkey}"


def _encode(value: int) -> str:
    chars = []
    for _ in range(13):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))
