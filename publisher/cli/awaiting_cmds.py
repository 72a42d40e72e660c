"""`publish awaiting`: what awaits the person running it (`publisher.evidence.awaiting`)."""
from __future__ import annotations

import click

from publisher.cli.output import emit_json, say, table, when
from publisher.cli.session import session
from publisher.i18n import N_, _


@click.command("awaiting", short_help=N_("What awaits you: drafts to approve, steps due or late, a freeze to lift."))
@click.option("--as", "as_user", metavar="NAME", help=N_("Whose list (else $PUBLISH_USER, else your login)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def awaiting(as_user: str | None, as_json: bool) -> None:
    """What awaits you, by your role in the log's cabinet: for an approver, the drafts you
    may approve (oldest deadline first, with the time left before the 12 h and 48 h
    deadlines and who else may approve), approved drafts waiting to be sent, steps due
    or late and the freeze you can lift; for an operator, the steps due or late you can
    mark done and your own drafts waiting or rejected."""
    from publisher.evidence.awaiting import awaiting as awaiting_for, time_left
    from publisher.evidence.state_words import state_word
    from publisher.workspace.app import current_user

    found = awaiting_for(session().app, current_user(as_user))
    if as_json:
        emit_json(found.as_dict())
        return
    if found.role is None:
        say(_("{person} is not in the cabinet (`publish people list`): nothing awaits them here.").format(
            person=found.person))
        return
    say(_("Awaiting {person} ({role}) at {now}").format(person=found.person, role=_(found.role), now=when(found.now)))
    if found.empty:
        say(_("Nothing awaits you."))
    if found.freeze:
        say(_("Publishing is frozen since {at} by {who}; reason, as typed: {why}. Lift it: publish unfreeze --reason TEXT --send").format(
            at=when(found.freeze.at), who=found.freeze.by, why=found.freeze.reason))
    if found.to_approve:
        say(_("Drafts you may approve:"))
        table([[item.draft, item.incident, str(item.case), item.template, time_left(item.prepare_left),
                time_left(item.publish_left), ", ".join(item.others) or "-"] for item in found.to_approve],
              [_("draft"), _("incident"), _("case"), _("template"), _("12 h"), _("48 h"), _("others who may approve")])
    if found.to_send:
        say(_("Approved, waiting to be sent (publish send DRAFT):"))
        table([[item.draft, item.incident, item.template, ", ".join(item.not_delivered)] for item in found.to_send],
              [_("draft"), _("incident"), _("template"), _("not delivered on")])
    if found.steps:
        say(_("Steps due or late:"))
        table([[step.incident, str(step.case), step.step, step.title, state_word(step.state),
                when(step.deadline) if step.deadline else "-"] for step in found.steps],
              [_("incident"), _("case"), _("step"), _("title"), _("state"), _("deadline")])
    if found.mine:
        say(_("Your drafts:"))
        table([[item.draft, item.incident, item.template, state_word(item.status),
                _("{who}, as typed: {reason}").format(who=item.rejected_by, reason=item.reason) if item.rejected_by else ""]
               for item in found.mine],
              [_("draft"), _("incident"), _("template"), _("status"), _("rejected")])


COMMANDS = [awaiting]
