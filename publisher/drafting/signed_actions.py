"""Approving and rejecting a draft with a passkey (the console's path).

Guarantees: the message signed is `signatures.action_message` for the action, the
draft and the exact data the event records (an approval: the draft's hash), so an
assertion made for one draft or hash never counts for another; the assertion is
checked (fresh, never used, the person's own enrolled passkey) by
`publisher.incident.people` and then recorded by the same `approve`/`reject` as
`publish approve`/`publish reject`, so the console and the command line never disagree.
"""
from __future__ import annotations

from typing import Any

from publisher.drafting.approvals import approve, reject
from publisher.drafting.drafts import DraftRecord, load_draft
from publisher.incident import people
from publisher.incident.authority import require_reason
from publisher.log.signatures import action_message
from publisher.workspace.app import App
from publisher.i18n import _


def message(app: App, action: str, draft_id: str, person: str, reason: str | None = None) -> bytes:
    if action == "approve":
        return action_message("approve", draft_id, load_draft(app, draft_id).draft.hash, person)
    return action_message("reject", draft_id, {"reason": require_reason(reason, _("the draft is rejected"))}, person)


def options(app: App, action: str, draft_id: str, person: str, reason: str | None = None) -> dict[str, Any]:
    """The WebAuthn request the browser signs for this action."""
    return people.action_options(app, person, message(app, action, draft_id, person, reason))


def act(app: App, action: str, draft_id: str, person: str, credential: dict[str, Any],
        reason: str | None = None) -> DraftRecord:
    signature = people.signed_action(app, person, message(app, action, draft_id, person, reason), credential)
    if action == "approve":
        return approve(app, draft_id, person, signature=signature)
    return reject(app, draft_id, person, reason or "", signature=signature)
