"""The shape every channel shares.

A channel module declares what it is (type, variant, limit, how length is counted,
what happens to an over-long text), lists the options its config section takes, and
implements one `send()`. `send()` either returns a `Receipt` or raises exactly one of
`Retryable`, `Permanent` or `Duplicate`, so the delivery engine always knows *why* a
post did not go out. Platform SDKs are imported inside the module's functions, never at
import time: loading a channel class must stay cheap. The channels that keep files of
their own (`site`, `outbox`) write them with `write_atomically`.
"""
from __future__ import annotations

import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Iterator, Mapping, Sequence

from channels.options import COMMON_OPTIONS, Option, validate_settings
from channels.options import SettingError as SettingError  # part of every channel module's shape
from channels.redaction import SecretMatcher, matcher_for, redact


@dataclass(frozen=True)
class Receipt:
    """Proof of one delivery: the platform's id, a public URL when one can be derived,
    and the platform's own timestamp (ISO 8601) when it gives one."""

    id: str
    url: str | None = None
    platform_time: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    """Base of the three ways a send can fail. `reason` is shown to people and logged:
    it must never contain a secret (channels pass it through `Channel.redact`).

    `sent_parts` holds the receipts of every part of a thread or split message that
    has gone out so far (`message.sent_parts` included), so a retry continues after
    them instead of reposting."""

    def __init__(self, reason: str, sent_parts: tuple[Receipt, ...] = ()):
        super().__init__(reason)
        self.reason = reason
        self.sent_parts = tuple(sent_parts)


class Retryable(DeliveryError):
    """Try again later; `retry_after` is the delay in seconds the platform asked for,
    or None when it gave no signal.

    `maybe_delivered` is True when the request may have reached the platform before
    the failure (a read timeout, a connection reset after sending): the outcome is
    unknown, and only channels where a resend is safe may try again by themselves."""

    def __init__(self, reason: str, retry_after: float | None = None,
                 sent_parts: tuple[Receipt, ...] = (), maybe_delivered: bool = False):
        super().__init__(reason, sent_parts)
        self.retry_after = retry_after
        self.maybe_delivered = maybe_delivered


class Permanent(DeliveryError):
    """Will fail the same way every time (bad token, not allowed, validation)."""


class Duplicate(DeliveryError):
    """The platform says it already has this post: the delivery counts as done."""

    def __init__(self, reason: str, receipt: Receipt | None = None, sent_parts: tuple[Receipt, ...] = ()):
        super().__init__(reason, sent_parts)
        self.receipt = receipt


@dataclass(frozen=True)
class Sighting:
    """A log head (sequence number, hash) found in a file a channel wrote: `where` names the file."""

    seq: int
    hash: str
    where: str


@dataclass(frozen=True)
class Message:
    """What one channel is asked to publish: the approved parts, byte for byte.

    `parts` has one element unless the text was split into a thread or numbered
    messages at render time; `title` serves channels that need one (email subject,
    statement page, feed entry, cards). `log_head` is the log's (sequence number, hash)
    when the attempt was recorded: channels that keep files write it beside the text, a
    witness of the log that a restored older copy of the log cannot take back.
    `first_attempt` is when the first attempt to deliver it to this channel began (ISO
    8601, the log's time; this attempt's own time when it is the first): a channel whose
    idempotency keys expire looks its post up on the platform before sending it again
    once that is longer ago than the keys last."""

    draft_id: str
    channel: str
    parts: tuple[str, ...]
    title: str
    incident_id: str
    template: str
    language: str
    case: int
    reply_to: str | None = None
    organisation: str = ""
    idempotency_key: str = ""
    sent_parts: tuple[Receipt, ...] = ()
    log_head: tuple[int, str] | None = None
    first_attempt: str | None = None

    def part_key(self, index: int) -> str:
        """Idempotency key of part `index`: stable across retries and processes."""
        return self.idempotency_key if index == 0 else f"{self.idempotency_key}-{index}"

    @property
    def text(self) -> str:
        return "\n\n".join(self.parts)


class Channel:
    """Base class. Subclasses set the class attributes and implement `send`; the length
    rule (`variant`, `max_length`, `counting`, `overflow`) is declared by the class and
    may be set per instance from the channel's own settings (outbox, Mastodon).

    Build one with `Channel.build(name, raw_settings, secrets)`: it validates the
    settings against `all_options()` and fills defaults. `secrets` holds every secret
    value the settings were resolved from, for redaction."""

    type: ClassVar[str] = ""
    variant: str = "long"
    max_length: int | None = None
    counting: str = "chars"
    overflow: str = "reject"
    supports_reply: ClassVar[bool] = False
    idempotent: ClassVar[bool] = False
    options: ClassVar[dict[str, Option]] = {}

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        self.name = name
        self.settings = dict(settings)
        self.audience = self.settings.get("audience", "public")
        self._shared_secrets = secrets if isinstance(secrets, frozenset) else frozenset(secrets)
        self._own_secrets: frozenset[str] = frozenset()
        self._all_secrets: frozenset[str] | None = None
        self._own_matcher: SecretMatcher | None = None

    @classmethod
    def all_options(cls) -> dict[str, Option]:
        return {**COMMON_OPTIONS, **cls.options}

    @classmethod
    def build(cls, name: str, raw: Mapping[str, Any], secrets: frozenset[str] = frozenset()) -> "Channel":
        return cls(name, validate_settings(cls.all_options(), raw), secrets)

    @property
    def timeout(self) -> float:
        return float(self.settings.get("timeout", 20))

    @property
    def secrets(self) -> frozenset[str]:
        """Every secret this channel masks: the workspace's (one set shared by every
        channel) and the channel's own few."""
        if not self._own_secrets:
            return self._shared_secrets
        if self._all_secrets is None:
            self._all_secrets = self._shared_secrets | self._own_secrets
        return self._all_secrets

    @secrets.setter
    def secrets(self, value: Iterable[str]) -> None:
        self.add_secrets(frozenset(value) - self._shared_secrets)

    def add_secrets(self, found: Iterable[str]) -> None:
        """Mask these too (the channel's own: its token, its URL's parts); what was
        masked before stays masked."""
        added = frozenset(secret for secret in found if secret) - self._own_secrets - self._shared_secrets
        if added:
            self._own_secrets |= added
            self._all_secrets = None
            self._own_matcher = None

    def redact(self, text: str) -> str:
        """`text` with every secret of this channel masked, in one pass: the workspace's
        secrets (their index built once per process) and the channel's own few."""
        if self._own_matcher is None:
            self._own_matcher = SecretMatcher(self._own_secrets)
        return redact(text, matcher_for(self._shared_secrets), self._own_matcher)

    def send(self, message: Message) -> Receipt:  # pragma: no cover - abstract
        raise NotImplementedError

    def check(self) -> str:
        """Verify credentials without posting; return a short description of what was
        checked, or raise `Permanent`/`Retryable`."""
        return "nothing to check"

    can_look_up = False

    def lookup(self, reference: str) -> Receipt | None:
        """The post `reference` (its URL or id) names, as the platform has it now, with
        its text in `extra["text"]`; None when the platform has no such post. A reference
        this channel cannot read raises `Permanent`; channels with `can_look_up = False`
        cannot look posts up at all."""
        raise NotImplementedError

    can_edit: ClassVar[bool] = False
    can_delete: ClassVar[bool] = False

    def edit(self, receipt: Receipt, message: Message) -> Receipt:
        """Replace, in place, the text of the post `receipt` names with `message.parts`
        (part i of the receipt's `extra["part_ids"]`, or its `id` alone, gets part i; the
        number of parts must match, else `Permanent`). Returns the receipt of the edited
        post (same id; the platform's edit time as `platform_time` when it gives one).
        Raises `Retryable` or `Permanent` as `send` does; only channels with
        `can_edit = True` implement it. A platform that cannot edit gets a correction
        posted as a reply instead (by the caller, through `send` with `reply_to`)."""
        raise NotImplementedError

    def delete(self, receipt: Receipt) -> str | None:
        """Delete every part of the post `receipt` names, last part first. A part the
        platform no longer has counts as deleted (a repeated withdrawal is safe). Returns
        the platform's time of the deletion when it gives one. Raises `Retryable` or
        `Permanent` as `send` does; only channels with `can_delete = True` implement it."""
        raise NotImplementedError

    references: ClassVar[tuple[str, ...]] = ()
    """Settings naming another configured channel this one works with (Instagram's `site`,
    whose folder and public URL serve its images); the workspace builds that channel and
    hands it over through `attach`."""

    def attach(self, key: str, other: "Channel") -> None:
        """Take the channel the setting `key` names; `SettingError` when it cannot serve."""
        raise NotImplementedError

    def log_heads(self) -> list[Sighting]:
        """The log heads this channel's own files carry (none for a remote platform)."""
        return []

    def describe(self) -> dict[str, Any]:
        """The channel's settings with every secret masked."""
        shown = {}
        for key, value in self.settings.items():
            option = self.all_options().get(key)
            if (option and option.secret) or (isinstance(value, str) and value in self.secrets):
                shown[key] = mask(value)
            else:
                shown[key] = value
        return shown


CLOCK_MARGIN = 600
"""Seconds of disagreement between our clock and a platform's allowed for when a
platform's memory of a request (an idempotency key, a transaction id) runs out."""


def lookup_since(first_attempt: str | None, remembered: float | None,
                 now: datetime | None = None) -> datetime | None:
    """Since when to look for a post an earlier attempt may have made, once that attempt
    began so long ago (`remembered - CLOCK_MARGIN` seconds) that the platform may have
    forgotten the key that made a resend safe (`remembered` None: it keeps none, so any
    earlier attempt is looked for); None while the key still holds, or when there was no
    earlier attempt. A time that cannot be read is taken as the longest ago."""
    if not first_attempt:
        return None
    try:
        began = datetime.fromisoformat(first_attempt.strip().replace("Z", "+00:00"))
    except ValueError:
        return datetime.fromtimestamp(0, timezone.utc)
    began = began if began.tzinfo else began.replace(tzinfo=timezone.utc)
    if remembered is not None and ((now or datetime.now(timezone.utc)) - began).total_seconds() \
            < remembered - CLOCK_MARGIN:
        return None
    return began - timedelta(seconds=CLOCK_MARGIN)


@contextmanager
def looking_before_resend(refused: Callable[[str], str], what: str = "post") -> Iterator[None]:
    """Around the look-up for the `what` an earlier attempt may have made: a `Permanent`
    becomes one saying `refused(reason)`, a `Retryable` one saying the look-up failed and
    nothing was posted again (the outcome unknown: `maybe_delivered`)."""
    try:
        yield
    except Permanent as error:
        raise Permanent(refused(error.reason)) from None
    except Retryable as error:
        raise Retryable(f"could not look for the {what} an earlier attempt may have made ({error.reason}); "
                        "nothing was posted again", error.retry_after, maybe_delivered=True) from None


def too_many_to_look_up(many: str) -> Retryable:
    """The `Retryable` for a look-up before a resend that met `many` (e.g. "more than 200
    posts") since the first attempt without finding the post."""
    return Retryable(f"{many} since the first attempt; cannot tell whether it made this one, so nothing was posted "
                     "again", maybe_delivered=True)


def combined_receipt(receipts: Sequence[Receipt]) -> Receipt:
    """One receipt for a message sent in parts: the first part's, listing every part's id."""
    first = receipts[0]
    return Receipt(id=first.id, url=first.url, platform_time=first.platform_time,
                   extra={"part_ids": [receipt.id for receipt in receipts]})


def part_ids(receipt: Receipt, parts: int | None = None, platform: str = "") -> list[str]:
    """The platform ids of every part of the post `receipt` names, first part first: its
    `extra["part_ids"]`, or its `id` alone. `Permanent` when `parts` is given and differs:
    an edit keeps the number of parts."""
    listed = receipt.extra.get("part_ids") if isinstance(receipt.extra, Mapping) else None
    ids = [str(item) for item in listed] if isinstance(listed, (list, tuple)) and listed else [receipt.id]
    if parts is not None and parts != len(ids):
        raise Permanent(f"the post on {platform} has {len(ids)} part(s) and the correction {parts}; an edit "
                        "keeps the number of parts")
    return ids


def post_in_parts(message: Message, post: Callable[[int, str | None], Receipt],
                  first_target: str | None = None) -> Receipt:
    """Send the parts of `message` not yet sent, in order. `post(index, previous)` sends
    part `index`; `previous` is the id of the part before it (`first_target` for the
    first part: the post it answers, or None). A failure carries the receipts of every
    part sent so far in `sent_parts`; a duplicate rejection also carries them as its
    receipt, since they prove what was delivered."""
    receipts = list(message.sent_parts)
    previous = receipts[-1].id if receipts else first_target
    for index in range(len(receipts), len(message.parts)):
        try:
            receipts.append(post(index, previous))
        except DeliveryError as error:
            error.sent_parts = tuple(receipts)
            if isinstance(error, Duplicate) and error.receipt is None and receipts:
                error.receipt = combined_receipt(receipts)
            raise
        previous = receipts[-1].id
    return combined_receipt(receipts)


def quiet_loggers(*names: str) -> None:
    """Hold these libraries' loggers at WARNING or above: their DEBUG and INFO lines
    print URLs, headers and tokens. An explicit level, so a root logger turned to
    DEBUG later does not reopen them."""
    import logging

    for name in names:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def mask(value: Any) -> str:
    """Hide a secret; a URL keeps its scheme and host so people can tell which it is."""
    text = str(value)
    match = re.match(r"^(https?://[^/?#@]+)", text)
    if match and "@" not in text.split("//", 1)[1].split("/", 1)[0]:
        return match.group(1) + "/****"
    return "****"


def write_atomically(target: Path, data: bytes, mode: int = 0o644) -> None:
    """Write `data` to `target` so that readers see the old file or the new one, never a
    mix: a temporary file in the same folder, fsync, then rename over the target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
