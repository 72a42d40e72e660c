"""Showing drafts and running deliveries, shared by the commands that do either."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

from publisher.cli.output import emit_json, rule, say, table, warn
from publisher.cli.session import session
from publisher.evidence.state_words import state_word
from publisher.i18n import _

if TYPE_CHECKING:
    from publisher.delivery.engine import Outcome
    from publisher.delivery.progress import LiveProgress
    from publisher.drafting.drafts import Draft, DraftRecord


def preview(draft: Draft, status: str) -> None:
    from publisher.drafting.drafts import describe_length

    say(_("Draft {id}: case {case} {template} ({language}) for incident {incident}, by {author} - {status}").format(
            id=draft.id, case=draft.case, template=draft.template, language=draft.language,
            incident=draft.incident, author=draft.author, status=status))
    if draft.reply_to:
        _say_reply(draft)
    solutions = draft.variables.get("solutions")
    if isinstance(solutions, list):
        say(_("Solutions listed: {count}").format(count=len(solutions)))
    for payload in draft.payloads.values():
        say(rule(f"{payload.channel} · {payload.type} · {state_word(payload.audience)} · {payload.variant} · "
                 f"{describe_length(payload)}"))
        say(f"[{payload.title}]")
        for number, part in enumerate(payload.parts, start=1):
            if len(payload.parts) > 1:
                say(part_heading(payload, number, part))
            say(part)
    say(rule(_("end")))


def part_heading(payload: Any, number: int, part: str) -> str:
    from publisher.drafting.lengths import DESCRIPTIONS, measure
    from publisher.i18n import _

    return _("· part {number} of {total} · {length}/{limit} {unit}").format(
        number=number, total=len(payload.parts), length=measure(part, payload.counting),
        limit=payload.limit, unit=_(DESCRIPTIONS[payload.counting]))


def _say_reply(draft: Draft) -> None:
    from channels import channel_class

    answering = [p.channel for p in draft.payloads.values() if channel_class(p.type).supports_reply]
    standalone = [p.channel for p in draft.payloads.values() if not channel_class(p.type).supports_reply]
    if answering:
        say(_("Replies to {reply_to} on: {names}").format(reply_to=draft.reply_to, names=', '.join(answering)))
    if standalone:
        say(_("Posted as a new message (the channel cannot reply) on: {names}").format(
                names=', '.join(standalone)))


def solutions_from(solutions: tuple[str, ...], solutions_file: str | None, template: str,
                   variables: dict[str, str]) -> dict[str, object]:
    """`--solution` and `--solutions-file` as the `solutions` list of a resolution."""
    from publisher.errors import BadInput
    from publisher.workspace.inputs import read_text_file

    listed = [item.strip() for item in solutions if item.strip()]
    if solutions_file:
        lines = read_text_file(solutions_file, "--solutions-file").splitlines()
        listed += [line.strip().lstrip("-*• ").strip() for line in lines
                   if line.strip() and not line.lstrip().startswith("#")]
    if not (solutions or solutions_file):
        return dict(variables)
    if template != "resolution":
        raise BadInput(_("--solution and --solutions-file list the solutions of a resolution; --template "
                         "{template} takes none.").format(template=template))
    if "solutions" in variables:
        raise BadInput(_("give the solutions with --solution/--solutions-file or with --var solutions=..., not both."))
    return {**variables, "solutions": listed}


def render_command(*, case: int, template: str, incident_id: str | None, language: str | None,
                   variables: tuple[str, ...], channel_names: tuple[str, ...], reply_to: str | None,
                   dry_run: bool, as_json: bool, solutions: tuple[str, ...] = (),
                   solutions_file: str | None = None, allow_language: bool = False) -> None:
    from publisher.drafting.cautions import rendering_cautions
    from publisher.drafting.drafts import render_draft
    from publisher.drafting.rendering import parse_vars
    from publisher.incident.playbooks import check_template, get_case
    from publisher.incident.incidents import find_incident
    from publisher.workspace.app import current_user

    get_case(case)
    app = session().app
    check_template(get_case(case, app.workspace), template)
    parsed = solutions_from(solutions, solutions_file, template, parse_vars(variables))
    from publisher.drafting.replies import item_reference

    heard = item_reference(app, reply_to)
    if heard is not None:
        reply_flow(heard.key, template=template, variables=parsed, language=language, dry_run=dry_run,
                   as_json=as_json, allow_language=allow_language, case=case)
        return
    incident = find_incident(app, case, incident_id)
    draft = render_draft(app, incident, template, author=current_user(), language=language, variables=parsed,
                         channel_names=channel_names, reply_to=reply_to, allow_language=allow_language)
    warn(rendering_cautions(incident), as_json)
    store_and_show(app, draft, dry_run, as_json)


def reply_flow(key: str, *, template: str, variables: dict[str, Any], language: str | None, dry_run: bool,
               as_json: bool, allow_language: bool, case: int | None = None) -> None:
    """Render, store and show the reply to one item (`--reply-to ITEM` on the main command too)."""
    from publisher.drafting.replies import link_reply, render_reply
    from publisher.errors import BadInput
    from publisher.workspace.app import current_user

    app = session().app
    draft, found = render_reply(app, key, template=template, author=current_user(), variables=variables,
                                language=language, allow_language=allow_language)
    if case is not None and draft.case != case:
        raise BadInput(_("item {item} belongs to incident {incident} (case {actual}), not case {case}.").format(
            item=f"#{found.seq}", incident=draft.incident, actual=draft.case, case=case))
    store_and_show(app, draft, dry_run, as_json, link=lambda record: link_reply(app, record, found))


def store_and_show(app: Any, draft: Any, dry_run: bool, as_json: bool,
                   link: Callable[[Any], None] | None = None) -> None:
    """Store a rendered draft (nothing with `dry_run`), show it, and send it at once when it
    needs no approval, else say who approves it. `link(record)` runs right after storing."""
    from publisher.drafting.drafts import load_draft, save_draft

    if dry_run:
        if as_json:
            emit_json({"dry_run": True, "draft": draft.as_dict()})
        else:
            preview(draft, _("dry run: nothing stored"))
        return
    record, new = save_draft(app, draft)
    if link is not None:
        link(record)
        record = load_draft(app, draft.id)
    told = new and announce(app, draft.id)
    if as_json:
        emit_json({"new": new, "status": record.status, "draft": draft.as_dict()})
    else:
        preview(draft, _("new draft") if new else _("unchanged, already stored ({status})").format(
            status=state_word(record.status)))
    required = record.required
    if required == 0 and new:
        deliver(draft.id, actor=draft.author, as_json=as_json)
    elif not as_json and record.status == "awaiting approval":
        from publisher.incident.authority import approvers as cabinet_approvers

        approvers = ", ".join(name for name in cabinet_approvers(app) if name != draft.author
                              or app.config.self_approval)
        say(_("Needs {required} approval(s) from: {approvers}.").format(required=required, approvers=approvers))
        if app.config.signing == "ssh":
            say(_("Each approver approves as themselves, signed with their own key: publish approve {id}   "
                  "(reject: publish reject {id} --reason TEXT)").format(id=draft.id))
        else:
            say(_("Approve with: publish approve {id} --as NAME   (reject: publish reject {id} --reason TEXT)").format(
                    id=draft.id))
        if told:
            say(_("The approvers are told now; `publish notices list` shows who was reached."))


def announce(app, draft_id: str) -> bool:
    """Tell the approvers of a just-stored draft at once (see `publisher.evidence.reminders`)."""
    from publisher.evidence.reminders import announce_draft

    return announce_draft(app, draft_id)


def deliver(draft_id: str, *, actor: str, as_json: bool, resend: tuple[str, ...] = (),
            collect: list[dict[str, Any]] | None = None) -> None:
    """Run the delivery of one draft with live progress (none with --json), then print
    the summary: delivered URLs, failures with their reasons, unconfirmed channels
    (with --json, appended to `collect` instead when it is given)."""
    from publisher.delivery.engine import no_progress, send_draft
    from publisher.drafting.drafts import load_draft

    current = session()
    record = load_draft(current.app, draft_id)
    shown = sending_display(draft_id, list(record.deliveries), as_json)
    with shown:
        outcomes = send_draft(current.app, draft_id, actor, resend=resend, progress=no_progress if as_json else shown,
                              sleep=current.sleep, record=record)
    summarise(draft_id, outcomes, shown.elapsed(), as_json, collect)


def sending_display(draft_id: str, names: list[str], as_json: bool) -> LiveProgress:
    """Say a draft is being sent and make its live progress (quiet with --json: it then
    only times the run); enter it around the run."""
    import sys

    from publisher.delivery.progress import LiveProgress

    stream = sys.stdout
    if not as_json:
        say(_("Sending draft {draft_id}:").format(draft_id=draft_id))
    return LiveProgress(names, session().redact, stream, live=not as_json and stream.isatty(),
                        title=f"Sending draft {draft_id}")


def summarise(draft_id: str, outcomes: Sequence[Outcome], elapsed: float, as_json: bool,
              collect: list[dict[str, Any]] | None = None) -> None:
    """Print how a run ended; `NotDelivered` (exit 1) when a channel was left short."""
    from publisher.errors import NotDelivered

    elapsed = round(elapsed, 3)
    unconfirmed = [o.channel for o in outcomes if o.state == "unknown"]
    missing = [o.channel for o in outcomes if o.state != "delivered"]
    if as_json:
        summary = {"draft": draft_id, "elapsed_s": elapsed, "delivered": len(outcomes) - len(missing),
                   "not_delivered": missing, "unconfirmed": unconfirmed,
                   "deliveries": [vars(outcome) for outcome in outcomes]}
        if collect is not None:
            collect.append(summary)
        else:
            emit_json(summary)
    else:
        table([[o.channel, state_word(o.state), str(o.attempts), o.url or o.detail] for o in outcomes],
              [_("channel"), _("state"), _("attempts"), _("where / why")])
        say(_("{value} of {count} delivered in {elapsed:.1f} s.").format(
                value=len(outcomes) - len(missing), count=len(outcomes), elapsed=elapsed))
        for channel in unconfirmed:
            say(_("UNCONFIRMED {channel}: check it on the platform, then `publish confirm {draft_id} "
                  "{channel} --url URL` if the post is there, or `publish send {draft_id} --resend "
                  "{channel}` if not.").format(channel=channel, draft_id=draft_id))
    if missing:
        from publisher.delivery.next_steps import not_delivered_sentence
        from publisher.drafting.drafts import load_draft
        from publisher.incident.freeze import freeze_holding

        app = session().app
        states = {o.channel: o.state for o in outcomes}
        frozen = freeze_holding(app, load_draft(app, draft_id).draft.incident) is not None
        raise NotDelivered(not_delivered_sentence(draft_id, states, frozen=frozen))


def send_each(draft_ids: list[str], actor: str, as_json: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """Deliver several drafts one after the other: the JSON summaries (with --json) and
    what was left short, one sentence per draft."""
    from publisher.errors import NotDelivered

    summaries: list[dict[str, Any]] = []
    problems = []
    for draft_id in draft_ids:
        try:
            deliver(draft_id, actor=actor, as_json=as_json, collect=summaries if as_json else None)
        except NotDelivered as error:
            problems.append(f"draft {draft_id}: {error}")
    return summaries, problems


def record_summary(record: DraftRecord) -> dict[str, Any]:
    draft = record.draft
    return {"id": draft.id, "incident": draft.incident, "case": draft.case, "template": draft.template,
            "language": draft.language, "author": draft.author, "status": record.status,
            "created_at": record.created_at.isoformat(), "approved_by": sorted(set(record.valid_approvers())),
            "channels": {name: delivery.state for name, delivery in record.deliveries.items()}}
