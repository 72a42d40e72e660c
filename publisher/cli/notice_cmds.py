"""`publish notices`: send what is due, acknowledge a notice, list them."""
from __future__ import annotations

from typing import Any

import click

from publisher.cli.output import emit_json, say, table, when
from publisher.cli.session import session
from publisher.i18n import N_, _


@click.group("notices")
def notices() -> None:
    """Notices to the cabinet: who was told, who answered, what escalated."""


@notices.command("send")
@click.option("--json", "as_json", is_flag=True, help=N_("Print what was sent as JSON."))
def notices_send(as_json: bool) -> None:
    """Send the notices and escalations due now, each once (for a timer, when no worker runs)."""
    from publisher.evidence.reminders import tell

    sent = tell(session().app, 0)[0]
    if as_json:
        emit_json({"sent": sent})
        return
    say(_("Sent: {keys}.").format(keys=", ".join(sent)) if sent else _("Nothing is due."))


@notices.command("ack")
@click.argument("key", metavar="ID")
@click.option("--as", "as_user", metavar="NAME", help=N_("Who answers (else $PUBLISH_USER, else your login)."))
def notices_ack(key: str, as_user: str | None) -> None:
    """Acknowledge notice ID: you are on it, nobody else is woken."""
    from publisher.delivery.paging import acknowledge
    from publisher.workspace.app import current_user

    event = acknowledge(session().app, key, current_user(as_user))
    say(_("Notice {key} acknowledged at {ts} by {actor}; it goes no further.").format(
        key=key, ts=when(event.ts), actor=event.actor))


@notices.command("list")
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def notices_list(as_json: bool) -> None:
    """Every notice: who was told, the step it reached, who acknowledged it."""
    from publisher.delivery.paging import pages

    found = pages(session().app)
    rows: list[dict[str, Any]] = [{"id": key, "incident": page.incident, "title": page.title, "told": page.told, "step": page.level,
             "needs_action": page.needs_action,
             "acknowledged_by": page.acknowledged.actor if page.acknowledged else None}
            for key, page in found.items()]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        say(_("No notice yet."))
        return
    table([[row["id"], row["incident"] or "-", ", ".join(row["told"]) or "-", str(row["step"]),
            row["acknowledged_by"] or (_("waiting") if row["needs_action"] else "-")] for row in rows],
          [_("ID"), _("INCIDENT"), _("TOLD"), _("STEP"), _("ACKNOWLEDGED BY")])


@notices.command("vapid")
@click.option("--replace", is_flag=True, help=N_("Make a new pair even if one exists (every phone must subscribe again)."))
def notices_vapid(replace: bool) -> None:
    """Make the VAPID key pair for Web Push to the console on phones (the private key goes to the secrets file)."""
    from publisher.delivery.webpush import SECRET, make_keys

    app = session().app
    public = make_keys(app, replace)
    say(_("VAPID keys made: the private key is {secret} in {shown} (never printed); the public key, which "
          "phones subscribe with, is {public}.").format(secret=SECRET, shown=app.secrets.shown, public=public))


COMMANDS = [notices]
