"""Freeze, unfreeze and decide with a passkey (the console's path).

Guarantees: the message signed is `signatures.action_message` over exactly the data
the event will record (its reason, decision, the freeze lifted), so the assertion
verifies offline in `publish log verify`; it is checked by `people.signed_action`
(fresh, never used, the person's own passkey) and then recorded by the same `freeze`,
`unfreeze` and `decide` as the command line.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from publisher.errors import BadInput, Refused
from publisher.incident import people
from publisher.incident.authority import require_reason
from publisher.incident.decisions import decide, decision_data, latest_decision, open_incident_for
from publisher.incident.freeze import active_freeze, freeze, unfreeze
from publisher.log.signatures import action_message
from publisher.i18n import _

if TYPE_CHECKING:
    from publisher.workspace.app import App

ACTIONS = ("freeze", "unfreeze", "decide")


def message(app: App, action: str, person: str, fields: dict[str, Any]) -> bytes:
    reason = str(fields.get("reason") or "")
    if action == "freeze":
        incident = fields.get("incident") or None
        data = {"reason": require_reason(reason, _("publishing is frozen"))}
        return action_message("freeze", f"incident {incident}" if incident else "workspace", data, person)
    if action == "unfreeze":
        current = active_freeze(app)
        if not current:
            raise Refused(_("publishing is not frozen; there is nothing to lift."))
        data = {"reason": require_reason(reason, _("the freeze is lifted")), "freeze": current.seq}
        return action_message("unfreeze", "workspace", data, person)
    if action == "decide":
        decision = str(fields.get("decision") or "")
        if decision not in ("ignore", "respond"):
            raise BadInput(_("the decision is either ignore or respond."))
        incident = open_incident_for(app, str(fields.get("incident") or "") or None)
        data = decision_data(latest_decision(app, incident.id), decision,
                             require_reason(reason, _("the cabinet decides to {decision}").format(
                                                        decision=decision)))
        return action_message("decide", incident.id, data, person)
    raise BadInput(_("unknown action {action!r}.").format(action=action))


def options(app: App, action: str, person: str, fields: dict[str, Any]) -> dict[str, Any]:
    return people.action_options(app, person, message(app, action, person, fields))


def act(app: App, action: str, person: str, fields: dict[str, Any], credential: dict[str, Any]) -> None:
    signature = people.signed_action(app, person, message(app, action, person, fields), credential)
    reason = str(fields.get("reason") or "")
    if action == "freeze":
        freeze(app, person, reason, str(fields.get("incident") or "") or None, signature=signature)
    elif action == "unfreeze":
        unfreeze(app, person, reason, signature=signature)
    else:
        decide(app, str(fields.get("incident") or "") or None, str(fields["decision"]), person, reason,
               signature=signature)
