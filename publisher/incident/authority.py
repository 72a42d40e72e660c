"""Who may do what: actions that need a reason, actions only an approver may take, and
the console's roles (approvers decide, operators run the playbook, viewers read).

Guarantees: every answer to "is X an approver", "may X do Y" and "who are the
approvers" comes from the cabinet in the log (`publisher.incident.roster`), never from
one machine's config, and is asked here by every face. An action that needs a role
first records the log's first people if it has none and refuses when the config's
lists differ from the log (`roster.checked`). Roles rank viewer < operator < approver;
each may do what the roles below it may."""
from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.errors import BadInput, Refused
from publisher.i18n import N_, _
from publisher.incident import roster
from publisher.incident.roster import ROLES
from publisher.workspace.inputs import check_text

if TYPE_CHECKING:
    from publisher.workspace.app import App

ROLE_WORDS = {"approver": N_("approver"), "operator": N_("operator"), "viewer": N_("viewer")}

# What each role adds to the roles below it.
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"view"}),
    "operator": frozenset({"view", "open", "render", "done", "resolve", "inbox"}),
    "approver": frozenset({"view", "open", "render", "done", "resolve", "inbox", "approve", "reject", "freeze", "unfreeze",
                           "decide", "confirm", "people", "send", "retry", "void"}),
}


def require_reason(reason: str | None, what: str) -> str:
    if not reason or not reason.strip():
        raise BadInput(_("--reason must say why {what}.").format(what=what))
    return check_text(reason, "--reason").strip()


def approvers(app: App) -> list[str]:
    """The approvers the log has now."""
    return roster.cabinet(app).approvers()


def people(app: App) -> list[str]:
    return roster.cabinet(app).names()


def role_of(app: App, name: str | None) -> str | None:
    found = roster.cabinet(app).people.get(name or "")
    return found.role if found else None


def roles_of(app: App, name: str | None) -> tuple[str, ...]:
    """The roles this person holds: theirs and every role below it."""
    role = role_of(app, name)
    return ROLES[:ROLES.index(role) + 1] if role else ()


def may(app: App, name: str | None, action: str) -> bool:
    role = role_of(app, name)
    return role is not None and action in PERMISSIONS[role]


def require_approver(app: App, actor: str, what: str) -> None:
    made = roster.checked(app)
    person = made.people.get(actor)
    if person is None or person.role != "approver":
        names = ", ".join(made.approvers()) or _("nobody")
        raise Refused(_("only an approver can {what}; {actor!r} is not one (the approvers are {names}: "
                        "`publish people list`).").format(what=what, actor=actor, names=names))


ACTION_WORDS = {"open": N_("open an incident"), "render": N_("render a draft"), "done": N_("mark a step done"),
                "resolve": N_("resolve an incident"), "inbox": N_("work the inbox")}


def require_role(app: App, actor: str, action: str) -> None:
    """Refuse unless `actor` holds, in the log's cabinet, a role that may take `action`
    (one of PERMISSIONS' words). Nothing is written: a log with no people yet reads the
    config's lists, which `publish init` records as its first people."""
    made = roster.checked(app)
    person = made.people.get(actor)
    if person is None or action not in PERMISSIONS[person.role]:
        allowed = [ROLE_WORDS[role] for role in ROLES if action in PERMISSIONS[role]]
        what = _(ACTION_WORDS[action])
        if person is None:
            raise Refused(_("{actor!r} is not in the cabinet, so cannot {what}; an approver adds them: `publish "
                            "people add {actor} --role operator`.").format(actor=actor, what=what))
        raise Refused(_("{actor!r} is {role}; only {roles} can {what} (`publish people list`).").format(
            actor=actor, role=_(ROLE_WORDS[person.role]), roles=_(" or ").join(_(word) for word in allowed),
            what=what))
