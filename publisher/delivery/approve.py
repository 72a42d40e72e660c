"""Approve a draft, then send it unless publishing is frozen: the one place that
decides, for the command line and the console alike.

Guarantees: the approval is recorded (signed by SSH key or passkey as
`publisher.drafting.approvals.approve` requires) before anything else; a draft short of
its required approvals is not sent; a draft approved while a freeze is in force (the
same `freeze_holding` the engine obeys: only a verified unfreeze lifts one) is held and
the freeze is named; otherwise it is sent by `send_draft`, and a refusal to send (a
freeze set meanwhile, a changed key list, a rolled-back log) is returned with its
reason, never dropped. When a worker is live (`publisher.delivery.worker`) and the
caller does not `wait`, the draft is checked as a run would check it and left to the
worker (`QUEUED`): the approval in the log is what the worker's sweep finds; with no
live worker it is sent here, as if `wait` were given. `announce` is told the decision exactly once, after the approval
is recorded and before any channel is tried, and returns the progress callback the run
reports to.
"""
from __future__ import annotations

import queue
import threading
from datetime import tzinfo
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from publisher.delivery.engine import Outcome, Progress, no_progress, send_draft
from publisher.delivery.worker import hand_to_worker
from publisher.drafting.approvals import approve
from publisher.drafting.cautions import approval_cautions
from publisher.errors import Refused
from publisher.i18n import _
from publisher.incident.freeze import freeze_holding
from publisher.timeparse import for_people

if TYPE_CHECKING:
    from publisher.drafting.drafts import DraftRecord
    from publisher.log.store import Event
    from publisher.workspace.app import App

AWAITING, HELD, REFUSED, SENDING, QUEUED = ("awaiting approvals", "held by a freeze", "sending refused", "sent",
                                            "queued")


@dataclass(frozen=True)
class Approval:
    """What approving did. `result` is one of: `AWAITING` (more approvals needed),
    `HELD` (`frozen`: the freeze in force), `REFUSED` (`refused`: why sending did not
    start), `QUEUED` (a live worker sends it) or `SENDING`/sent (`outcomes`: each
    channel's, once the run ended; `no_worker`: sent here since no worker is live)."""

    record: DraftRecord
    approvals: int
    required: int
    cautions: tuple[str, ...] = ()
    frozen: Event | None = None
    refused: str | None = None
    outcomes: tuple[Outcome, ...] | None = None
    queued: bool = False
    no_worker: bool = False

    @property
    def result(self) -> str:
        if not self.record.approved:
            return AWAITING
        if self.frozen is not None:
            return HELD
        if self.refused is not None:
            return REFUSED
        if self.queued:
            return QUEUED
        return SENDING


def approve_and_send(app: App, draft_id: str, approver: str, *, key: Path | None = None,
                     signature: dict[str, Any] | None = None,
                     announce: Callable[[Approval], Progress | None] = lambda approval: None,
                     sleep: Callable[[float], None] | None = None, wait: bool = False) -> Approval:
    """Approve as `approver` (signed with `key`, or with a passkey `signature` already
    checked), then send unless frozen, or leave it to a live worker unless `wait`; see
    the module's guarantees."""
    record = approve(app, draft_id, approver, key, signature=signature)
    approval = Approval(record, len(set(record.valid_approvers())), record.required,
                        tuple(approval_cautions(app, record)))
    if record.approved:
        approval = replace(approval, frozen=freeze_holding(app, record.draft.incident))
    if approval.result == SENDING and not wait:
        try:
            queued = hand_to_worker(app, record)
        except Refused as error:
            approval = replace(approval, refused=str(error))
        else:
            approval = replace(approval, queued=queued, no_worker=not queued)
    if approval.result != SENDING:
        announce(approval)
        return approval
    told: list[Progress] = []

    def progress(channel: str, state: str, detail: str, retry_in: float | None = None) -> None:
        if not told:
            told.append(announce(approval) or no_progress)
        told[0](channel, state, detail, retry_in=retry_in)

    try:
        outcomes = send_draft(app, draft_id, approver, progress=progress, sleep=sleep, record=record)
    except Refused as error:
        approval = replace(approval, refused=str(error))
        announce(approval)
        return approval
    if not told:
        announce(approval)
    return replace(approval, outcomes=tuple(outcomes))


def decision_sentence(approval: Approval, zone: tzinfo | None = None) -> str:
    """What approving did, in one sentence for a person (times in `zone`, the organisation's)."""
    counted = _("Approved draft {draft} ({have} of {need})").format(
        draft=approval.record.draft.id, have=approval.approvals, need=approval.required)
    if approval.result == AWAITING:
        return _("{approved}; it waits for more approvals.").format(approved=counted)
    if approval.frozen is not None:
        return _("{approved}; publishing is frozen since {ts} by {actor}: {reason}. The draft waits until an "
                 "approver lifts the freeze.").format(approved=counted, ts=for_people(approval.frozen.ts, zone),
                                                      actor=approval.frozen.actor,
                                                      reason=approval.frozen.data.get("reason"))
    if approval.refused is not None:
        return _("{approved}, but it was not sent: {reason}").format(approved=counted, reason=approval.refused)
    if approval.queued:
        return _("{approved}; queued: the worker sends it, `publish status` follows it.").format(approved=counted)
    if approval.no_worker:
        return _("{approved}; no worker is running, so it is being sent here.").format(approved=counted)
    return _("{approved}; it is being sent.").format(approved=counted)


def decided_then_in_background(start: Callable[[Callable[[Approval], None]], Approval],
                               then: Callable[[Approval], None] = lambda approval: None,
                               name: str = "deliver") -> Approval:
    """Run `start(announce)` (an `approve_and_send`) on a thread of its own and return
    its decision as soon as it is announced, while the channels are sent behind it (the
    console then polls their progress from the log); what `start` raises before deciding
    is raised here. After the decision, a failure is raised on that thread (reported by
    Python, never dropped) and `then` is not called; otherwise `then(final approval)`
    runs when done."""
    told: queue.Queue[Approval | Exception] = queue.Queue(maxsize=1)
    announced = threading.Event()

    def announce(approval: Approval) -> None:
        announced.set()
        told.put(approval)

    def run() -> None:
        try:
            finished = start(announce)
        except Exception as error:
            if not announced.is_set():
                told.put(error)
                return
            raise
        then(finished)

    threading.Thread(target=run, name=name, daemon=True).start()
    decided = told.get()
    if isinstance(decided, Exception):
        raise decided
    return decided
