"""`publish incident open|list|show|resolve`."""
from __future__ import annotations

import click

from publisher.cli.output import emit_json, say, table
from publisher.cli.session import session


@click.group("incident")
def incident() -> None:
    """Open, list, show and resolve incidents."""


@incident.command("open")
@click.option("--case", type=int, required=True, metavar="N", help="1-4: which playbook applies.")
@click.option("--first-seen", required=True, metavar="ISO8601",
              help="Time of the first negative message, with its UTC offset (the clock starts here).")
@click.option("--source", metavar="URL", help="Where the first negative message is.")
@click.option("--author", metavar="HANDLE", help="Who wrote it.")
@click.option("--platform", metavar="NAME", help="Platform it appeared on (x, facebook, ...).")
@click.option("--summary", metavar="TEXT", help="What happened, in a few words (used by the templates).")
@click.option("--lang", metavar="LANG", help="Language of the response (default: the organisation's).")
@click.option("--severity", type=click.Choice(["single", "crisis"]), default="crisis", show_default=True,
              help="single: an isolated complaint; crisis: the full playbook.")
@click.option("--as", "as_user", metavar="NAME", help="Who opens it (else $PUBLISH_USER, else your login).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def incident_open(case: int, first_seen: str, source: str | None, author: str | None, platform: str | None,
                  summary: str | None, lang: str | None, severity: str, as_user: str | None, as_json: bool) -> None:
    """Open an incident from its first negative message."""
    from publisher.app import current_user
    from publisher.incidents import open_incident

    app = session().app
    opened = open_incident(app, case=case, first_seen=first_seen, actor=current_user(as_user), source=source,
                           author=author, platform=platform, summary=summary, language=lang, severity=severity)
    if as_json:
        emit_json(opened.as_dict())
        return
    prepare = opened.prepare_deadline(app.config.prepare_hours)
    publish = opened.prepare_deadline(app.config.publish_hours)
    say(f"Opened incident {opened.id} (case {opened.case}), first negative message at "
        f"{opened.first_seen.isoformat()}.")
    say(f"Prepare by {prepare.isoformat()} ({app.config.prepare_hours:g} h); "
        f"publish everywhere by {publish.isoformat()} ({app.config.publish_hours:g} h).")
    say(f"Next: publish --case {opened.case} --template KIND")


@incident.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def incident_list(as_json: bool) -> None:
    """List incidents."""
    from publisher.incidents import list_incidents

    items = list_incidents(session().app)
    if as_json:
        emit_json([item.as_dict() for item in items])
        return
    if not items:
        say("No incidents. Open one with: publish incident open --case N --first-seen TIME")
        return
    table([[i.id, str(i.case), i.state, i.severity, i.first_seen.isoformat(), i.summary or ""] for i in items],
          ["id", "case", "state", "severity", "first seen", "summary"])


@incident.command("show")
@click.argument("incident_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def incident_show(incident_id: str, as_json: bool) -> None:
    """Show one incident."""
    from publisher.incidents import load_incident

    item = load_incident(session().app, incident_id)
    if as_json:
        emit_json(item.as_dict())
        return
    for key, value in item.as_dict().items():
        if value is not None:
            say(f"{key.replace('_', ' ')}: {value}")


@incident.command("resolve")
@click.argument("incident_id", metavar="ID")
@click.option("--note", metavar="TEXT", help="How it ended.")
@click.option("--as", "as_user", metavar="NAME", help="Who resolves it (else $PUBLISH_USER, else your login).")
def incident_resolve(incident_id: str, note: str | None, as_user: str | None) -> None:
    """Mark an incident resolved."""
    from publisher.app import current_user
    from publisher.incidents import resolve_incident

    resolve_incident(session().app, incident_id, current_user(as_user), note)
    say(f"Resolved incident {incident_id}.")


COMMANDS = [incident]
