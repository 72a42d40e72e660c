"""`publish init` and `publish status`."""
from __future__ import annotations

from pathlib import Path

import click

from publisher.cli.output import emit_json, say, table
from publisher.cli.session import session


@click.command("init")
@click.argument("directory", metavar="[DIR]", required=False, default=".")
def init(directory: str) -> None:
    """Create a workspace: config/publisher.toml, templates/ for overrides, var/."""
    from publisher.workspace import create_workspace

    created = create_workspace(Path(directory))
    say(f"Created a workspace in {created}.")
    say(f"Edit {created / 'config' / 'publisher.toml'}, then: publish --workspace {created} incident open ...")


@click.command("status")
@click.argument("incident_id", metavar="[INCIDENT]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(incident_id: str | None, as_json: bool) -> None:
    """Clocks and deadlines of an incident (default: every open one)."""
    from publisher.incidents import list_incidents
    from publisher.status import incident_status

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


def _print_status(report) -> None:
    from publisher.cases import CASES
    from publisher.timeparse import hours, human_hours, iso

    incident = report.incident
    say(f"Incident {incident.id}: case {incident.case} ({CASES[incident.case].title}), {incident.state}")
    say(f"First negative message {iso(incident.first_seen)}, {human_hours(hours(report.now - incident.first_seen))} ago"
        + (f" - {incident.source}" if incident.source else ""))
    for clock in (report.prepared, report.published):
        label = "Prepared " if clock.name == "prepare" else "Published"
        if clock.done_at is not None:
            say(f"{label}: after {human_hours(clock.after_hours)} (limit {clock.limit_hours:g} h) {clock.verdict}")
        elif clock.verdict == "LATE":
            say(f"{label}: not yet, {human_hours(-clock.hours_left)} late (limit {clock.limit_hours:g} h) LATE")
        else:
            say(f"{label}: not yet, {human_hours(clock.hours_left)} left (limit {clock.limit_hours:g} h, "
                f"deadline {iso(clock.deadline)})")
    if report.channels:
        table([[c.name, c.type, c.state, c.at or "", c.url or ""] for c in report.channels],
              ["public channel", "type", "state", "at", "url"])
    for warning in report.warnings:
        say(f"WARNING: {warning}")


COMMANDS = [init, status]
