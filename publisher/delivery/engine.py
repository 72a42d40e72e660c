"""The delivery engine: one approved draft to all of its channels at once.

Guarantees:
- Each channel runs in its own worker thread (up to `[delivery] workers` at once); a
  slow or failing channel never holds up the others. The whole run takes about as
  long as its slowest channel.
- Every attempt is recorded (`delivery.started`) before the network call and its
  outcome (`delivery.delivered` or `delivery.failed`) after it, each in its own
  committed transaction. A retry's `delivery.started` records the wait before it
  (`waited`), so the log shows that every wait matched the platform's signal.
- One (draft, channel) is delivered by one process at a time: the store's per-pair
  lock (a `flock` beside SQLite, a session advisory lock on PostgreSQL, released when
  its process or machine dies) is held for the whole delivery, and the channel's
  state is re-read from the log under it. A second process waits for the lock, then
  finds the channel delivered and sends nothing.
- A delivered channel is never sent again. An attempt whose outcome is unknown (a
  crash, a timeout after sending) is retried only on channels where a resend is safe
  (`Channel.idempotent`: an idempotency key, a duplicate rejection, our own files);
  elsewhere it stays `unknown` until a person runs `publish confirm` or
  `publish send --resend`.
- Retries wait exactly what the platform asked for (never less), else exponential
  backoff with jitter; permanent errors are never retried. Retrying stops when the
  next wait would pass the run's budget (`[delivery] budget`) or the publish deadline
  (while it is still ahead); the channel is left failed-retryable and
  `publish send DRAFT` resumes it.
- A correction (`Draft.corrects`) is delivered the same way, applied to the original
  post as an edit or a reply (`delivery.correction`), and followed by `statement.corrected`.
- A freeze is checked before every attempt, retries included, and every half second
  of a retry's wait and of a request in flight: a frozen workspace sends nothing more,
  waiting retries abort, and requests on the wire are cut (their outcome is unknown).
"""
from __future__ import annotations

import hashlib
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable, ContextManager, Protocol

from channels.base import Channel, DeliveryError, Duplicate, Message, Permanent, Receipt, Retryable
from publisher.drafting.drafts import Delivery, DraftRecord, apply_delivery, load_draft
from publisher.drafting.integrity import check_sendable
from publisher.drafting.promises import refuse_past_promise
from publisher.delivery.correction import corrected_data, correction_target
from publisher.errors import BadInput, PublishError, Refused
from publisher.delivery.interrupt import freeze_stops
from publisher.incident.freeze import freeze_holding, frozen_after
from publisher.incident.identity import trusted_events
from publisher.incident.incidents import load_incident, refuse_void
from publisher.workspace.app import App
from publisher.workspace.rollback import refuse_if_rolled_back
from publisher.workspace.witness import witness_after
from publisher.i18n import _

if TYPE_CHECKING:
    from tenacity import RetryCallState

MAX_ATTEMPTS = 10
BACKOFF_INITIAL = 1.0
BACKOFF_MAX = 60.0
LOCK_POLL = 0.05
FREEZE_POLL = 0.5


class Progress(Protocol):
    """What the engine reports as a channel moves on: its state, a detail for people,
    and, when it is about to wait before retrying, the wait in seconds (`retry_in`)."""

    def __call__(self, channel: str, state: str, detail: str, retry_in: float | None = None) -> None: ...


def no_progress(channel: str, state: str, detail: str, retry_in: float | None = None) -> None:
    return None


class NotRecorded(PublishError):
    """The platform took the post, but the log could not record its outcome."""


class Frozen(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    """How one channel ended this run. `state` is one of delivered, failed-retryable
    (`publish send` resumes), failed-permanent, unknown (a person must confirm), held
    (frozen) or busy (another process still holds the channel)."""

    channel: str
    state: str
    detail: str
    url: str | None = None
    attempts: int = 0


def idempotency_key(draft_hash: str, channel: str) -> str:
    return hashlib.sha256(f"{draft_hash}:{channel}".encode()).hexdigest()[:32]


class RunClock:
    """Time spent by one delivery since the run began, against the run's limits.

    Real waits (no injected `sleep`) look for a freeze every `FREEZE_POLL` seconds and
    end at once when one is set, so a retry waiting out a long Retry-After aborts
    instead of lingering. An injected sleep (tests) is called once per wait; when it
    returns early, the time it should have taken is still counted, so budgets behave
    the same, and the freeze is checked before the next attempt."""

    def __init__(self, budget: float, until_deadline: float | None, sleep: Callable[[float], None] | None,
                 frozen: Callable[[], bool] = lambda: False, started: float | None = None):
        self.budget = budget
        self.until_deadline = until_deadline
        self._sleep = sleep
        self._frozen = frozen
        self._started = time.monotonic() if started is None else started
        self._skipped = 0.0

    def elapsed(self) -> float:
        return time.monotonic() - self._started + self._skipped

    def sleep(self, seconds: float) -> None:
        before = time.monotonic()
        if self._sleep is None:
            self._wait_unless_frozen(before + seconds)
            return
        self._sleep(seconds)
        self._skipped += max(0.0, seconds - (time.monotonic() - before))

    def _wait_unless_frozen(self, until: float) -> None:
        while (left := until - time.monotonic()) > 0:
            time.sleep(min(FREEZE_POLL, left))
            if self._frozen():
                raise Frozen()

    def fork(self) -> "RunClock":
        return RunClock(self.budget, self.until_deadline, self._sleep, self._frozen, self._started)

    def limit_passed_by(self, wait: float) -> str | None:
        """Why a wait of `wait` seconds may not start now, or None when it may."""
        after = self.elapsed() + wait
        if self.until_deadline is not None and after > self.until_deadline:
            return "would pass the publish deadline"
        if after > self.budget:
            return f"would pass the run's budget ([delivery] budget = {self.budget / 60:g} min)"
        return None


def send_draft(app: App, draft_id: str, actor: str, *, resend: tuple[str, ...] = (),
               progress: Progress = no_progress,
               sleep: Callable[[float], None] | None = None, record: DraftRecord | None = None,
               only: tuple[str, ...] = (), stopping: Callable[[], bool] = lambda: False) -> list[Outcome]:
    """Deliver an approved draft to every channel not yet delivered, or to the channels
    `only` names (`record`: the draft as the caller just loaded it, so it is not read
    twice). `stopping` (a worker told to stop) ends waiting retries like a freeze does:
    the channel is left as the log has it, for the next run to resume."""
    if record is None or record.draft.id != draft_id:
        record = load_draft(app, draft_id)
    refuse_unsendable(app, record, resend)
    clock = run_clock(app, record, sleep, stopping)
    names = [name for name in record.deliveries if not only or name in only]
    channels = {name: app.channel(name) for name in names}
    for name in names:
        progress(name, "waiting", "queued")
    workers = max(1, min(len(names), app.config.delivery_workers))
    with app.store.batch(), ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deliver") as pool:
        futures = [pool.submit(_claim_and_deliver, app, record, channels[name], actor, clock.fork(),
                               name in resend, progress) for name in names]
        outcomes = [future.result() for future in futures]
    if any(outcome.state == "delivered" and outcome.detail != "already delivered" for outcome in outcomes):
        witness_after(app, "delivery")
    return outcomes


def refuse_unsendable(app: App, record: DraftRecord, resend: tuple[str, ...] = ()) -> None:
    """Refuse, in one sentence, a draft that may not be sent now: rejected or superseded,
    of a void incident, short of approvals, changed since approval, frozen, promising an
    update already past before any channel got it, a log rolled back, or a log server that
    may lose a commit (checked again by every run, and before a draft is handed to a worker)."""
    from publisher.delivery.durability import refuse_unsafe_commit

    draft_id = record.draft.id
    refuse_unsafe_commit(app)
    if record.rejection or record.superseded_by:
        raise Refused(_("draft {draft_id} is {status} and will not be sent.").format(
                          draft_id=draft_id, status=record.status))
    refuse_void(load_incident(app, record.draft.incident))
    if not record.approved:
        have, need = len(set(record.valid_approvers())), record.required
        raise Refused(_("draft {draft_id} has {have} of {need} required approval(s); `publish approve "
                        "{draft_id}` first.").format(draft_id=draft_id, have=have, need=need))
    check_sendable(app, record)
    if not any(delivery.attempts or delivery.state != "pending" for delivery in record.deliveries.values()):
        refuse_past_promise(record.draft.promises, app.clock(), draft_id, app.config.timezone)
    unknown = [name for name in resend if name not in record.deliveries]
    if unknown:
        raise BadInput(_("--resend {value}: draft {draft_id} has no such channel; its channels are {names}.").format(
                           value=unknown[0], draft_id=draft_id, names=', '.join(record.deliveries)))
    freeze = freeze_holding(app, record.draft.incident)
    if freeze:
        raise Refused(_("publishing is frozen since {ts} by {actor}: {data}; the draft waits until an "
                        "approver runs `publish unfreeze`.").format(
                          ts=freeze.ts, actor=freeze.actor, data=freeze.data.get('reason')))
    refuse_if_rolled_back(app)


def run_clock(app: App, record: DraftRecord, sleep: Callable[[float], None] | None,
              stopping: Callable[[], bool] = lambda: False) -> RunClock:
    """The run's limits: its budget, and the publish deadline while it is still ahead
    (once it has passed, only the budget bounds the retries)."""
    incident = load_incident(app, record.draft.incident)
    until_deadline = (incident.first_seen + timedelta(hours=app.config.publish_hours) - app.clock()).total_seconds()
    return RunClock(app.config.delivery_budget_minutes * 60, until_deadline if until_deadline > 0 else None, sleep,
                    frozen=lambda: stopping() or freeze_holding(app, incident.id) is not None)


def _claim_and_deliver(app: App, record: DraftRecord, channel: Channel, actor: str, clock: RunClock, resend: bool,
                       progress: Progress) -> Outcome:
    """Hold the (draft, channel) lock, re-read the channel's state from the log under
    it, and deliver only if nobody has. The lock dies with its process, so a crashed
    run never blocks the next one."""
    from publisher.log.backend import StoreUnavailable

    try:
        return _locked_delivery(app, record, channel, actor, clock, resend, progress)
    except NotRecorded as error:
        detail = _("sent, but the log does not hold its receipt: {reason}; once it can record again, `publish send "
                   "{draft}` finds the post (or `publish confirm`).").format(reason=_clause(str(error)),
                                                                          draft=record.draft.id)
        progress(channel.name, "unknown", detail)
        return Outcome(channel.name, "unknown", detail)
    except StoreUnavailable as error:
        detail = _("not sent: {reason}; `publish send {draft}` resumes then.").format(
            reason=_clause(str(error)), draft=record.draft.id)
        progress(channel.name, "failed", detail)
        return Outcome(channel.name, "failed-retryable", detail)
    except Exception as error:  # never lose the other channels' outcomes to one bug
        detail = channel.redact(str(error) if isinstance(error, PublishError) else
                                f"unexpected {type(error).__name__}: {error}")
        progress(channel.name, "failed", detail)
        return Outcome(channel.name, "failed-retryable", detail + f"; `publish send {record.draft.id}` resumes")


def _locked_delivery(app: App, record: DraftRecord, channel: Channel, actor: str, clock: RunClock, resend: bool,
                     progress: Progress) -> Outcome:
    draft_id = record.draft.id
    with channel_lock(app, draft_id, channel.name) as held:
        waited = False
        while not held():
            if not waited:
                progress(channel.name, "waiting", "another publish process is sending this channel")
                waited = True
            if clock.limit_passed_by(LOCK_POLL):
                return Outcome(channel.name, "busy", "another publish process is still sending this channel; "
                               f"`publish send {draft_id}` shows how it ended")
            time.sleep(LOCK_POLL)
        delivery = current_delivery(app, draft_id, channel.name)
        if delivery.state == "delivered":
            url = (delivery.receipt or {}).get("url")
            progress(channel.name, "delivered", f"already delivered {url or ''}".rstrip())
            return Outcome(channel.name, "delivered", "already delivered", url, delivery.attempts)
        if delivery.state in ("unknown", "sending") and not channel.idempotent and not resend:
            detail = unconfirmed_hint(draft_id, channel.name)
            progress(channel.name, "unknown", "outcome of the last attempt is unknown")
            return Outcome(channel.name, "unknown", detail, attempts=delivery.attempts)
        if delivery.state == "failed-permanent" and not resend:
            progress(channel.name, "failed", delivery.reason or "failed")
            return Outcome(channel.name, "failed-permanent", delivery.reason or "failed",
                           attempts=delivery.attempts)
        return _deliver_one(app, record, channel, delivery, actor, clock, progress)


def current_delivery(app: App, draft_id: str, channel: str) -> Delivery:
    """The channel's delivery state as the log has it now (read under its lock): the
    draft itself never changes, only its delivery events are read again."""
    delivery = Delivery(channel)
    for event in trusted_events(app, app.store.events(draft=draft_id, channel=channel)):
        if event.kind.startswith("delivery."):
            apply_delivery(delivery, event)
    return delivery


def unconfirmed_hint(draft_id: str, channel: str) -> str:
    return ("the outcome of the last attempt is unknown; check the platform, then "
            f"`publish confirm {draft_id} {channel} --url URL` or `publish send {draft_id} --resend {channel}`")


def channel_lock(app: App, draft_id: str, channel: str) -> ContextManager[Callable[[], bool]]:
    """The (draft, channel) lock, held by the store (a file lock on SQLite, a session
    advisory lock on PostgreSQL); yields a function that tries to take the lock
    (without blocking) and says whether it is held."""
    return app.store.delivery_lock(draft_id, channel)


def channel_busy(app: App, draft_id: str, channel: str) -> bool:
    """Whether some process is delivering (draft, channel) right now."""
    with channel_lock(app, draft_id, channel) as take:
        return not take()


def _message(record: DraftRecord, channel: Channel, sent_parts: list[dict[str, Any]], organisation: str,
             log_head: tuple[int, str] | None = None, first_attempt: str | None = None) -> Message:
    draft = record.draft
    payload = draft.payloads[channel.name]
    sent = tuple(Receipt(part["id"], part.get("url"), part.get("platform_time")) for part in sent_parts)
    return Message(draft_id=draft.id, channel=channel.name, parts=payload.parts, title=payload.title,
                   incident_id=draft.incident, template=draft.template, language=draft.language,
                   case=draft.case, reply_to=draft.reply_to if channel.supports_reply else None,
                   organisation=organisation, idempotency_key=idempotency_key(draft.hash, channel.name),
                   sent_parts=sent, log_head=log_head, first_attempt=first_attempt)


def _clause(text: str) -> str:
    """A one-sentence error as a clause of another sentence."""
    return text.strip().rstrip(".")


def backoff(attempt: int) -> float:
    """Exponential backoff with full-second jitter: 1-2 s, 2-3 s, 4-5 s ... capped."""
    return min(BACKOFF_MAX, BACKOFF_INITIAL * 2.0 ** (attempt - 1)) + random.uniform(0, 1)


class _ChannelRun:
    """One channel's attempts in one run, as tenacity drives them: `send` is one
    attempt (recorded before and after), `retryable`, `wait` and `stop` decide what
    follows a failure, `before_sleep` reports the wait."""

    def __init__(self, app: App, record: DraftRecord, channel: Channel, delivery: Delivery, actor: str,
                 clock: RunClock, progress: Progress):
        self.app, self.record, self.channel, self.actor = app, record, channel, actor
        self.clock, self.progress = clock, progress
        self.attempt = delivery.attempts
        self.sent_parts = list(delivery.sent_parts)
        self.first_attempt = delivery.first_attempt
        self.waited: float | None = None
        self.stopped: str | None = None
        self.target = correction_target(app, record.draft, channel)
        self.safe = channel.idempotent or (self.target is not None and self.target.how == "edit")

    def send(self) -> Receipt:
        app, draft, channel = self.app, self.record.draft, self.channel
        seen = app.store.head()[0]
        if freeze_holding(app, draft.incident):
            raise Frozen()
        self.attempt += 1
        data: dict[str, Any] = {"attempt": self.attempt, "type": channel.type}
        if self.waited is not None:
            data["waited"] = round(self.waited, 3)
        started = app.store.append("delivery.started", actor=self.actor, incident=draft.incident, draft=draft.id,
                                   channel=channel.name, data=data)
        self.first_attempt = self.first_attempt or started.ts
        message = _message(self.record, channel, self.sent_parts, app.config.organisation, (started.seq, started.hash),
                           self.first_attempt)
        self.progress(channel.name, "sending", f"attempt {self.attempt}")
        try:
            with freeze_stops(lambda: frozen_after(app.store, seen, draft.incident)):
                receipt = channel.send(message) if self.target is None else self.target.apply(channel, message)
        except Duplicate as error:
            receipt = error.receipt or Receipt(id=f"duplicate:{message.idempotency_key}")
            try:
                _record_delivered(app, draft, channel, self.attempt, receipt, duplicate=True)
            except PublishError as unrecorded:
                raise NotRecorded(str(unrecorded)) from None
            return receipt
        except DeliveryError as error:
            self.sent_parts = _merge_parts(self.sent_parts, error.sent_parts)
            _record_failed(app, draft, channel, self.attempt, self.sent_parts, error)
            raise
        except Exception as error:
            failure = Permanent(channel.redact(f"unexpected {type(error).__name__}: {error}"))
            _record_failed(app, draft, channel, self.attempt, self.sent_parts, failure)
            raise failure from None
        try:
            _record_delivered(app, draft, channel, self.attempt, receipt)
        except PublishError as error:
            raise NotRecorded(str(error)) from None
        if self.target is not None:
            app.store.append("statement.corrected", actor=None, incident=draft.incident, draft=draft.id,
                             channel=channel.name, data=corrected_data(draft, channel, self.target, receipt))
        return receipt

    def retryable(self, error: BaseException) -> bool:
        return isinstance(error, Retryable) and (self.safe or not error.maybe_delivered)

    def wait(self, retry_state: RetryCallState) -> float:
        """Exactly what the platform asked for, else exponential backoff with jitter."""
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, Retryable) and error.retry_after is not None:
            return max(0.0, float(error.retry_after))
        return backoff(retry_state.attempt_number)

    def stop(self, retry_state: RetryCallState) -> bool:
        next_wait = retry_state.upcoming_sleep
        if retry_state.attempt_number >= MAX_ATTEMPTS:
            self.stopped = f"gave up after {retry_state.attempt_number} attempts in this run"
            return True
        why = self.clock.limit_passed_by(next_wait)
        if why:
            self.stopped = f"stopped retrying: the next wait ({next_wait:.1f} s) {why}"
        return why is not None

    def before_sleep(self, retry_state: RetryCallState) -> None:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        self.waited = retry_state.upcoming_sleep
        self.progress(self.channel.name, "retrying", str(getattr(error, "reason", error)), retry_in=self.waited)


def _deliver_one(app: App, record: DraftRecord, channel: Channel, delivery: Delivery, actor: str,
                 clock: RunClock, progress: Progress) -> Outcome:
    from tenacity import Retrying, retry_if_exception

    draft = record.draft
    try:
        run = _ChannelRun(app, record, channel, delivery, actor, clock, progress)
    except Permanent as error:
        progress(channel.name, "failed", error.reason)
        return Outcome(channel.name, "failed-permanent", error.reason)
    retrying = Retrying(retry=retry_if_exception(run.retryable), wait=run.wait, stop=run.stop,
                        before_sleep=run.before_sleep, sleep=clock.sleep, reraise=True)
    try:
        receipt = retrying(run.send)
    except Frozen:
        progress(channel.name, "held", "publishing is frozen")
        return Outcome(channel.name, "held", "publishing is frozen; `publish send "
                       f"{draft.id}` resumes after `publish unfreeze`", attempts=run.attempt)
    except Retryable as error:
        if error.maybe_delivered and not run.safe:
            progress(channel.name, "unknown", error.reason)
            return Outcome(channel.name, "unknown", f"{error.reason}; {unconfirmed_hint(draft.id, channel.name)}",
                           attempts=run.attempt)
        stopped = f"; {run.stopped}" if run.stopped else ""
        detail = f"{error.reason}{stopped}; `publish send {draft.id}` resumes"
        progress(channel.name, "failed", detail)
        return Outcome(channel.name, "failed-retryable", detail, attempts=run.attempt)
    except DeliveryError as error:
        progress(channel.name, "failed", error.reason)
        return Outcome(channel.name, "failed-permanent", error.reason, attempts=run.attempt)
    how = {"edit": "corrected in place", "reply": "correction posted as a reply to the original post"}
    shown = f"{how[run.target.how]}: " if run.target is not None else ""
    progress(channel.name, "delivered", shown + (receipt.url or receipt.id))
    return Outcome(channel.name, "delivered", shown + receipt.id, receipt.url, run.attempt)


def _merge_parts(known: list[dict[str, Any]], sent: tuple[Receipt, ...]) -> list[dict[str, Any]]:
    """The parts sent so far: an error's `sent_parts` already includes the message's."""
    merged = [_receipt_dict(part) for part in sent]
    return merged if len(merged) >= len(known) else known


def _receipt_dict(receipt: Receipt) -> dict[str, Any]:
    return {"id": receipt.id, "url": receipt.url, "platform_time": receipt.platform_time}


def _record_delivered(app: App, draft: Any, channel: Channel, attempt: int, receipt: Receipt,
                      duplicate: bool = False) -> None:
    data = {**_receipt_dict(receipt), "attempt": attempt, "extra": dict(receipt.extra)}
    if duplicate:
        data["duplicate"] = True
    app.store.append("delivery.delivered", actor=None, incident=draft.incident, draft=draft.id,
                     channel=channel.name, data=data)
    if draft.template == "reply":
        from publisher.drafting.replies import record_answered

        record_answered(app, draft, channel.name, data)


def _record_failed(app: App, draft: Any, channel: Channel, attempt: int, sent_parts: list[dict[str, Any]],
                   error: DeliveryError) -> None:
    data: dict[str, Any] = {"attempt": attempt, "reason": channel.redact(error.reason),
                            "error": "retryable" if isinstance(error, Retryable) else "permanent",
                            "sent_parts": sent_parts}
    if isinstance(error, Retryable):
        data["retry_after"] = error.retry_after
        data["maybe_delivered"] = error.maybe_delivered
    app.store.append("delivery.failed", actor=None, incident=draft.incident, draft=draft.id,
                     channel=channel.name, data=data)
