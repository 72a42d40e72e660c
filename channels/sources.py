"""The shape every listening source shares (the other half of a channel: it reads).

A source module declares its `type` and the options its `[listen.NAME]` section takes,
and implements one `read(cursor)`: the items the platform has after `cursor` (oldest
first, at most `limit`), and the cursor to resume from. It raises `channels.base`'s
`Retryable` (try again later, `retry_after` when the platform says) or `Permanent`
(a bad token, a spent budget: the source stops and the cabinet is told); never
anything else for a platform's answer, and never a secret in a reason (`redact`).
Reads are bounded in bytes and time like every network read (`channels.http`).
Platform SDKs are imported inside the module's functions, as channels do.

The log (not the source) is the record: the worker appends each `Heard` once
(`publisher.delivery.listening`), keyed by (platform, id), and stores the cursor, so a
source restarted in the middle of paging neither loses nor repeats an item.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Callable, ClassVar, Mapping, TypeVar

from channels.options import COMMON_OPTIONS, Option, validate_settings
from channels.redaction import SecretMatcher, redact

MAX_TEXT = 20_000
"""Characters of an item's text kept (a longer one is cut and says so in `extra`)."""


@dataclass(frozen=True)
class Heard:
    """One item heard on a platform: a mention, a comment, a post found by a search, a
    news entry, an e-mail. `platform_time` is the platform's own time (ISO 8601, UTC)
    when it gives one; `answers` the platform id of the post it replies to (one of our
    statements, or another item), when it is a reply."""

    platform: str
    id: str
    text: str
    author: str = ""
    url: str | None = None
    platform_time: str | None = None
    answers: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What makes it one item: the same mention heard by two sources is stored once."""
        return f"{self.platform}:{self.id}"

    def with_extra(self, **extra: Any) -> "Heard":
        """The same item with `extra` added to (or replacing keys of) its `extra`."""
        return replace(self, extra={**self.extra, **extra})


class Source:
    """Base class. Subclasses set `type` and `options` and implement `read`; build one
    with `Source.build(name, raw_settings, secrets)`."""

    type: ClassVar[str] = ""
    options: ClassVar[dict[str, Option]] = {}

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        self.name = name
        self.settings = dict(settings)
        self._matcher = SecretMatcher(frozenset(secret for secret in secrets if secret))

    @classmethod
    def all_options(cls) -> dict[str, Option]:
        return {**COMMON_OPTIONS, "every": Option((int, float), default=60, bounds=(1, 86_400)), **cls.options}

    @classmethod
    def build(cls, name: str, raw: Mapping[str, Any], secrets: frozenset[str] = frozenset()) -> "Source":
        return cls(name, validate_settings(cls.all_options(), raw), secrets)

    @property
    def every(self) -> float:
        """Seconds between two reads of a platform that does not push."""
        return float(self.settings.get("every", 60))

    def redact(self, text: str) -> str:
        return redact(text, self._matcher)

    def read(self, cursor: str | None, limit: int = 200) -> tuple[list[Heard], str | None]:  # pragma: no cover
        """Items after `cursor` (None: start from now, or the platform's recent page),
        oldest first, at most `limit`, and the cursor after the last one returned."""
        raise NotImplementedError

    def check(self) -> str:
        """Verify credentials and reachability without storing anything; a short description."""
        return "nothing to check"


Mark = TypeVar("Mark")


def cursor_fields(cursor: str | None) -> dict[str, Any]:
    """The JSON object a source's cursor holds; {} for no cursor or one that is not a JSON
    object (the source then starts from the platform's recent page)."""
    if not cursor:
        return {}
    try:
        found = json.loads(cursor)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def oldest_first(pending: dict[str, list[tuple[Mark, Heard]]], following: dict[str, Any], limit: int,
                 order: Callable[[tuple[Mark, Heard]], Any]) -> list[Heard]:
    """The items of several streams, each a list of (mark, item) pairs oldest first, as one
    list ordered by `order`, at most `limit`, an item heard on two streams once (by `key`).
    `pending` is consumed; `following[stream]` becomes the mark of the last pair taken from
    the stream, so a cursor moves only past what was returned."""
    items: list[Heard] = []
    keys: set[str] = set()
    while len(items) < limit:
        heads = [(stream, found[0]) for stream, found in pending.items() if found]
        if not heads:
            break
        stream, (mark, item) = min(heads, key=lambda head: order(head[1]))
        pending[stream].pop(0)
        following[stream] = mark
        if item.key not in keys:
            keys.add(item.key)
            items.append(item)
    return items
