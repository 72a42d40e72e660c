"""`publish incident open|list|show|edit|void|resolve|listen`."""
from __future__ import annotations

from pathlib import Path

import click

from publisher.cli.output import emit_json, say, warn, when
from publisher.cli.session import key_option, session
from publisher.errors import NotDelivered
from publisher.evidence.state_words import state_word
from publisher.i18n import N_, _


@click.group("incident")
def incident() -> None:
    """Open, list, show, correct, void and resolve incidents."""


@incident.command("open")
@click.option("--case", type=int, required=True, metavar="N", help=N_("1-4: which playbook applies."))
@click.option("--first-seen", metavar="ISO8601",
              help=N_("Time of the first negative message, with its UTC offset (the clock starts here); "
                      "without it, the time of the --source post as its platform gives it."))
@click.option("--source", metavar="URL",
              help=N_("Where the first negative message is: a post on X, Mastodon, Bluesky or Facebook, or a "
                      "news or blog page."))
@click.option("--author", metavar="HANDLE", help=N_("Who wrote it."))
@click.option("--platform", metavar="NAME", help=N_("Platform it appeared on (x, facebook, ...)."))
@click.option("--summary", metavar="TEXT", help=N_("What happened, in a few words (used by the templates)."))
@click.option("--what", metavar="PHRASE",
              help=N_("What happened as a short noun phrase the templates put inside their sentences, in the "
                   "incident's language: \"la caída del sistema de pagos\", \"the payment system outage\" "
                   "(lower case, no full stop, at most 14 words)."))
@click.option("--what-en", metavar="PHRASE", help=N_("The same phrase in English, to render in English too."))
@click.option("--what-es", metavar="PHRASE", help=N_("The same phrase in Spanish, to render in Spanish too."))
@click.option("--lang", metavar="LANG", help=N_("Language of the response (default: the organisation's)."))
@click.option("--severity", type=click.Choice(["single", "crisis"]), default="crisis", show_default=True,
              help=N_("single: an isolated complaint; crisis: the full playbook."))
@click.option("--confirm", is_flag=True,
              help=N_("Accept a --first-seen over 7 days ago or whose day and month could be swapped."))
@click.option("--listen", "listen_rules", multiple=True, metavar="KEYWORD|@HANDLE",
              help=N_("What the incident listens for: heard items matching it belong to it; repeatable."))
@click.option("--as", "as_user", metavar="NAME", help=N_("Who opens it (else $PUBLISH_USER, else your login)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def incident_open(case: int, first_seen: str | None, source: str | None, author: str | None, platform: str | None,
                  summary: str | None, what: str | None, what_en: str | None, what_es: str | None,
                  lang: str | None, severity: str, confirm: bool, listen_rules: tuple[str, ...],
                  as_user: str | None, as_json: bool) -> None:
    """Open an incident from its first negative message."""
    from publisher.drafting.phrasing import what_phrases
    from publisher.drafting.cautions import opening_cautions
    from publisher.delivery.listening import keep_source_post
    from publisher.incident.incidents import open_incident
    from publisher.incident.listen_rules import change_rules, checked_rule
    from publisher.workspace.app import current_user

    app = session().app
    actor = current_user(as_user)
    rules = [checked_rule(rule) for rule in listen_rules]
    phrases = what_phrases(lang or app.config.language, what, {"en": what_en, "es": what_es})
    opened = open_incident(app, case=case, first_seen=first_seen, actor=actor, source=source, author=author,
                           platform=platform, summary=summary, language=lang, severity=severity, what=phrases,
                           confirm=confirm)
    keep_source_post(app, opened, actor)
    if rules:
        change_rules(app, opened.id, rules, [], actor)
    frozen = _frozen_by(app, opened.id)
    warn(opening_cautions(app, opened), as_json)
    brief = _brief_advisor(app, opened, actor)
    if as_json:
        emit_json({**opened.as_dict(), "frozen": frozen is not None, "advisor_brief": brief})
    else:
        prepare = opened.prepare_deadline(app.config.prepare_hours)
        publish = opened.prepare_deadline(app.config.publish_hours)
        say(_("Opened incident {id} (case {case}, {severity}), first negative message at {first_seen}.").format(
                id=opened.id, case=opened.case, severity=opened.severity,
                first_seen=when(opened.first_seen)))
        if opened.first_seen_from == "platform":
            say(_("That is the source post's own time, from the platform ({platform}).").format(
                platform=opened.platform or "web"))
        say(_("Prepare by {prepare} ({prepare_hours:g} h); publish everywhere by {publish} "
              "({publish_hours:g} h).").format(
                prepare=when(prepare), prepare_hours=app.config.prepare_hours,
                publish=when(publish), publish_hours=app.config.publish_hours))
        if frozen is not None:
            say(_("Publishing is frozen (case {case} stops all outgoing communication); an approver lifts "
                  "it with: publish unfreeze --reason TEXT").format(case=opened.case))
        if brief is not None:
            _say_brief(brief)
        say(_("Checklist: publish status {id}").format(id=opened.id))
        say(_("Next: publish --case {case} --template KIND").format(case=opened.case))
    if brief and brief.get("not_delivered"):
        from publisher.delivery.next_steps import not_delivered_sentence

        states = {outcome["channel"]: outcome["state"] for outcome in brief["deliveries"]}
        raise NotDelivered(_("the PR advisor brief: {not_delivered_sentence}").format(
                               not_delivered_sentence=not_delivered_sentence(brief['draft'], states)))


def _frozen_by(app, incident_id: str):
    from publisher.incident.freeze import active_freezes

    return next((event for event in active_freezes(app) if event.incident == incident_id), None)


def _brief_advisor(app, opened, actor: str) -> dict | None:
    """Case 4: render the advisor brief for the internal channels and send it at once."""
    from publisher.delivery.engine import send_draft
    from publisher.drafting.advisor import advisor_brief, briefs_advisor
    from publisher.errors import BadInput, Refused

    if not briefs_advisor(app, opened):
        return None
    try:
        record, _ = advisor_brief(app, opened, actor)
    except BadInput as error:
        return {"draft": None, "problem": str(error)}
    draft_id = record.draft.id
    try:
        outcomes = send_draft(app, draft_id, actor, sleep=session().sleep)
    except Refused as error:
        return {"draft": draft_id, "problem": str(error), "deliveries": []}
    missing = [outcome.channel for outcome in outcomes if outcome.state != "delivered"]
    return {"draft": draft_id, "deliveries": [vars(outcome) for outcome in outcomes], "not_delivered": missing}


def _say_brief(brief: dict) -> None:
    if brief.get("problem"):
        say(_("WARNING: the PR advisor was not briefed: {problem}").format(problem=brief['problem']))
        if brief.get("draft"):
            say(_("The brief is draft {draft}: publish send {draft}").format(draft=brief['draft']))
        else:
            say(_("Once an internal channel is enabled: publish --case 4 --template advisor"))
        return
    for outcome in brief["deliveries"]:
        where = outcome["url"] or outcome["detail"]
        say(_("PR advisor brief (draft {draft}) on {channel}: {state} - {where}").format(
                draft=brief['draft'], channel=outcome['channel'], state=outcome['state'], where=where))


@incident.command("edit", short_help=N_("Correct an incident's first negative message, summary or source."))
@click.argument("incident_id", metavar="ID")
@click.option("--first-seen", metavar="ISO8601", help=N_("The corrected time of the first negative message."))
@click.option("--summary", metavar="TEXT", help=N_("The corrected summary."))
@click.option("--source", metavar="URL", help=N_("The corrected source post."))
@click.option("--reason", required=True, metavar="TEXT", help=N_("Why the record is corrected (logged, in the report)."))
@click.option("--confirm", is_flag=True, help=N_("Accept a --first-seen over 7 days ago or before the source post."))
@click.option("--as", "as_user", metavar="NAME", help=N_("Who corrects it (an approver)."))
@key_option
@click.option("--json", "as_json", is_flag=True, help=N_("Print the recorded event as JSON."))
def incident_edit(incident_id: str, first_seen: str | None, summary: str | None, source: str | None, reason: str,
                  confirm: bool, as_user: str | None, key: Path | None, as_json: bool) -> None:
    """Correct an incident (approvers only): the original value, the correction, who and
    why stay in the log and the report; deadlines follow a corrected --first-seen."""
    from publisher.i18n import _
    from publisher.incident.corrections import edit_incident
    from publisher.workspace.app import current_user

    app = session().app
    corrected, event = edit_incident(app, incident_id, current_user(as_user), reason, first_seen=first_seen,
                                     summary=summary, source=source, confirm=confirm, key=key)
    if as_json:
        emit_json(event.as_dict())
        return
    for field, change in event.data["changes"].items():
        say(_("Corrected incident {id}: {field} was {old}, is now {new} ({actor}: {reason}).").format(
            id=corrected.id, field=field.replace("_", "-"), old=change["from"] or "-", new=change["to"] or "-",
            actor=event.actor, reason=event.data["reason"]))
    if "first_seen" in event.data["changes"]:
        say(_("Deadlines now count from {start}: prepare by {prepare}, publish everywhere by {publish}.").format(
            start=when(corrected.first_seen), prepare=when(corrected.prepare_deadline(app.config.prepare_hours)),
            publish=when(corrected.prepare_deadline(app.config.publish_hours))))


@incident.command("void", short_help=N_("Void an incident opened by mistake (approvers only, signed)."))
@click.argument("incident_id", metavar="ID")
@click.option("--reason", required=True, metavar="TEXT", help=N_("Why the incident is void (logged, in the report)."))
@click.option("--as", "as_user", metavar="NAME", help=N_("Who voids it (an approver)."))
@key_option
@click.option("--json", "as_json", is_flag=True, help=N_("Print the recorded event as JSON."))
def incident_void(incident_id: str, reason: str, as_user: str | None, key: Path | None, as_json: bool) -> None:
    """Void an incident opened by mistake (approvers only): it stays in the log and in
    `incident list --all`, shown as void, with no verdict, no new drafts and no sends."""
    from publisher.incident.corrections import void_incident
    from publisher.workspace.app import current_user

    voided, event = void_incident(session().app, incident_id, current_user(as_user), reason, key=key)
    if as_json:
        emit_json(event.as_dict())
        return
    say(_("Voided incident {id} ({actor}: {reason}); it stays in the log and in `publish incident list --all`, "
          "with no verdict, no new drafts and no sends.").format(id=voided.id, actor=event.actor,
                                                                  reason=event.data["reason"]))


@incident.command("listen")
@click.argument("incident_id", metavar="ID")
@click.option("--add", multiple=True, metavar="KEYWORD|@HANDLE", help=N_("A rule to add; repeatable."))
@click.option("--remove", multiple=True, metavar="KEYWORD|@HANDLE", help=N_("A rule to remove; repeatable."))
@click.option("--as", "as_user", metavar="NAME", help=N_("Who changes them (else $PUBLISH_USER, else your login)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def incident_listen(incident_id: str, add: tuple[str, ...], remove: tuple[str, ...], as_user: str | None,
                    as_json: bool) -> None:
    """Show or change what incident ID listens for (keywords and @handles)."""
    from publisher.incident.listen_rules import change_rules, rules
    from publisher.workspace.app import current_user

    app = session().app
    if add or remove:
        current = change_rules(app, incident_id, list(add), list(remove), current_user(as_user))
    else:
        from publisher.incident.incidents import load_incident

        load_incident(app, incident_id)
        current = rules(app, incident_id).get(incident_id, [])
    if as_json:
        emit_json({"incident": incident_id, "rules": current})
        return
    say(_("Incident {id} listens for: {rules}.").format(id=incident_id, rules=", ".join(current) or _("nothing")))


@incident.command("list")
@click.option("--all", "show_all", is_flag=True, help=N_("Include void incidents."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def incident_list(show_all: bool, as_json: bool) -> None:
    """List incidents (void ones only with --all)."""
    from publisher.cli.streamed import streamed_json, streamed_table
    from publisher.incident.incidents import IncidentStream

    items = IncidentStream(session().app, include_void=show_all)
    if as_json:
        streamed_json(item.as_dict() for item in items)
        return
    if next(iter(items), None) is None:
        say(_("No incidents. Open one with: publish incident open --case N --first-seen TIME"))
    else:
        streamed_table(lambda: ([i.id, str(i.case), state_word(i.state), state_word(i.severity), when(i.first_seen),
                                 i.summary or ""] for i in items),
                       [_("id"), _("case"), _("state"), _("severity"), _("first seen"), _("summary")])
    hidden = 0 if show_all else items.void_count()
    if hidden:
        say(_("{count} void incident(s) not shown; `publish incident list --all` shows them.").format(count=hidden))


@incident.command("show")
@click.argument("incident_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def incident_show(incident_id: str, as_json: bool) -> None:
    """Show one incident."""
    from publisher.incident.incidents import load_incident

    item = load_incident(session().app, incident_id)
    if as_json:
        emit_json(item.as_dict())
        return
    times = ("first_seen", "opened_at", "resolved_at")
    for key, value in item.as_dict().items():
        if value is None:
            continue
        if key == "source_post":
            shown = _("{platform} post by {author} at {at}: {text}").format(
                platform=value.get("platform", ""), author=value.get("author") or "?",
                at=when(value["platform_time"]) if value.get("platform_time") else "?",
                text=" ".join(str(value.get("text", "")).split())[:200])
        elif key == "first_seen_from":
            shown = first_seen_word(value)
        elif key == "void":
            shown = _("voided by {by} at {at}: {reason}").format(by=value["by"], at=when(value["at"]),
                                                                 reason=value["reason"])
        else:
            shown = when(value) if key in times else state_word(value) if key in ("state", "severity") else value
        say(f"{_(FIELDS.get(key, key))}: {shown}")


FIELDS = {"id": N_("id"), "case": N_("case"), "first_seen": N_("first seen"), "opened_at": N_("opened at"),
          "opened_by": N_("opened by"), "language": N_("language"), "severity": N_("severity"),
          "source": N_("source"), "author": N_("author"), "platform": N_("platform"), "summary": N_("summary"),
          "what": N_("what"), "state": N_("state"), "resolved_at": N_("resolved at"), "void": N_("void"),
          "first_seen_from": N_("first seen from"), "source_post": N_("source post")}


def first_seen_word(how: str) -> str:
    """How the time of the first negative message is known, in words."""
    return _("from the platform") if how == "platform" else _("declared")


@incident.command("resolve")
@click.argument("incident_id", metavar="ID")
@click.option("--note", metavar="TEXT", help=N_("How it ended."))
@click.option("--as", "as_user", metavar="NAME", help=N_("Who resolves it (else $PUBLISH_USER, else your login)."))
def incident_resolve(incident_id: str, note: str | None, as_user: str | None) -> None:
    """Mark an incident resolved."""
    from publisher.evidence.status import incident_status
    from publisher.incident.incidents import resolve_incident
    from publisher.workspace.app import current_user

    app = session().app
    resolve_incident(app, incident_id, current_user(as_user), note)
    say(_("Resolved incident {incident_id}.").format(incident_id=incident_id))
    left = [f"{item.id} ({state_word(item.state)})" for item in incident_status(app, incident_id).checklist
            if item.state in ("due", "late")]
    if left:
        say(_("Not done on the checklist: {names}; the report will show them.").format(names=', '.join(left)))
    say(_("Evidence: publish report {incident_id} --format html -o incident-{incident_id}.html").format(
            incident_id=incident_id))


COMMANDS = [incident]
