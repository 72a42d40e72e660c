"""What an incident listens for: keywords and `@handles`, set when it opens and changed
later, each change an `incident.listen` event ({"add": [...], "remove": [...]}) with its
actor. Replies to the incident's own delivered posts need no rule: they are always its.

Guarantees: a rule is one line of text (no control character, at most 100 characters,
not empty); `rules` folds the events in log order, so the log alone says which rules held
when any item was heard.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.errors import BadInput
from publisher.i18n import _
from publisher.incident.authority import require_role
from publisher.workspace.inputs import check_text

if TYPE_CHECKING:
    from publisher.workspace.app import App

MAX_RULE = 100


def checked_rule(rule: str) -> str:
    rule = check_text(rule, "--listen").strip()
    if not rule or rule == "@" or len(rule) > MAX_RULE or "\n" in rule:
        raise BadInput(_("a listening rule is a keyword or an @handle of at most {limit} characters, got {rule!r}.")
                       .format(limit=MAX_RULE, rule=rule[:120]))
    return rule


def rules(app: App, incident_id: str | None = None) -> dict[str, list[str]]:
    """Each incident's rules now (only `incident_id`'s when given), oldest incident first."""
    found: dict[str, list[str]] = {}
    for event in app.store.events(kind="incident.listen", incident=incident_id):
        current = found.setdefault(str(event.incident), [])
        for rule in event.data.get("add", []):
            if rule not in current:
                current.append(rule)
        for rule in event.data.get("remove", []):
            if rule in current:
                current.remove(rule)
    return dict(sorted(found.items(), key=lambda pair: int(pair[0]) if pair[0].isdigit() else 0))


def change_rules(app: App, incident_id: str, add: list[str], remove: list[str], actor: str) -> list[str]:
    """Add and remove rules of an incident (one event); returns its rules after."""
    from publisher.incident.incidents import load_incident, refuse_void

    require_role(app, actor, "open")
    refuse_void(load_incident(app, incident_id))
    added = [checked_rule(rule) for rule in add]
    removed = [checked_rule(rule) for rule in remove]
    current = rules(app, incident_id).get(incident_id, [])
    unknown = [rule for rule in removed if rule not in current]
    if unknown:
        raise BadInput(_("incident {id} has no rule {rule!r}; its rules: {rules}.").format(
            id=incident_id, rule=unknown[0], rules=", ".join(current) or _("none")))
    if not added and not removed:
        raise BadInput(_("give --add RULE or --remove RULE."))
    app.store.append("incident.listen", actor=actor, incident=incident_id, data={"add": added, "remove": removed})
    return rules(app, incident_id).get(incident_id, [])
