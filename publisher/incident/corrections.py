"""Correcting an incident after it was opened: the time of the first negative message,
the summary, the source post; and voiding an incident opened by mistake.

Guarantees: only an approver corrects, with a reason; a correction is one
`incident.edited` event (signed like an approval when signing is on) holding, per
field, the value it replaces and the new one, so the original stays in the log and the
report shows both, with who and why. The clock moves with `first_seen`: every deadline
is counted from the corrected time. A `--first-seen` more than 7 days ago, one whose day
and month could be swapped into a time closer to now (`incidents.check_first_seen`, the
rule `incident open` follows too), or one earlier than the source post's own time (when
its URL carries it), is refused unless the approver adds `--confirm`; one in the future
is refused always. The source post's time is read from its URL where the platform puts
it in the post id (`channels.source_post.time_in_url`: X and Mastodon); unknown otherwise.

Voiding: only an approver voids an incident, with a reason, once; it is one
`incident.voided` event, signed like a correction when signing is on, and it counts only
when its signature verifies (a forged or, with signing on, unsigned one is ignored and
named by `publish log verify`). The incident and its events stay in the log; from then on
it is shown as void, has no verdict and gets no draft or send (`incidents.refuse_void`).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from publisher.errors import BadInput, Refused
from publisher.i18n import _
from channels.source_post import time_in_url
from publisher.incident.authority import require_approver, require_reason
from publisher.incident.identity import append_signed
from publisher.incident.incidents import Incident, check_first_seen, load_incident, refuse_void
from publisher.timeparse import iso, parse_instant

if TYPE_CHECKING:
    from publisher.log.store import Event
    from publisher.workspace.app import App



def edit_incident(app: App, incident_id: str, actor: str, reason: str | None, *, first_seen: str | None = None,
                  summary: str | None = None, source: str | None = None, confirm: bool = False,
                  key: Path | None = None) -> tuple[Incident, Event]:
    reason = require_reason(reason, _("the incident is corrected"))
    require_approver(app, actor, _("correct an incident"))
    incident = load_incident(app, incident_id)
    refuse_void(incident)
    changes: dict[str, dict[str, Any]] = {}
    for field, value in (("summary", summary), ("source", source)):
        if value is not None and value.strip() != (getattr(incident, field) or ""):
            changes[field] = {"from": getattr(incident, field), "to": value.strip() or None}
    if first_seen is not None:
        moment = parse_instant(first_seen, "--first-seen", app.config.timezone, not_after=app.clock())
        if moment != incident.first_seen:
            _check_first_seen(app, moment, source if source is not None else incident.source, confirm)
            changes["first_seen"] = {"from": iso(incident.first_seen), "to": iso(moment)}
    if not changes:
        raise BadInput(_("nothing to correct: give --first-seen, --summary or --source with a value different "
                         "from incident {id}'s.").format(id=incident.id))
    event = append_signed(app, "incident.edited", actor, {"reason": reason, "changes": changes}, key=key,
                          incident=incident.id)
    return load_incident(app, incident.id), event


def _check_first_seen(app: App, moment: datetime, source: str | None, confirm: bool) -> None:
    if confirm:
        return
    now = app.clock()
    check_first_seen(moment, now, confirm)
    posted = time_in_url(source, now)
    if posted is not None and moment < posted:
        raise Refused(_("--first-seen {moment} is earlier than the source post itself ({posted}, read from its "
                        "URL); if that is right, run it again with --confirm.").format(
            moment=iso(moment), posted=iso(posted)))


def void_incident(app: App, incident_id: str, actor: str, reason: str | None, *, key: Path | None = None,
                  signature: dict[str, Any] | None = None) -> tuple[Incident, Event]:
    """Void an incident opened by mistake (approvers only, with a reason, once)."""
    reason = require_reason(reason, _("the incident is voided"))
    require_approver(app, actor, _("void an incident"))
    incident = load_incident(app, incident_id)
    if incident.void is not None:
        raise Refused(_("incident {id} was already voided by {by} at {at}; it stays void.").format(
            id=incident.id, by=incident.void.get("by"), at=incident.void.get("at")))
    event = append_signed(app, "incident.voided", actor, {"reason": reason}, key=key, signature=signature,
                          incident=incident.id)
    return load_incident(app, incident.id), event
