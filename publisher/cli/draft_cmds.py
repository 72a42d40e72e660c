"""`publish drafts list|show`, `approve`, `reject`, `send`."""
from __future__ import annotations

from pathlib import Path

import click

from publisher.cli.draft_view import deliver, preview, record_summary, sending_display, summarise
from publisher.cli.output import emit_json, say, table, warn, when
from publisher.cli.session import key_option, session
from publisher.evidence.state_words import state_word
from publisher.i18n import N_, _


@click.group("drafts")
def drafts() -> None:
    """Rendered drafts: their payloads, approvals and deliveries."""


@drafts.command("list")
@click.option("--incident", metavar="ID", help=N_("Only this incident's drafts."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def drafts_list(incident: str | None, as_json: bool) -> None:
    """List drafts, oldest first."""
    from publisher.drafting.drafts import list_drafts

    records = list_drafts(session().app, incident)
    if as_json:
        emit_json([record_summary(record) for record in records])
        return
    if not records:
        say(_("No drafts yet: render one with publish --case N --template KIND."))
        return
    table([[r.draft.id, r.draft.incident, str(r.draft.case), r.draft.template, r.draft.language,
            when(r.created_at), state_word(r.status)] for r in records],
          [_("draft"), _("incident"), _("case"), _("template"), _("lang"), _("rendered"), _("status")])


@drafts.command("show")
@click.argument("draft_id", metavar="DRAFT")
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def drafts_show(draft_id: str, as_json: bool) -> None:
    """Show a draft's final payload per channel, with lengths and thread split."""
    from publisher.drafting.approvals import approved_by, not_counted
    from publisher.drafting.drafts import load_draft

    app = session().app
    record = load_draft(app, draft_id)
    if as_json:
        emit_json({**record_summary(record), "draft": record.draft.as_dict(), "approved_as": approved_by(app, record),
                   "not_counted": not_counted(record)})
        return
    preview(record.draft, state_word(record.status))
    say(_("Approved by: {approved_by}").format(approved_by=approved_by(app, record)))
    for line in not_counted(record):
        say(f"  {line}")
    for name, delivery in record.deliveries.items():
        where = (delivery.receipt or {}).get("url") or delivery.reason or ""
        say(f"  {name}: {state_word(delivery.state)} {where}".rstrip())


@click.command("approve")
@click.argument("draft_id", metavar="DRAFT")
@click.option("--as", "as_user", metavar="NAME", help=N_("Approver (else $PUBLISH_USER, else your login)."))
@key_option
@click.option("--wait", is_flag=True, help=N_("Send it here and wait for every channel, even when a worker runs."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the delivery summary as JSON."))
def approve(draft_id: str, as_user: str | None, key: Path | None, wait: bool, as_json: bool) -> None:
    """Approve a draft; it is sent once the required approvals are in."""
    from contextlib import ExitStack

    from publisher.delivery.approve import HELD, QUEUED, REFUSED, SENDING, Approval
    from publisher.delivery.signed_actions import act
    from publisher.errors import Refused
    from publisher.workspace.app import current_user

    app = session().app
    approver = current_user(as_user)
    shown: list = []
    with ExitStack() as running:
        def announce(approval: Approval):
            _say_approved(app, approval, approver, as_json)
            if approval.no_worker and not as_json:
                say(_("No worker is running: sending it here (start `publish worker` to have it sent in the "
                      "background)."))
            if approval.result != SENDING:
                return None
            shown.append(running.enter_context(sending_display(draft_id, list(approval.record.deliveries), as_json)))
            return None if as_json else shown[0]

        done = act(app, "approve", approver, {"draft": draft_id}, key=key, announce=announce, sleep=session().sleep,
                   wait=wait)
    if done.result == QUEUED:
        say_queued(draft_id, as_json)
    elif done.result == HELD:
        _say_held(draft_id, done.frozen, as_json)
    elif done.result == REFUSED:
        raise Refused(done.refused or "")
    elif done.result == SENDING:
        summarise(draft_id, done.outcomes or (), shown[0].elapsed() if shown else 0.0, as_json)


def _say_approved(app, approval, approver: str, as_json: bool) -> None:
    if not as_json:
        from publisher.incident.identity import self_declared

        unproven = self_declared(app)
        approved = _("Approved draft {draft} as {approver} ({have} of {need})").format(
            draft=approval.record.draft.id, approver=approver, have=approval.approvals, need=approval.required)
        say(f"{approved}; {unproven}." if unproven else f"{approved}.")
    warn(list(approval.cautions), as_json)


def say_queued(draft_id: str, as_json: bool) -> None:
    if as_json:
        emit_json({"draft": draft_id, "approved": True, "queued": True})
        return
    say(_("Queued: the worker sends draft {draft_id}; `publish status` follows it (`--wait` sends it here "
          "instead).").format(draft_id=draft_id))


def _say_held(draft_id: str, freeze, as_json: bool) -> None:
    if as_json:
        emit_json({"draft": draft_id, "approved": True, "held": True, "frozen_by": freeze.actor,
                   "reason": freeze.data.get("reason")})
        return
    say(_("Publishing is frozen since {ts} by {actor}: {data}. The draft waits: after `publish "
          "unfreeze`, `publish send {draft_id}` sends it. `publish unfreeze --reason TEXT --send` "
          "lifts the freeze and sends every waiting draft.").format(
            ts=when(freeze.ts), actor=freeze.actor, data=freeze.data.get('reason'), draft_id=draft_id))


@click.command("reject")
@click.argument("draft_id", metavar="DRAFT")
@click.option("--reason", required=True, help=N_("Why the draft is rejected."))
@click.option("--as", "as_user", metavar="NAME", help=N_("Who rejects (else $PUBLISH_USER, else your login)."))
@key_option
def reject(draft_id: str, reason: str, as_user: str | None, key: Path | None) -> None:
    """Reject a draft; it will never be sent."""
    from publisher.delivery.signed_actions import act
    from publisher.workspace.app import current_user

    actor = current_user(as_user)
    act(session().app, "reject", actor, {"draft": draft_id, "reason": reason}, key=key)
    say(_("Rejected draft {draft_id} as {actor}: {reason}").format(
            draft_id=draft_id, actor=actor, reason=reason))


@click.command("send")
@click.argument("draft_id", metavar="DRAFT")
@click.option("--resend", multiple=True, metavar="CHANNEL",
              help=N_("Send again to a channel whose last attempt has an unknown outcome."))
@click.option("--retry", multiple=True, metavar="CHANNEL",
              help=N_("Try again a channel that failed permanently, once its cause is fixed (approvers; needs --reason)."))
@click.option("--reason", metavar="TEXT", help=N_("Why --retry is safe now (logged)."))
@click.option("--as", "as_user", metavar="NAME", help=N_("Who sends (else $PUBLISH_USER, else your login)."))
@click.option("--key", "key", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help=N_('SSH key signing a --retry when [approvals] signing = "ssh" (else $PUBLISH_SSH_KEY).'))
@click.option("--wait", is_flag=True, help=N_("Send it here and wait for every channel, even when a worker runs."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the delivery summary as JSON."))
def send(draft_id: str, resend: tuple[str, ...], retry: tuple[str, ...], reason: str | None, as_user: str | None,
         key: Path | None, wait: bool, as_json: bool) -> None:
    """Resume delivery of an approved draft: only channels not yet delivered."""
    from publisher.delivery.retry import authorise_retry
    from publisher.errors import BadInput
    from publisher.i18n import _
    from publisher.workspace.app import current_user

    if reason is not None and not retry:
        raise BadInput(_("--reason goes with --retry CHANNEL: it says why a failed channel may be tried again."))
    actor = current_user(as_user)
    for channel in dict.fromkeys(retry):
        event = authorise_retry(session().app, draft_id, channel, actor, reason, key)
        if not as_json:
            say(_("Retry of {channel} authorised by {actor}: {reason}").format(
                channel=channel, actor=event.actor, reason=event.data["reason"]))
    if not wait and not resend and queue_for_worker(draft_id, as_json):
        say_queued(draft_id, as_json)
        return
    deliver(draft_id, actor=actor, as_json=as_json, resend=resend)


def queue_for_worker(draft_id: str, as_json: bool) -> bool:
    """Leave the draft to a live worker (True), or say that none runs (False: send here)."""
    from publisher.delivery.worker import hand_to_worker
    from publisher.drafting.drafts import load_draft

    app = session().app
    if hand_to_worker(app, load_draft(app, draft_id)):
        return True
    if not as_json:
        say(_("No worker is running: sending it here (start `publish worker` to have it sent in the background)."))
    return False


@click.command("confirm")
@click.argument("draft_id", metavar="DRAFT")
@click.argument("channel", metavar="CHANNEL")
@click.option("--url", required=True, help=N_("The post's URL or id, as found on the platform."))
@click.option("--as", "as_user", metavar="NAME", help=N_("Who checked (an approver; else $PUBLISH_USER, else your login)."))
@key_option
def confirm(draft_id: str, channel: str, url: str, as_user: str | None, key: Path | None) -> None:
    """Record a delivery whose outcome was unknown as found on the platform (approvers only;
    the post is checked with the platform first where the channel can look it up)."""
    from publisher.delivery.signed_actions import act
    from publisher.i18n import _
    from publisher.workspace.app import current_user

    done = act(session().app, "confirm", current_user(as_user), {"draft": draft_id, "channel": channel, "url": url},
               key=key)
    checked = _("checked with the platform") if done.checked else _("not checked: this channel cannot look posts up")
    say(_("Recorded draft {draft} on {channel} as delivered at {url}, confirmed by {actor} ({checked}).").format(
        draft=draft_id, channel=channel, url=done.url, actor=done.actor, checked=checked))


def _add_edit() -> None:
    from publisher.cli.draft_edit import drafts_edit

    drafts.add_command(drafts_edit)


_add_edit()
COMMANDS = [drafts, approve, reject, send, confirm]
