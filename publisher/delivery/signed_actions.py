"""Every signed action in one place, for both faces: freeze, unfreeze, decide,
approve (then send unless frozen), reject, confirm, and confirming someone's passkey;
signed by passkey on the console, by SSH key on the command line.

Guarantees: the message signed is `signatures.action_message` over exactly the data the
event will record (a reason, a decision, the freeze lifted, an approval's draft hash,
a confirmation's post), so an assertion made for one action, draft or freeze never
counts for another and verifies offline in `publish log verify`; it is checked by
`people.signed_action` (fresh, never used, the person's own enrolled passkey) and then
recorded by the same `act` the command line calls with an SSH key, through `freeze`,
`unfreeze`, `decide`, `approve_and_send`, `reject` and `confirm_delivery` (which sign
with the key when signing is on), so the console and the command line never disagree. It lives here, the lowest stage that holds every
one of those functions.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from publisher.delivery.approve import Approval, approve_and_send
from publisher.delivery.confirm import confirm_delivery, confirmation_data
from publisher.drafting.approvals import reject
from publisher.drafting.drafts import load_draft
from publisher.errors import BadInput
from publisher.i18n import _
from publisher.incident import people
from publisher.incident.authority import require_reason
from publisher.incident.decisions import decide, decision_data, latest_decision, open_incident_for
from publisher.incident.freeze import freeze, freeze_data, freeze_to_lift, unfreeze
from publisher.log.signatures import action_message

if TYPE_CHECKING:
    from publisher.workspace.app import App

ACTIONS = ("freeze", "unfreeze", "decide", "approve", "reject", "confirm", "confirm-passkey")
Fields = dict[str, Any]


def _text(fields: Fields, name: str) -> str:
    return str(fields.get(name) or "")


def _allow(fields: Fields) -> tuple[str, ...]:
    allow = fields.get("allow") or ()
    return (allow,) if isinstance(allow, str) else tuple(str(name) for name in allow)


def _freeze_seq(fields: Fields) -> int | None:
    value = fields.get("freeze")
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise BadInput(_("--freeze {value}: expected the number of a freeze in force.").format(value=value)) from None


def message(app: App, action: str, person: str, fields: Fields) -> bytes:
    """The bytes `person` signs for `action` with these `fields` (incident, draft,
    channel, reason, decision, url as the action takes them)."""
    reason = _text(fields, "reason")
    if action == "freeze":
        named = _text(fields, "incident") or None
        data = freeze_data(app, reason, named, bool(fields.get("all")), _allow(fields))
        return action_message("freeze", f"incident {named}" if named else "workspace", data, person)
    if action == "unfreeze":
        current = freeze_to_lift(app, _freeze_seq(fields))
        lifted: dict[str, object] = {"reason": require_reason(reason, _("the freeze is lifted")), "freeze": current.seq}
        return action_message("unfreeze", "workspace", lifted, person)
    if action == "decide":
        decision = _text(fields, "decision")
        if decision not in ("ignore", "respond"):
            raise BadInput(_("the decision is either ignore or respond."))
        incident = open_incident_for(app, _text(fields, "incident") or None)
        data = decision_data(latest_decision(app, incident.id), decision,
                             require_reason(reason, _("the cabinet decides to {decision}").format(
                                                        decision=decision)))
        return action_message("decide", incident.id, data, person)
    if action == "confirm-passkey":
        return people.confirmation_message(app, _text(fields, "name"), person, _text(fields, "fingerprint"))
    draft_id = _text(fields, "draft")
    if action == "approve":
        return action_message("approve", draft_id, load_draft(app, draft_id).draft.hash, person)
    if action == "reject":
        return action_message("reject", draft_id, {"reason": require_reason(reason, _("the draft is rejected"))},
                              person)
    if action == "confirm":
        channel = _text(fields, "channel")
        data = confirmation_data(app, draft_id, channel, person, _text(fields, "url"))[1]
        return action_message("confirm", f"{draft_id}/{channel}", data, person)
    raise BadInput(_("unknown action {action!r}.").format(action=action))


def options(app: App, action: str, person: str, fields: Fields) -> dict[str, Any]:
    """The WebAuthn request the browser signs for this action."""
    return people.action_options(app, person, message(app, action, person, fields))


def act(app: App, action: str, person: str, fields: Fields, *, credential: dict[str, Any] | None = None,
        key: Path | None = None, announce: Callable[[Approval], Any] = lambda approval: None,
        sleep: Callable[[float], None] | None = None, wait: bool = False) -> Any:
    """Record `action` by `person`, signed by the passkey assertion `credential` (the
    console: checked over this action's message first) or else, when signing is on, by
    the SSH key `key` (the command line). An approval is then sent unless frozen
    (`announce`, `sleep` and `wait` as in `approve_and_send`). Returns what the core function
    returned."""
    signature = None
    if credential is not None:
        signature = people.signed_action(app, person, message(app, action, person, fields), credential)
    reason = _text(fields, "reason")
    incident = _text(fields, "incident") or None
    draft_id = _text(fields, "draft")
    if action == "freeze":
        return freeze(app, person, reason, incident, signature=signature, key=key, everything=bool(fields.get("all")),
                      allow=_allow(fields))
    if action == "unfreeze":
        return unfreeze(app, person, reason, signature=signature, key=key, freeze_seq=_freeze_seq(fields))
    if action == "decide":
        return decide(app, incident, _text(fields, "decision"), person, reason, signature=signature, key=key)
    if action == "approve":
        return approve_and_send(app, draft_id, person, key=key, signature=signature, announce=announce, sleep=sleep,
                                wait=wait)
    if action == "reject":
        return reject(app, draft_id, person, reason, signature=signature, key=key)
    if action == "confirm":
        return confirm_delivery(app, draft_id, _text(fields, "channel"), person, _text(fields, "url"), key=key,
                                signature=signature)
    if action == "confirm-passkey":
        return people.confirm(app, _text(fields, "name"), person, _text(fields, "fingerprint"), key=key,
                              signature=signature)
    raise BadInput(_("unknown action {action!r}.").format(action=action))
