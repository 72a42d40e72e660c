"""Showing drafts and running deliveries, shared by the commands that do either."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import click

from publisher.cli.output import emit_json, rule, say, table
from publisher.cli.session import session

if TYPE_CHECKING:
    from publisher.drafts import Draft, DraftRecord


def preview(draft: Draft, status: str) -> None:
    from publisher.drafts import describe_length

    say(f"Draft {draft.id}: case {draft.case} {draft.template} ({draft.language}) for incident "
        f"{draft.incident}, by {draft.author} - {status}")
    for payload in draft.payloads.values():
        say(rule(f"{payload.channel} · {payload.type} · {payload.audience} · {payload.variant} · "
                 f"{describe_length(payload)}"))
        say(f"[{payload.title}]")
        for number, part in enumerate(payload.parts, start=1):
            if len(payload.parts) > 1:
                say(f"· part {number} of {len(payload.parts)}")
            say(part)
    say(rule("end"))


def render_command(*, case: int, template: str, incident_id: str | None, language: str | None,
                   variables: tuple[str, ...], channel_names: tuple[str, ...], reply_to: str | None,
                   dry_run: bool, as_json: bool) -> None:
    from publisher.app import current_user
    from publisher.cases import check_template, get_case
    from publisher.drafts import render_draft, save_draft
    from publisher.incidents import find_incident
    from publisher.rendering import parse_vars

    check_template(get_case(case), template)
    parsed = parse_vars(variables)
    app = session().app
    incident = find_incident(app, case, incident_id)
    draft = render_draft(app, incident, template, author=current_user(), language=language, variables=parsed,
                         channel_names=channel_names, reply_to=reply_to)
    if dry_run:
        if as_json:
            emit_json({"dry_run": True, "draft": draft.as_dict()})
        else:
            preview(draft, "dry run: nothing stored")
        return
    record, new = save_draft(app, draft)
    if as_json:
        emit_json({"new": new, "status": record.status, "draft": draft.as_dict()})
    else:
        preview(draft, "new draft" if new else f"unchanged, already stored ({record.status})")
    required = app.config.approvals_required
    if required == 0 and new:
        deliver(draft.id, actor=draft.author, as_json=as_json)
    elif not as_json and record.status == "awaiting approval":
        approvers = ", ".join(name for name in app.config.approvers if name != draft.author
                              or app.config.self_approval)
        say(f"Needs {required} approval(s) from: {approvers}.")
        say(f"Approve with: publish approve {draft.id} --as NAME   (reject: publish reject {draft.id} --reason TEXT)")


def deliver(draft_id: str, *, actor: str, as_json: bool, resend: tuple[str, ...] = ()) -> None:
    from publisher.delivery import send_draft
    from publisher.errors import NotDelivered

    current = session()
    lock = threading.Lock()

    def progress(channel: str, state: str, detail: str) -> None:
        if not as_json:
            with lock:
                click.echo(current.redact(f"  {channel}: {state} - {detail}"))

    if not as_json:
        say(f"Sending draft {draft_id}:")
    outcomes = send_draft(current.app, draft_id, actor, resend=resend, progress=progress, sleep=current.sleep)
    if as_json:
        emit_json({"draft": draft_id, "deliveries": [vars(outcome) for outcome in outcomes]})
    else:
        table([[o.channel, o.state, str(o.attempts), o.url or o.detail] for o in outcomes],
              ["channel", "state", "attempts", "where / why"])
    missing = [outcome.channel for outcome in outcomes if outcome.state != "delivered"]
    if missing:
        raise NotDelivered(f"not delivered on {', '.join(missing)}; `publish send {draft_id}` resumes.")


def record_summary(record: DraftRecord) -> dict[str, Any]:
    draft = record.draft
    return {"id": draft.id, "incident": draft.incident, "case": draft.case, "template": draft.template,
            "language": draft.language, "author": draft.author, "status": record.status,
            "created_at": record.created_at.isoformat(), "approved_by": sorted(set(record.valid_approvers())),
            "channels": {name: delivery.state for name, delivery in record.deliveries.items()}}
