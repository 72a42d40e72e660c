"""The delivery engine: one approved draft to all of its channels at once.

Guarantees:
- Each channel runs in its own worker; a slow or failing channel never holds up the
  others.
- Every attempt is recorded (`delivery.started`) before the network call and its
  outcome (`delivery.delivered` or `delivery.failed`) after it, each in its own
  committed transaction.
- A delivered channel is never sent again. An attempt whose outcome is unknown is
  retried only on channels where a resend is safe (`Channel.idempotent`); elsewhere it
  stays `unknown` for a person to confirm.
- Retries wait exactly what the platform asked for, else exponential backoff with
  jitter; permanent errors are never retried; retrying stops before the next wait
  would pass the run's budget or the publish deadline.
- A freeze is checked before every attempt: a frozen workspace sends nothing.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import time
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Iterator

from channels.base import Channel, DeliveryError, Duplicate, Message, Permanent, Receipt, Retryable
from publisher.app import App
from publisher.drafts import Delivery, DraftRecord, load_draft
from publisher.errors import Refused
from publisher.freeze import active_freeze
from publisher.incidents import load_incident

MAX_ATTEMPTS = 8
Progress = Callable[[str, str, str], None]


class Frozen(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    channel: str
    state: str
    detail: str
    url: str | None = None
    attempts: int = 0


def idempotency_key(draft_hash: str, channel: str) -> str:
    return hashlib.sha256(f"{draft_hash}:{channel}".encode()).hexdigest()[:32]


def send_draft(app: App, draft_id: str, actor: str, *, resend: tuple[str, ...] = (),
               progress: Progress = lambda channel, state, detail: None,
               sleep: Callable[[float], None] = time.sleep) -> list[Outcome]:
    """Deliver an approved draft to every channel not yet delivered."""
    record = load_draft(app, draft_id)
    if record.rejection or record.superseded_by:
        raise Refused(f"draft {draft_id} is {record.status} and will not be sent.")
    if not record.approved:
        have, need = len(set(record.valid_approvers())), app.config.approvals_required
        raise Refused(f"draft {draft_id} has {have} of {need} required approval(s); "
                      f"`publish approve {draft_id}` first.")
    freeze = active_freeze(app.store)
    if freeze:
        raise Refused(f"publishing is frozen since {freeze.ts} by {freeze.actor}: {freeze.data.get('reason')}; "
                      "the draft waits until an approver runs `publish unfreeze`.")
    deadline = record_deadline(app, record)
    names = list(record.deliveries)
    workers = min(len(names), app.config.delivery_workers)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deliver") as pool:
        futures = [pool.submit(_claim_and_deliver, app, draft_id, app.channel(name), actor, deadline,
                               name in resend, progress, sleep) for name in names]
        return [future.result() for future in futures]


def _claim_and_deliver(app: App, draft_id: str, channel: Channel, actor: str, deadline: float, resend: bool,
                       progress: Progress, sleep: Callable[[float], None]) -> Outcome:
    """Hold the (draft, channel) lock, re-read the channel's state from the log under
    it, and deliver only if nobody has. The lock dies with its process, so a crashed
    run never blocks the next one."""
    with channel_lock(app, draft_id, channel.name) as held:
        if not held:
            return Outcome(channel.name, "sending", "another publish process is delivering this channel now")
        record = load_draft(app, draft_id)
        delivery = record.deliveries[channel.name]
        if delivery.state == "delivered":
            return Outcome(channel.name, "delivered", "already delivered", (delivery.receipt or {}).get("url"),
                           delivery.attempts)
        if delivery.state in ("unknown", "sending") and not channel.idempotent and not resend:
            return Outcome(channel.name, "unknown",
                           "the outcome of the last attempt is unknown; check the platform, then "
                           f"`publish confirm {draft_id} {channel.name} --url URL` or "
                           f"`publish send {draft_id} --resend {channel.name}`", attempts=delivery.attempts)
        if delivery.state == "failed-permanent" and not resend:
            return Outcome(channel.name, "failed", delivery.reason or "failed", attempts=delivery.attempts)
        return _deliver_one(app, record, channel, delivery, actor, deadline, progress, sleep)


@contextmanager
def channel_lock(app: App, draft_id: str, channel: str) -> Iterator[bool]:
    folder = app.config.store_path.parent / "locks"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle = os.open(folder / f"{draft_id}--{channel}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(handle)


def record_deadline(app: App, record: DraftRecord) -> float:
    """The monotonic time after which no retry may start: the run budget or the
    publish deadline, whichever comes first (but never less than one attempt)."""
    incident = load_incident(app, record.draft.incident)
    until_deadline = (incident.first_seen + timedelta(hours=app.config.publish_hours) - app.clock()).total_seconds()
    budget = app.config.delivery_budget_minutes * 60
    return time.monotonic() + max(0.0, min(budget, until_deadline))


def _message(record: DraftRecord, channel: Channel, delivery: Delivery, incident_case: int,
             organisation: str) -> Message:
    draft = record.draft
    payload = draft.payloads[channel.name]
    sent = tuple(Receipt(part["id"], part.get("url"), part.get("platform_time")) for part in delivery.sent_parts)
    return Message(draft_id=draft.id, channel=channel.name, parts=payload.parts, title=payload.title,
                   incident_id=draft.incident, template=draft.template, language=draft.language,
                   case=incident_case, reply_to=draft.reply_to if channel.supports_reply else None,
                   organisation=organisation, idempotency_key=idempotency_key(draft.hash, channel.name),
                   sent_parts=sent)


def _deliver_one(app: App, record: DraftRecord, channel: Channel, delivery: Delivery, actor: str,
                 deadline: float, progress: Progress, sleep: Callable[[float], None]) -> Outcome:
    from tenacity import Retrying, retry_if_exception

    draft = record.draft
    state = {"attempt": delivery.attempts, "sent_parts": list(delivery.sent_parts)}

    def attempt() -> Receipt:
        if active_freeze(app.store):
            raise Frozen()
        state["attempt"] += 1
        message = _message(record, channel, Delivery(channel.name, sent_parts=state["sent_parts"]),
                           draft.case, app.config.organisation)
        app.store.append("delivery.started", actor=actor, incident=draft.incident, draft=draft.id,
                         channel=channel.name, data={"attempt": state["attempt"], "type": channel.type})
        progress(channel.name, "sending", f"attempt {state['attempt']}")
        try:
            receipt = channel.send(message)
        except Duplicate as error:
            receipt = error.receipt or Receipt(id=f"duplicate:{message.idempotency_key}")
            _record_delivered(app, draft, channel, state["attempt"], receipt, duplicate=True)
            return receipt
        except DeliveryError as error:
            if error.sent_parts:
                state["sent_parts"] = [_receipt_dict(part) for part in error.sent_parts]
            _record_failed(app, draft, channel, state, error)
            raise
        except Exception as error:
            failure = Permanent(channel.redact(f"unexpected {type(error).__name__}: {error}"))
            _record_failed(app, draft, channel, state, failure)
            raise failure from None
        _record_delivered(app, draft, channel, state["attempt"], receipt)
        return receipt

    def should_retry(error: BaseException) -> bool:
        return isinstance(error, Retryable) and (channel.idempotent or not error.maybe_delivered)

    def wait(retry_state: Any) -> float:
        error = retry_state.outcome.exception()
        if isinstance(error, Retryable) and error.retry_after is not None:
            return float(error.retry_after)
        return min(300.0, 2.0 ** retry_state.attempt_number) + _jitter()

    def stop(retry_state: Any) -> bool:
        next_wait = wait(retry_state)
        too_late = time.monotonic() + next_wait > deadline
        if too_late or retry_state.attempt_number >= MAX_ATTEMPTS:
            return True
        progress(channel.name, "retrying", f"retry in {next_wait:.1f} s")
        return False

    retrying = Retrying(retry=retry_if_exception(should_retry), wait=wait, stop=stop, sleep=sleep,
                        reraise=True)
    try:
        receipt = retrying(attempt)
    except Frozen:
        progress(channel.name, "held", "publishing is frozen")
        return Outcome(channel.name, "held", "publishing is frozen; waits for unfreeze", attempts=state["attempt"])
    except Retryable as error:
        state_name = "unknown" if error.maybe_delivered and not channel.idempotent else "failed"
        detail = error.reason + (f"; `publish send {draft.id}` resumes" if state_name == "failed" else "")
        progress(channel.name, state_name, detail)
        return Outcome(channel.name, state_name, detail, attempts=state["attempt"])
    except DeliveryError as error:
        progress(channel.name, "failed", error.reason)
        return Outcome(channel.name, "failed", error.reason, attempts=state["attempt"])
    progress(channel.name, "delivered", receipt.url or receipt.id)
    return Outcome(channel.name, "delivered", receipt.id, receipt.url, state["attempt"])


def _jitter() -> float:
    import random

    return random.uniform(0, 1)


def _receipt_dict(receipt: Receipt) -> dict[str, Any]:
    return {"id": receipt.id, "url": receipt.url, "platform_time": receipt.platform_time}


def _record_delivered(app: App, draft: Any, channel: Channel, attempt: int, receipt: Receipt,
                      duplicate: bool = False) -> None:
    data = {**_receipt_dict(receipt), "attempt": attempt, "extra": dict(receipt.extra)}
    if duplicate:
        data["duplicate"] = True
    app.store.append("delivery.delivered", actor=None, incident=draft.incident, draft=draft.id,
                     channel=channel.name, data=data)


def _record_failed(app: App, draft: Any, channel: Channel, state: dict[str, Any], error: DeliveryError) -> None:
    data: dict[str, Any] = {"attempt": state["attempt"], "reason": channel.redact(error.reason),
                            "error": "retryable" if isinstance(error, Retryable) else "permanent",
                            "sent_parts": state["sent_parts"]}
    if isinstance(error, Retryable):
        data["retry_after"] = error.retry_after
        data["maybe_delivered"] = error.maybe_delivered
    app.store.append("delivery.failed", actor=None, incident=draft.incident, draft=draft.id,
                     channel=channel.name, data=data)


def confirm_delivery(app: App, draft_id: str, channel: str, actor: str, url: str) -> None:
    """Record that a person checked the platform and found the post (an unknown outcome)."""
    from publisher.errors import BadInput

    record = load_draft(app, draft_id)
    delivery = record.deliveries.get(channel)
    if delivery is None:
        raise BadInput(f"draft {draft_id} has no channel {channel!r}; its channels are "
                       f"{', '.join(record.deliveries)}.")
    if delivery.state == "delivered":
        raise Refused(f"draft {draft_id} is already delivered on {channel}.")
    if delivery.state == "pending":
        raise Refused(f"draft {draft_id} was never sent to {channel}; `publish send {draft_id}` sends it.")
    app.store.append("delivery.confirmed", actor=actor, incident=record.draft.incident, draft=draft_id,
                     channel=channel, data={"id": url, "url": url, "confirmed_by": actor})
