"""Withdrawing a delivered statement: `publish withdraw DRAFT --reason TEXT [--channel NAME]...`.

Guarantees:
- Only an approver withdraws, with a reason; the request is one signed action
  (`withdrawal.requested`: the reason and the channels, signed like a void when signing
  is on, re-checked by `publish log verify`), recorded before any platform is called.
- On each channel the intent is recorded (`withdrawal.started`) before the network
  call and the outcome after it: `statement.withdrawn` {draft_id, channel, reason,
  platform_time, how: "deleted" | "cannot", request, answer} or `withdrawal.failed`
  (with the reason, redacted). A channel that can delete (`Channel.can_delete`) deletes
  the post; one that cannot is recorded `how = "cannot"` and named with a sentence, so
  a person removes it by hand. The statements page keeps a notice with the time and the
  reason (`channels.site`).
- An outcome counts only when the request it answers counts (`drafts._record`): a
  forged `statement.withdrawn` never takes a statement out of the proof.
- Idempotent: channels already withdrawn are not asked again, a platform's "not found"
  counts as deleted, and running the command again after a crash or a failure takes up
  exactly the channels still to withdraw.
- A freeze does not hold a withdrawal: it only removes what went out.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from channels.base import DeliveryError, Receipt
from publisher.drafting.drafts import DraftRecord, load_draft
from publisher.errors import BadInput, Refused
from publisher.i18n import _
from publisher.incident.authority import require_approver, require_reason
from publisher.incident.identity import append_signed
from publisher.workspace.rollback import refuse_if_rolled_back

if TYPE_CHECKING:
    from publisher.log.store import Event
    from publisher.workspace.app import App


@dataclass(frozen=True)
class Withdrawn:
    """How one channel ended: deleted, cannot (the platform cannot delete), already
    (withdrawn before) or failed; `detail` is one sentence for people."""

    channel: str
    how: str
    detail: str
    platform_time: str | None = None


def to_withdraw(app: App, record: DraftRecord, channels: tuple[str, ...]) -> list[str]:
    """The channels of `record` a withdrawal covers that are not withdrawn yet."""
    delivered = [name for name, delivery in record.deliveries.items() if delivery.state == "delivered"]
    if not delivered:
        raise Refused(_("draft {draft} was not delivered on any channel, so there is nothing to withdraw.").format(
            draft=record.draft.id))
    for name in channels:
        if name not in delivered:
            raise BadInput(_("--channel {name}: draft {draft} was not delivered there (it was delivered on: "
                             "{names}).").format(name=name, draft=record.draft.id, names=", ".join(delivered)))
    chosen = list(dict.fromkeys(channels)) or delivered
    return [name for name in chosen if not record.deliveries[name].withdrawn]


def request_data(app: App, draft_id: str, reason: str | None, channels: tuple[str, ...]) -> dict[str, Any]:
    """What the approver signs: the reason and the channels still to withdraw."""
    reason = require_reason(reason, _("the statement is withdrawn"))
    return {"reason": reason, "channels": to_withdraw(app, load_draft(app, draft_id), channels)}


def withdraw(app: App, draft_id: str, actor: str, reason: str | None, channels: tuple[str, ...] = (), *,
             key: Path | None = None, signature: dict[str, Any] | None = None) -> list[Withdrawn]:
    """Withdraw `draft_id` from `channels` (default: every channel it was delivered on)."""
    require_reason(reason, _("the statement is withdrawn"))
    require_approver(app, actor, _("withdraw a statement"))
    refuse_if_rolled_back(app)
    record = load_draft(app, draft_id)
    data = request_data(app, draft_id, reason, channels)
    chosen = list(dict.fromkeys(channels)) or [name for name, delivery in record.deliveries.items()
                                               if delivery.state == "delivered"]
    earlier = {name: record.deliveries[name].withdrawn for name in chosen if name not in data["channels"]}
    done = [Withdrawn(name, "already", _("{channel}: already withdrawn at {at}.").format(
                channel=name, at=(withdrawn or {}).get("at"))) for name, withdrawn in earlier.items()]
    if not data["channels"]:
        return done
    request = append_signed(app, "withdrawal.requested", actor, data, key=key, signature=signature,
                            incident=record.draft.incident, draft=draft_id)
    return done + [_withdraw_one(app, record, name, request) for name in data["channels"]]


def _withdraw_one(app: App, record: DraftRecord, name: str, request: Event) -> Withdrawn:
    draft = record.draft
    channel = app.channel(name)
    reason = str(request.data["reason"])
    common = {"draft_id": draft.id, "channel": name, "reason": reason, "request": request.seq}
    url = (record.deliveries[name].receipt or {}).get("url")
    if not channel.can_delete:
        app.store.append("statement.withdrawn", actor=None, incident=draft.incident, draft=draft.id, channel=name,
                         data={**common, "how": "cannot", "platform_time": None, "answer": None})
        return Withdrawn(name, "cannot", _("{channel} ({type}) cannot delete a post through its API: remove it by "
                                           "hand{where}; the log marks it withdrawn.").format(
                                               channel=name, type=channel.type,
                                               where=f" ({url})" if url else ""))
    app.store.append("withdrawal.started", actor=None, incident=draft.incident, draft=draft.id, channel=name,
                     data={"request": request.seq, "type": channel.type})
    data = record.deliveries[name].receipt or {}
    receipt = Receipt(str(data.get("id") or ""), data.get("url"), data.get("platform_time"),
                      {**(data.get("extra") or {}), "reason": reason, "organisation": app.config.organisation})
    try:
        platform_time = channel.delete(receipt)
    except DeliveryError as error:
        said = channel.redact(error.reason)
        app.store.append("withdrawal.failed", actor=None, incident=draft.incident, draft=draft.id, channel=name,
                         data={"request": request.seq, "reason": said,
                               "error": type(error).__name__.lower()})
        return Withdrawn(name, "failed", _("{channel}: not deleted ({reason}); `publish withdraw {draft} --reason "
                                           "...` tries again.").format(channel=name, reason=said, draft=draft.id))
    except Exception as error:  # a bug in one channel never hides the others' outcomes
        said = channel.redact(f"unexpected {type(error).__name__}: {error}")
        app.store.append("withdrawal.failed", actor=None, incident=draft.incident, draft=draft.id, channel=name,
                         data={"request": request.seq, "reason": said, "error": "unexpected"})
        return Withdrawn(name, "failed", _("{channel}: not deleted ({reason}); `publish withdraw {draft} --reason "
                                           "...` tries again.").format(channel=name, reason=said, draft=draft.id))
    app.store.append("statement.withdrawn", actor=None, incident=draft.incident, draft=draft.id, channel=name,
                     data={**common, "how": "deleted", "platform_time": platform_time,
                           "answer": {"deleted": receipt.id, "platform_time": platform_time}})
    return Withdrawn(name, "deleted", _("{channel}: deleted{at}.").format(
        channel=name, at=f" ({platform_time})" if platform_time else ""), platform_time)
