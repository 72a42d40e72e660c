"""`publish init` and `publish status`."""
from __future__ import annotations

from pathlib import Path

import click

from publisher.cli.output import emit_json, say, table
from publisher.cli.session import session


@click.command("init")
@click.argument("directory", metavar="[DIR]", required=False, default=".")
def init(directory: str) -> None:
    """Create a workspace: config/publisher.toml, templates/ for overrides, var/. When you
    have an SSH key, signing is turned on and your key is enrolled in the log."""
    from publisher.cli.init_view import say_signing
    from publisher.incident.keys import init_signing
    from publisher.workspace.app import App, current_user
    from publisher.workspace.init import create_workspace

    created = create_workspace(Path(directory))
    say(f"Created a workspace in {created}.")
    say_signing(init_signing(App(created), current_user()))
    say(f"Edit {created / 'config' / 'publisher.toml'}, then: publish --workspace {created} incident open ...")


@click.command("status", short_help="Clocks, deadlines, channels and the checklist.")
@click.argument("incident_id", metavar="[INCIDENT]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(incident_id: str | None, as_json: bool) -> None:
    """Clocks, deadlines, public channels and the case's checklist of an incident
    (default: every open one), with warnings when a deadline is less than 2 h away."""
    from publisher.evidence.status import incident_status
    from publisher.incident.incidents import list_incidents

    app = session().app
    ids = [incident_id] if incident_id else [i.id for i in list_incidents(app) if i.state != "resolved"]
    reports = [incident_status(app, one) for one in ids]
    if as_json:
        emit_json([report.as_dict() for report in reports])
        return
    if not reports:
        say("No open incident.")
    for report in reports:
        _print_status(report)


CHANNEL_WORDS = {"delivered": "delivered", "unknown": "unconfirmed", "sending": "unconfirmed",
                 "failed-permanent": "failing", "failed-retryable": "failing", "pending": "not sent",
                 "not sent": "not sent"}


def _print_status(report) -> None:
    from publisher.incident.cases import get_case
    from publisher.timeparse import hours, human_hours, iso

    incident = report.incident
    title = get_case(incident.case, session().app.workspace).title
    say(f"Incident {incident.id}: case {incident.case} ({title}), {incident.state}, severity {incident.severity}")
    say(f"First negative message {iso(incident.first_seen)}, {human_hours(hours(report.now - incident.first_seen))} ago"
        + (f" - {incident.source}" if incident.source else ""))
    for clock in (report.prepared, report.published):
        label = "Prepared " if clock.name == "prepare" else "Published"
        if clock.done_at is not None:
            say(f"{label}: after {human_hours(clock.after_hours)} (limit {clock.limit_hours:g} h) {clock.verdict}")
        elif clock.waived:
            say(f"{label}: WAIVED by decision not to answer ({clock.waived['by']}, {clock.waived['at']})")
        elif clock.verdict == "LATE":
            say(f"{label}: not yet, {human_hours(-clock.hours_left)} late (limit {clock.limit_hours:g} h) LATE")
        else:
            say(f"{label}: not yet, {human_hours(clock.hours_left)} left (limit {clock.limit_hours:g} h, "
                f"deadline {iso(clock.deadline)})")
    if incident.severity == "single":
        say("Severity single (an isolated complaint): the public reply is what is required; the 48 h proof covers "
            f"{', '.join(c.name for c in report.channels) or 'no channel'}.")
    if report.channels:
        table([[c.name, c.type, CHANNEL_WORDS.get(c.state, c.state), c.at or "", c.url or ""] for c in report.channels],
              ["public channel", "type", "state", "at", "url"])
    _print_undelivered(report)
    _print_approvals(report)
    _print_decision(report)
    _print_checklist(report)
    for warning in report.warnings:
        say(f"WARNING: {warning}")
    say(f"Evidence: publish report {incident.id} --format html -o incident-{incident.id}.html")
    say()


def _print_undelivered(report) -> None:
    from publisher.i18n import _

    if not report.undelivered:
        return
    say(_("Approved, not delivered everywhere:"))
    table([[item.draft, item.template, item.channel, item.state + (_(", held by a freeze") if item.held else ""),
            item.reason or ""] for item in report.undelivered],
          [_("draft"), _("template"), _("channel"), _("state"), _("why")])
    steps: dict[tuple[str, str], list[str]] = {}
    for item in report.undelivered:
        steps.setdefault((item.draft, item.next), []).append(item.channel)
    for (draft, step), channels in steps.items():
        say(_("  {draft} on {channels}: {step}").format(draft=draft, channels=", ".join(channels), step=step))


def _print_approvals(report) -> None:
    from publisher.drafting.attribution import approved_by, not_counted

    app = session().app
    for record in report.drafts:
        if record.approvals or record.unverified:
            say(f"Draft {record.draft.id} ({record.draft.template}) approved by: {approved_by(app, record)}")
        for line in not_counted(record):
            say(f"  {line}")


def _print_decision(report) -> None:
    if report.decision is not None:
        event = report.decision
        verb = "not to answer" if event.data.get("decision") == "ignore" else "to answer"
        say(f"Decision: {event.actor} decided {verb} at {event.ts}: {event.data.get('reason')}")


def _print_checklist(report) -> None:
    from publisher.timeparse import hours, human_hours, iso

    if not report.checklist:
        return
    say("Checklist:")
    rows = []
    last = {item.id: index for index, item in enumerate(report.checklist)}
    for index, item in enumerate(report.checklist):
        if item.done_at is not None:
            when = f"{iso(item.done_at)}" + (f" by {item.by}" if item.by else "")
        elif item.state == "late":
            when = f"{human_hours(hours(report.now - item.deadline))} late ({iso(item.deadline)})"
        elif item.deadline is not None and item.state == "due":
            when = f"{human_hours(hours(item.deadline - report.now))} left ({iso(item.deadline)})"
        elif item.state == "waived":
            when = f"by {item.by}" if item.by else ""
        else:
            when = "as soon as possible"
        markable = item.manual and item.done_at is None and item.state != "waived" and last[item.id] == index
        how = f"publish done {item.id}" if markable else ""
        note = item.note or how
        rows.append([item.state.upper(), item.id, item.title, when, note])
    table(rows, ["state", "step", "what", "when", "note / how"])


COMMANDS = [init, status]
