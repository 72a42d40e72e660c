"""How the names attached to a draft's approvals are stated: proven by a signature, or
unsigned and self-declared (`[approvals] signing = "none"`), and which recorded
approvals do not count because their signature does not verify."""
from __future__ import annotations

from publisher.drafting.drafts import DraftRecord
from publisher.i18n import _
from publisher.incident.identity import self_declared
from publisher.workspace.app import App


def approved_by(app: App, record: DraftRecord) -> str:
    names = ", ".join(sorted(set(record.valid_approvers())))
    if not names:
        return _("nobody yet")
    unproven = self_declared(app)
    return f"{names} ({_(unproven)})" if unproven else _("{names} (signed, verified)").format(names=names)


def not_counted(record: DraftRecord) -> list[str]:
    return [_("{kind} by {name} (#{seq}) does not count: {reason}").format(
        kind=event.kind, name=event.actor, seq=event.seq, reason=reason) for event, reason in record.unverified]
