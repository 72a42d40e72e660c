"""`publish report`: the evidence of one incident, in Markdown, HTML or JSON."""
from __future__ import annotations

import click

from publisher.cli.output import document, say
from publisher.cli.session import session
from publisher.i18n import N_, _


@click.command("report", short_help=N_("The evidence of an incident: md, html or json."))
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True,
              help=N_("Markdown, a self-contained HTML page with a timeline picture, or JSON."))
@click.option("-o", "--output", metavar="FILE", help=N_("Write to FILE instead of the terminal."))
@click.option("--verify", "scope", type=click.Choice(["incident", "full"]), default="incident", show_default=True,
              help=N_("incident: its events, their links and the head anchor; full: the whole chain."))
def report(incident_id: str, fmt: str, output: str | None, scope: str) -> None:
    """The compliance report: timeline, approvals, deliveries, PASS/FAIL against the
    12 h and 48 h deadlines, and the log's head hash with its verification; exit 1
    when the log does not verify."""
    from publisher.errors import CheckFailed
    from publisher.evidence.report import build_report, render
    from publisher.evidence.report_output import write_report

    current = session()
    data = build_report(current.app, incident_id, scope)
    text = current.redact(render(data, fmt))
    if output:
        write_report(current.app, output, text)
        say(_("Wrote the {fmt} report of incident {incident_id} to {output}.").format(
                fmt=fmt, incident_id=incident_id, output=output))
    else:
        document(text)
    if not data["log"]["ok"]:
        raise CheckFailed(_("the log does not verify: {problem}; the report says so.").format(
                              problem=data['log']['problem']))


COMMANDS = [report]
