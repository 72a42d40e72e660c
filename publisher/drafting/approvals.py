"""Approvals: who may approve a draft, and when a draft is ready to send.

Guarantees: an approval is recorded only for a draft whose stored payloads still hash
to its id, by an approver of the log's cabinet (`publisher.incident.authority`; and
counted only when its actor was one at that row), never by the draft's author
when `self_approval = false`, at most once per person, and never once the next update
its text promises has passed (`publisher.drafting.promises`). Each approval carries the
hash it approved; only approvals of the current hash count. With
`[approvals] signing = "ssh"` the approval and the rejection are signed with the actor's
SSH key (or come signed by passkey from the console) and checked against the key the log
enrolled before they are recorded; only approvals whose signature verifies count (see
`publisher.incident.identity`). The names attached to a draft's approvals are stated as
proven by a signature, or as unsigned and self-declared (`[approvals] signing =
"none"`), with the recorded approvals that do not count and why (`approved_by`,
`not_counted`).
"""
from __future__ import annotations

from pathlib import Path

from publisher.drafting.drafts import DraftRecord, load_draft
from publisher.drafting.promises import refuse_past_promise
from publisher.errors import Refused
from publisher.incident.identity import append_signed, bad_signatures, self_declared
from publisher.incident.incidents import load_incident, refuse_void
from publisher.incident.roster import FOREVER, checked
from publisher.log import signatures as signing
from publisher.workspace.app import App
from publisher.workspace.witness import witness_after
from publisher.i18n import _


def _check_open(record: DraftRecord) -> None:
    draft = record.draft
    if record.rejection:
        reason = record.rejection.data.get("reason", "")
        raise Refused(_("draft {id} was rejected by {actor}: {reason}").format(
                          id=draft.id, actor=record.rejection.actor, reason=reason))
    if record.superseded_by:
        raise Refused(_("draft {id} was superseded by draft {superseded_by} (it was re-rendered); review "
                        "and approve {superseded_by} instead.").format(
                          id=draft.id, superseded_by=record.superseded_by))
    if draft.computed_hash() != draft.hash:
        raise Refused(_("draft {id} no longer matches its hash: its payloads changed after rendering, so "
                        "it cannot be approved; render it again.").format(id=draft.id))


def approve(app: App, draft_id: str, approver: str, key: Path | None = None,
            signature: dict | None = None) -> DraftRecord:
    """`signature`: a passkey assertion already checked by `publisher.incident.people`
    (the console); without it, SSH signing applies when configured."""
    record = load_draft(app, draft_id)
    _check_open(record)
    refuse_void(load_incident(app, record.draft.incident))
    config = app.config
    refuse_past_promise(record.draft.promises, app.clock(), draft_id, config.timezone)
    made = checked(app)
    if made.role_at(approver, FOREVER) != "approver":
        names = ", ".join(made.approvers()) or _("nobody")
        raise Refused(_("{approver!r} is not an approver; the approvers are {names} (`publish people list`).").format(
                          approver=approver, names=names))
    if approver == record.draft.author and not config.self_approval:
        raise Refused(_("{approver!r} wrote draft {draft_id} and cannot approve it ([approvals] "
                        "self_approval = false); another approver must.").format(
                          approver=approver, draft_id=draft_id))
    if approver in record.valid_approvers():
        raise Refused(_("{approver!r} has already approved draft {draft_id}; a second approval by the same "
                        "person does not count.").format(approver=approver, draft_id=draft_id))
    if record.approved:
        raise Refused(_("draft {draft_id} already has its {approvals_required} approval(s); `publish send "
                        "{draft_id}` resumes its delivery.").format(
                          draft_id=draft_id, approvals_required=record.required))
    append_signed(app, "draft.approved", approver, {"hash": record.draft.hash}, key=key, signature=signature,
                  incident=record.draft.incident, draft=draft_id)
    witness_after(app, "approval")
    return load_draft(app, draft_id)


def verify_signatures(app: App) -> list[signing.BadSignature]:
    """Every recorded signed action (approval, rejection, freeze, unfreeze, decision,
    confirmation; by SSH key or passkey) whose signature does not verify."""
    return [signing.BadSignature(event.seq, event.actor or "", event.draft or "", problem)
            for event, problem in bad_signatures(app)]


def reject(app: App, draft_id: str, actor: str, reason: str, signature: dict | None = None,
           key: Path | None = None) -> DraftRecord:
    record = load_draft(app, draft_id)
    _check_open(record)
    if checked(app).role_at(actor, FOREVER) != "approver" and actor != record.draft.author:
        raise Refused(_("{actor!r} is neither an approver nor the draft's author and cannot reject it.").format(
                          actor=actor))
    if not reason.strip():
        raise Refused(_("--reason must say why the draft is rejected."))
    if any(delivery.state != "pending" for delivery in record.deliveries.values()):
        raise Refused(_("draft {draft_id} is already being delivered and can no longer be rejected.").format(
                          draft_id=draft_id))
    append_signed(app, "draft.rejected", actor, {"reason": reason.strip()}, key=key, signature=signature,
                  incident=record.draft.incident, draft=draft_id)
    return load_draft(app, draft_id)


def approved_by(app: App, record: DraftRecord) -> str:
    names = ", ".join(sorted(set(record.valid_approvers())))
    if not names:
        return _("nobody yet")
    unproven = self_declared(app)
    return f"{names} ({_(unproven)})" if unproven else _("{names} (signed, verified)").format(names=names)


def not_counted(record: DraftRecord) -> list[str]:
    return [_("{kind} by {name} (#{seq}) does not count: {reason}").format(
        kind=event.kind, name=event.actor, seq=event.seq, reason=reason) for event, reason in record.unverified]
