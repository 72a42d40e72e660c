"""Who may do what: actions that need a reason, actions only an approver may take, and
the console's roles (approvers decide, operators run the playbook, viewers read), each
read from `[approvals]` in the config and checked by the same `may()` in every face."""
from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.errors import BadInput, Refused
from publisher.i18n import _
from publisher.workspace.inputs import check_text

if TYPE_CHECKING:
    from publisher.workspace.app import App
    from publisher.workspace.config import Config


def require_reason(reason: str | None, what: str) -> str:
    if not reason or not reason.strip():
        raise BadInput(_("--reason must say why {what}.").format(what=what))
    return check_text(reason, "--reason").strip()


def require_approver(app: App, actor: str, what: str) -> None:
    if actor not in app.config.approvers:
        names = ", ".join(app.config.approvers) or "nobody"
        raise Refused(_("only an approver can {what}; {actor!r} is not one ([approvals] approvers lists "
                        "{names}).").format(what=what, actor=actor, names=names))


ROLES = ("approver", "operator", "viewer")

# What each role may do; a person listed under several roles may do what each allows.
PERMISSIONS: dict[str, frozenset[str]] = {
    "approver": frozenset({"view", "approve", "reject", "freeze", "unfreeze", "decide", "confirm"}),
    "operator": frozenset({"view", "open", "render", "done"}),
    "viewer": frozenset({"view"}),
}


def roles_of(config: Config, name: str | None) -> tuple[str, ...]:
    """The roles `[approvals] approvers`, `operators` and `viewers` give this person."""
    if not name:
        return ()
    lists = {"approver": config.approvers, "operator": config.operators, "viewer": config.viewers}
    return tuple(role for role in ROLES if name in lists[role])


def people(config: Config) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*config.approvers, *config.operators, *config.viewers)))


def may(config: Config, name: str | None, action: str) -> bool:
    return any(action in PERMISSIONS[role] for role in roles_of(config, name))


def require(config: Config, name: str | None, action: str) -> None:
    if not may(config, name, action):
        allowed = [role for role in ROLES if action in PERMISSIONS[role]]
        raise Refused(_("{name!r} may not {action}: only {names}s may ([approvals] approvers, operators, "
                        "viewers in config/publisher.toml).").format(
                          name=name, action=action, names=' or '.join(allowed)))
