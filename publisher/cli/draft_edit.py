"""`publish drafts edit DRAFT [--channel NAME]`: change a draft's text by hand."""
from __future__ import annotations

import click

from publisher.cli.output import emit_json, say
from publisher.cli.session import session
from publisher.i18n import N_


@click.command("edit")
@click.argument("draft_id", metavar="DRAFT")
@click.option("--channel", "channels", multiple=True, metavar="NAME",
              help=N_("Edit only this channel's payload; repeatable (default: every channel)."))
@click.option("--as", "as_user", metavar="NAME", help=N_("Who edits (else $PUBLISH_USER, else your login)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the new draft as JSON."))
def drafts_edit(draft_id: str, channels: tuple[str, ...], as_user: str | None, as_json: bool) -> None:
    """Edit a draft's payloads in $EDITOR; saving makes a new draft that supersedes it
    (new id, approvals start again; the log keeps the diff)."""
    from publisher.cli.draft_view import announce, preview
    from publisher.drafting.editing import edit_draft
    from publisher.i18n import _
    from publisher.workspace.app import current_user

    record = edit_draft(session().app, draft_id, current_user(as_user),
                        lambda text: click.edit(text, extension=".txt", require_save=True), channels)
    if record is not None:
        announce(session().app, record.draft.id)
    if record is None:
        if as_json:
            emit_json({"draft": draft_id, "changed": False})
        else:
            say(_("Nothing changed: draft {draft} stays as it was.").format(draft=draft_id))
        return
    if as_json:
        emit_json({"draft": record.draft.id, "changed": True, "supersedes": draft_id,
                   "status": record.status, "payloads": record.draft.as_dict()["payloads"]})
        return
    preview(record.draft, _("new draft, supersedes {draft}").format(draft=draft_id))
    say(_("Approvals start again: publish approve {draft} --as NAME").format(draft=record.draft.id))
