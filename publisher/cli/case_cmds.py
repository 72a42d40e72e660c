"""`publish freeze`, `unfreeze`, `done` and `decide`: what the cabinet does outside drafting."""
from __future__ import annotations

import click

from publisher.cli.output import emit_json, say, when
from publisher.cli.session import key_option, session
from publisher.i18n import N_, _

AS_HELP = N_("Who does it (else $PUBLISH_USER, else your login).")
AS_APPROVER_HELP = N_("Who does it (else $PUBLISH_USER, else your login). Must be an approver.")


@click.command("freeze", short_help=N_("Stop every outgoing channel at once."))
@click.option("--reason", required=True, metavar="TEXT", help=N_("Why every outgoing channel must stop."))
@click.option("--incident", "incident_id", metavar="ID", help=N_("Hold only this incident's drafts and notices."))
@click.option("--all", "everything", is_flag=True,
              help=N_("Hold every incident (the default without --incident; with it, names the incident that calls "
                      "for it)."))
@click.option("--allow", "allow", metavar="CHANNEL", multiple=True,
              help=N_("A channel this freeze never holds, besides [freeze] allow (repeatable)."))
@click.option("--as", "as_user", metavar="NAME", help=AS_HELP)
@key_option
@click.option("--json", "as_json", is_flag=True, help=N_("Print the recorded event as JSON."))
def freeze(reason: str, incident_id: str | None, everything: bool, allow: tuple[str, ...], as_user: str | None, key,
           as_json: bool) -> None:
    """Stop outgoing channels at once, for every incident or one: retries in flight
    abort, sends are refused, approved drafts wait until an approver runs `publish
    unfreeze`; notices go only through the allowed channels."""
    from publisher.delivery.signed_actions import act
    from publisher.incident.freeze import allowed_channels, what_it_holds
    from publisher.incident.incidents import load_incident
    from publisher.workspace.app import current_user

    app = session().app
    if incident_id:
        load_incident(app, incident_id)
    event = act(app, "freeze", current_user(as_user),
                {"reason": reason, "incident": incident_id, "all": everything, "allow": allow}, key=key)
    if as_json:
        emit_json(event.as_dict())
        return
    say(_("Publishing frozen at {ts} by {actor}: {reason}").format(
            ts=when(event.ts), actor=event.actor, reason=reason.strip()))
    say(_("It holds {holds}: running retries abort, new sends are refused, approved drafts wait.").format(
        holds=what_it_holds(event)))
    say(_("Notices go only through: {channels}.").format(
        channels=", ".join(allowed_channels(app, event)) or _("the console")))
    say(_("Lift it (an approver): publish unfreeze --reason TEXT [--send]"))


@click.command("unfreeze", short_help=N_("Lift the freeze (approvers only)."))
@click.option("--reason", required=True, metavar="TEXT", help=N_("Why it is safe to communicate again."))
@click.option("--freeze", "freeze_seq", metavar="N", type=int,
              help=N_("The freeze to lift, by its number in the log (needed when several are in force)."))
@click.option("--as", "as_user", metavar="NAME", help=AS_APPROVER_HELP)
@key_option
@click.option("--send", "send_now", is_flag=True, help=N_("Send every draft that waited, right after lifting the freeze."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the recorded event and the waiting drafts as JSON."))
def unfreeze(reason: str, freeze_seq: int | None, as_user: str | None, key, send_now: bool, as_json: bool) -> None:
    """Lift the freeze (approvers only), recording who and why; lists the drafts that
    waited and, with --send, sends them."""
    from publisher.cli.draft_view import send_each
    from publisher.drafting.drafts import waiting_drafts
    from publisher.errors import NotDelivered
    from publisher.i18n import _
    from publisher.delivery.signed_actions import act
    from publisher.incident.freeze import freeze_holding
    from publisher.workspace.app import current_user

    app = session().app
    event = act(app, "unfreeze", current_user(as_user), {"reason": reason, "freeze": freeze_seq}, key=key)
    waiting = [record for record in waiting_drafts(app) if freeze_holding(app, record.draft.incident) is None]
    if as_json and not send_now:
        emit_json({"event": event.as_dict(), "waiting": [record.draft.id for record in waiting]})
        return
    if not as_json:
        say(_("Freeze lifted at {ts} by {actor}: {reason}").format(
                ts=when(event.ts), actor=event.actor, reason=reason.strip()))
        for record in waiting:
            left = ", ".join(name for name, d in record.deliveries.items() if d.state != "delivered")
            say(_("Approved draft {draft} ({template}, incident {incident}) is waiting: publish send {draft} "
                  "(not delivered on {left})").format(
                draft=record.draft.id, template=record.draft.template, incident=record.draft.incident, left=left))
        if waiting and not send_now:
            say(_("Send them all: {commands}").format(
                commands=" && ".join(f"publish send {record.draft.id}" for record in waiting)))
    if send_now:
        sent, problems = send_each([record.draft.id for record in waiting], event.actor or "", as_json)
        if as_json:
            emit_json({"event": event.as_dict(), "waiting": [record.draft.id for record in waiting], "sent": sent})
        if problems:
            raise NotDelivered(" ".join(problems))


@click.command("done", short_help=N_("Mark a step done that happens outside the tool."))
@click.argument("step", metavar="STEP")
@click.option("--note", metavar="TEXT", help=N_("What was done (who was contacted, where the leak came from...)."))
@click.option("--incident", "incident_id", metavar="ID", help=N_("The incident (default: the only open one)."))
@click.option("--as", "as_user", metavar="NAME", help=AS_HELP)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the recorded event as JSON."))
def done(step: str, note: str | None, incident_id: str | None, as_user: str | None, as_json: bool) -> None:
    """Mark a playbook step done that happens outside the tool (trace-source,
    contact-customer, leak-origin, moderation, prevention)."""
    from publisher.incident.decisions import mark_done
    from publisher.workspace.app import current_user

    incident, event = mark_done(session().app, incident_id, step, current_user(as_user), note)
    if as_json:
        emit_json(event.as_dict())
        return
    note = event.data.get("note")
    if note:
        say(_("Step {step} of incident {id} marked done at {ts} by {actor}: {note}").format(
            step=step, id=incident.id, ts=when(event.ts), actor=event.actor, note=note))
    else:
        say(_("Step {step} of incident {id} marked done at {ts} by {actor}.").format(
            step=step, id=incident.id, ts=when(event.ts), actor=event.actor))


@click.command("decide", short_help=N_("Record the decision to ignore (or answer) a provocation."))
@click.argument("decision", type=click.Choice(["ignore", "respond"]))
@click.option("--reason", required=True, metavar="TEXT", help=N_("Why the cabinet decides so."))
@click.option("--incident", "incident_id", metavar="ID", help=N_("The incident (default: the only open one)."))
@click.option("--as", "as_user", metavar="NAME", help=AS_APPROVER_HELP)
@key_option
@click.option("--json", "as_json", is_flag=True, help=N_("Print the recorded event as JSON."))
def decide(decision: str, reason: str, incident_id: str | None, as_user: str | None, key, as_json: bool) -> None:
    """Record the cabinet's choice: `ignore` a provocation on purpose (the steps it waives
    are reported as waived, with who and when), or `respond` after all."""
    from publisher.delivery.signed_actions import act
    from publisher.workspace.app import current_user

    incident, event = act(session().app, "decide", current_user(as_user),
                          {"decision": decision, "reason": reason, "incident": incident_id}, key=key)
    if as_json:
        emit_json(event.as_dict())
        return
    if decision == "ignore":
        say(_("Recorded at {ts}: {actor} decided not to answer incident {id} ({reason}).").format(
                ts=when(event.ts), actor=event.actor, id=incident.id, reason=reason.strip()))
        say(_("The response and 48 h publication are now reported as waived by this decision."))
    else:
        say(_("Recorded at {ts}: {actor} decided to answer incident {id} after all ({reason}); its "
              "deadlines count again.").format(
                ts=when(event.ts), actor=event.actor, id=incident.id, reason=reason.strip()))


COMMANDS = [freeze, unfreeze, done, decide]
