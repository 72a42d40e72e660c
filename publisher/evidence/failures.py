"""Every approved draft that has not reached all of its channels, channel by channel.

Guarantees: nothing approved and undelivered is hidden behind another draft's success
(the public-channel table shows the best delivery per channel for the 48 h proof; this
list shows each draft's own). Each entry says the channel's state (failed-permanent
with the platform's reason, failed-retryable, unknown, sending, not sent, held by a
freeze) and what to run, in the words `publish send` uses (`delivery.next_steps`).
Rejected and superseded drafts are not listed: they will never be sent.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from publisher.delivery.next_steps import next_step

if TYPE_CHECKING:
    from publisher.drafting.drafts import DraftRecord
    from publisher.workspace.app import App


class Undelivered(NamedTuple):
    """A channel a draft has not reached, and why."""

    draft: str
    template: str
    channel: str
    state: str
    reason: str | None
    attempts: int
    at: str | None
    held: bool
    next: str

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


def undelivered(app: App, records: list[DraftRecord], frozen: bool) -> list[Undelivered]:
    found = []
    for record in records:
        if not record.approved or record.rejection or record.superseded_by:
            continue
        for name, delivery in record.deliveries.items():
            if delivery.state == "delivered":
                continue
            state = "not sent" if delivery.state == "pending" else delivery.state
            step = next_step(record.draft.id, name, state, frozen=frozen, resend_safe=_resend_safe(app, name))
            found.append(Undelivered(record.draft.id, record.draft.template, name, state, delivery.reason,
                                     delivery.attempts, delivery.at, frozen, step))
    return found


def _resend_safe(app: App, name: str) -> bool:
    from channels import channel_class

    configured = app.config.channels.get(name)
    try:
        return configured is not None and channel_class(configured.type).idempotent
    except KeyError:
        return False
