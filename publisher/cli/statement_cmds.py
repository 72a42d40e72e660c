"""`publish correct DRAFT` and `publish withdraw DRAFT`: changing a statement that went out."""
from __future__ import annotations

from pathlib import Path

import click

from publisher.cli.output import emit_json, say
from publisher.cli.session import key_option, session
from publisher.i18n import N_


@click.command("correct", help=N_("Write a correction of a delivered draft in $EDITOR: a new draft, approved like any "
                                  "statement, then applied as an edit where the platform allows it, else as a reply "
                                  "to the original post."))
@click.argument("draft_id", metavar="DRAFT")
@click.option("--channel", "channels", multiple=True, metavar="NAME",
              help=N_("Correct only this channel; repeatable (default: every channel it was delivered on)."))
@click.option("--as", "as_user", metavar="NAME", help=N_("Who writes the correction (else $PUBLISH_USER, else your "
                                                         "login)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the correction draft as JSON."))
def correct(draft_id: str, channels: tuple[str, ...], as_user: str | None, as_json: bool) -> None:
    from publisher.cli.draft_view import preview
    from publisher.delivery.correction import how_applied
    from publisher.drafting.correcting import correct_draft
    from publisher.i18n import _
    from publisher.workspace.app import current_user

    app = session().app
    record, skipped = correct_draft(app, draft_id, current_user(as_user),
                                    lambda text: click.edit(text, extension=".txt", require_save=True), channels)
    if as_json:
        emit_json({"draft": record.draft.id if record else None, "corrects": draft_id, "changed": record is not None,
                   "how": {name: how_applied(app.channel(name)) for name in (record.draft.payloads if record else ())},
                   "skipped": {item.channel: item.why for item in skipped}})
        return
    for item in skipped:
        say(item.why)
    if record is None:
        say(_("Nothing changed: no correction of draft {draft} was made.").format(draft=draft_id))
        return
    preview(record.draft, _("correction of {draft}").format(draft=draft_id))
    for name in record.draft.payloads:
        if how_applied(app.channel(name)) == "edit":
            say(_("{channel}: once approved, the post is edited in place.").format(channel=name))
        else:
            say(_("{channel}: the platform cannot edit a post; once approved, the correction is posted as a reply "
                  "to the original post.").format(channel=name))
    say(_("Approve it like any statement: publish approve {draft} --as NAME").format(draft=record.draft.id))


@click.command("withdraw", help=N_("Withdraw a delivered statement (approvers only, signed): delete the post where "
                                   "the platform allows it, and record the withdrawal with its reason."))
@click.argument("draft_id", metavar="DRAFT")
@click.option("--reason", required=True, metavar="TEXT", help=N_("Why it is withdrawn (logged, on the statements page "
                                                                 "and in the report)."))
@click.option("--channel", "channels", multiple=True, metavar="NAME",
              help=N_("Withdraw only from this channel; repeatable (default: every channel it was delivered on)."))
@click.option("--as", "as_user", metavar="NAME", help=N_("Who withdraws it (an approver)."))
@key_option
@click.option("--json", "as_json", is_flag=True, help=N_("Print each channel's outcome as JSON."))
def withdraw(draft_id: str, reason: str, channels: tuple[str, ...], as_user: str | None, key: Path | None,
             as_json: bool) -> None:
    from publisher.delivery.signed_actions import act
    from publisher.errors import NotDelivered
    from publisher.i18n import _
    from publisher.workspace.app import current_user

    done = act(session().app, "withdraw", current_user(as_user),
               {"draft": draft_id, "reason": reason, "channels": list(channels)}, key=key)
    if as_json:
        emit_json({"draft": draft_id, "channels": [{"channel": item.channel, "how": item.how, "detail": item.detail,
                                                    "platform_time": item.platform_time} for item in done]})
    else:
        for item in done:
            say(item.detail)
    failed = [item.channel for item in done if item.how == "failed"]
    if failed:
        raise NotDelivered(_("draft {draft} is not withdrawn yet from {channels}; run `publish withdraw` again "
                             "once the cause is fixed.").format(draft=draft_id, channels=", ".join(failed)))


COMMANDS = [correct, withdraw]
