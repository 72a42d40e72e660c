"""Who may do what outside approvals: actions that need a reason, and actions only
an approver may take."""
from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.errors import BadInput, Refused

if TYPE_CHECKING:
    from publisher.workspace.app import App


def require_reason(reason: str | None, what: str) -> str:
    if not reason or not reason.strip():
        raise BadInput(f"--reason must say why {what}.")
    return reason.strip()


def require_approver(app: App, actor: str, what: str) -> None:
    if actor not in app.config.approvers:
        names = ", ".join(app.config.approvers) or "nobody"
        raise Refused(f"only an approver can {what}; {actor!r} is not one ([approvals] approvers lists {names}).")
