"""Trying a channel again after a permanent failure was fixed (a token renewed, a
channel re-created).

Guarantees: only an approver may authorise it, with a reason; the authorisation is
one `delivery.retry` event in the log (who, when, why, the failure it answers) before
anything is sent (signed like an approval when signing is on), and it turns only that channel's permanent failure into a retryable
one, so the run that follows, or any later `publish send`, tries it again. A channel
that did not fail permanently is refused with what to run instead.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from publisher.drafting.drafts import DraftRecord, load_draft
from publisher.errors import BadInput, Refused
from publisher.i18n import _
from publisher.incident.authority import require_approver, require_reason
from publisher.incident.identity import append_signed

if TYPE_CHECKING:
    from publisher.log.store import Event
    from publisher.workspace.app import App


def authorise_retry(app: App, draft_id: str, channel: str, actor: str, reason: str | None,
                    key: Path | None = None, signature: dict[str, Any] | None = None) -> Event:
    """Signed with the approver's key when `[approvals] signing = "ssh"`, like an approval
    (`signature`: a passkey assertion over `retry_data`, already checked: the console)."""
    require_approver(app, actor, _("retry a channel that failed permanently"))
    record, data = retry_data(app, draft_id, channel, reason)
    return append_signed(app, "delivery.retry", actor, data, key=key, signature=signature,
                         incident=record.draft.incident, draft=draft_id, channel=channel)


def retry_data(app: App, draft_id: str, channel: str, reason: str | None) -> tuple[DraftRecord, dict[str, Any]]:
    """The draft and exactly what a retry of `channel` records (and its signature signs)."""
    reason = require_reason(reason, _("the channel is tried again"))
    record = load_draft(app, draft_id)
    delivery = record.deliveries.get(channel)
    if delivery is None:
        raise BadInput(_("--retry {channel}: draft {draft} has no such channel; its channels are {known}.").format(
            channel=channel, draft=draft_id, known=", ".join(record.deliveries)))
    if delivery.state != "failed-permanent":
        raise Refused(_refusal(draft_id, channel, delivery.state))
    return record, {"reason": reason, "failure": delivery.reason}


def _refusal(draft_id: str, channel: str, state: str) -> str:
    if state == "delivered":
        return _("draft {draft} is already delivered on {channel}; it is never sent twice.").format(
            draft=draft_id, channel=channel)
    if state in ("unknown", "sending"):
        return _("the last attempt of draft {draft} on {channel} has an unknown outcome, not a permanent failure; "
                 "check the platform, then `publish confirm {draft} {channel} --url URL` or "
                 "`publish send {draft} --resend {channel}`.").format(draft=draft_id, channel=channel)
    return _("draft {draft} did not fail permanently on {channel} ({state}); `publish send {draft}` "
             "resumes it without --retry.").format(draft=draft_id, channel=channel, state=state)
