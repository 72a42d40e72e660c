"""Every signed action in one place, for both faces: freeze, unfreeze (and send what
waited), decide, approve (then send unless frozen), reject, confirm, retry a failed
channel, send (resume), void an incident, withdraw a statement, confirming someone's
passkey, and changing the cabinet (add or change a person, remove one, co-sign a
waiting change, set the quorum); signed by passkey on the console, by SSH key on the
command line.

Guarantees: the message signed is `signatures.action_message` over exactly the data the
event will record (a reason, a decision, the freeze lifted, an approval's draft hash,
a confirmation's post), so an assertion made for one action, draft or freeze never
counts for another and verifies offline in `publish log verify`; it is checked by
`people.signed_action` (fresh, never used, the person's own enrolled passkey) and then
recorded by the same `act` the command line calls with an SSH key, through `freeze`,
`unfreeze`, `decide`, `approve_and_send`, `reject` and `confirm_delivery` (which sign
with the key when signing is on), so the console and the command line never disagree.
A send records no event of its own (the deliveries record who sent): on the console its
passkey assertion, over the draft's hash, proves that an approver asked for it now. It lives here, the lowest stage that holds every
one of those functions.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from publisher.delivery.approve import Approval, approve_and_send
from publisher.delivery.confirm import confirm_delivery, confirmation_data
from publisher.delivery.resume import in_place, resume, resume_waiting
from publisher.delivery.retry import authorise_retry, retry_data
from publisher.delivery.withdrawal import request_data, withdraw
from publisher.drafting.approvals import reject
from publisher.drafting.drafts import load_draft
from publisher.errors import BadInput
from publisher.i18n import _
from publisher.incident import membership, people
from publisher.incident.authority import require_approver, require_reason
from publisher.incident.corrections import void_incident
from publisher.incident.decisions import decide, decision_data, latest_decision, open_incident_for
from publisher.incident.freeze import freeze, freeze_data, freeze_to_lift, unfreeze
from publisher.log.signatures import action_message

if TYPE_CHECKING:
    from publisher.workspace.app import App

ACTIONS = ("freeze", "unfreeze", "decide", "approve", "reject", "confirm", "confirm-passkey", "send", "retry", "void",
           "withdraw", "people-add", "people-remove", "people-approve", "people-quorum")
PEOPLE_ACTIONS = ("people-add", "people-remove", "people-approve", "people-quorum")
Fields = dict[str, Any]


def _text(fields: Fields, name: str) -> str:
    return str(fields.get(name) or "")


def _channels(fields: Fields) -> tuple[str, ...]:
    value = fields.get("channels") or ()
    return (value,) if isinstance(value, str) else tuple(str(name) for name in value)


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
    if action in PEOPLE_ACTIONS:
        return membership.message(cabinet_proposal(app, action, person, fields), person)
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
    if action == "withdraw":
        return action_message("withdraw", draft_id, request_data(app, draft_id, reason, _channels(fields)), person)
    if action == "send":
        return action_message("send", draft_id, load_draft(app, draft_id).draft.hash, person)
    if action == "retry":
        channel = _text(fields, "channel")
        return action_message("retry", f"{draft_id}/{channel}", retry_data(app, draft_id, channel, reason)[1], person)
    if action == "void":
        voided = {"reason": require_reason(reason, _("the incident is voided"))}
        return action_message("void", _text(fields, "incident"), voided, person)
    raise BadInput(_("unknown action {action!r}.").format(action=action))


def options(app: App, action: str, person: str, fields: Fields) -> dict[str, Any]:
    """The WebAuthn request the browser signs for this action."""
    return people.action_options(app, person, message(app, action, person, fields))


def act(app: App, action: str, person: str, fields: Fields, *, credential: dict[str, Any] | None = None,
        key: Path | None = None, announce: Callable[[Approval], Any] = lambda approval: None,
        sleep: Callable[[float], None] | None = None, wait: bool = False,
        run: Callable[[Callable[[], Any]], None] = in_place) -> Any:
    """Record `action` by `person`, signed by the passkey assertion `credential` (the
    console: checked over this action's message first) or else, when signing is on, by
    the SSH key `key` (the command line). An approval is then sent unless frozen
    (`announce`, `sleep` and `wait` as in `approve_and_send`); a send, a retry and an
    unfreeze with `send` run their deliveries by `run` (`publisher.delivery.resume`).
    Returns what the core function returned."""
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
        lifted = unfreeze(app, person, reason, signature=signature, key=key, freeze_seq=_freeze_seq(fields))
        if fields.get("send"):
            resume_waiting(app, person, run=run)
        return lifted
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
    if action == "withdraw":
        return withdraw(app, draft_id, person, reason, _channels(fields), key=key, signature=signature)
    if action == "send":
        require_approver(app, person, _("send an approved draft from the console"))
        return resume(app, draft_id, person, wait=wait, run=run)
    if action == "retry":
        authorised = authorise_retry(app, draft_id, _text(fields, "channel"), person, reason, key,
                                     signature=signature)
        resume(app, draft_id, person, wait=wait, run=run)
        return authorised
    if action == "void":
        return void_incident(app, _text(fields, "incident"), person, reason, key=key, signature=signature)[1]
    if action == "confirm-passkey":
        return people.confirm(app, _text(fields, "name"), person, _text(fields, "fingerprint"), key=key,
                              signature=signature)
    if action in PEOPLE_ACTIONS:
        return membership.record(app, cabinet_proposal(app, action, person, fields), person, key, signature)
    raise BadInput(_("unknown action {action!r}.").format(action=action))


def cabinet_proposal(app: App, action: str, person: str, fields: Fields) -> membership.Proposal:
    """The change of the cabinet a console form asks for, checked as the command line checks it."""
    if action == "people-add":
        role = _text(fields, "role") or None
        return membership.propose_add(app, _text(fields, "name"), role, person,
                                      _text(fields, "email") or None, _text(fields, "telegram") or None,
                                      _text(fields, "slack") or None)
    if action == "people-remove":
        return membership.propose_remove(app, _text(fields, "name"), person)
    if action == "people-approve":
        return membership.propose_approval(app, _text(fields, "change"), person)
    try:
        required = int(_text(fields, "required"))
    except ValueError:
        raise BadInput(_("the quorum is a whole number of approvals, not {value!r}.").format(
            value=_text(fields, "required"))) from None
    return membership.propose_quorum(app, required, person)
