"""`publish log` and `publish log verify`."""
from __future__ import annotations

import click

from publisher.cli.output import emit_json, say
from publisher.i18n import N_, _


def _summary(data: dict) -> str:
    keys = ("case", "first_seen", "template", "attempt", "id", "url", "reason", "hash", "by", "note")
    shown = [f"{key}={str(data[key])[:60]}" for key in keys if data.get(key) not in (None, "")]
    return " ".join(shown)


@click.group("log", invoke_without_command=True)
@click.option("--incident", metavar="ID", help=N_("Only this incident's events."))
@click.option("-n", "count", type=click.IntRange(min=1, max=2**63 - 1), metavar="N", help=N_("Only the last N events."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
@click.pass_context
def log(ctx: click.Context, incident: str | None, count: int | None, as_json: bool) -> None:
    """Show the log (oldest first); `publish log verify` checks its hash chain."""
    if ctx.invoked_subcommand is not None:
        return
    from publisher.cli.session import session

    events = session().app.store.events(incident=incident, limit=count, newest_first=True)
    events.reverse()
    if as_json:
        emit_json([event.as_dict() for event in events])
        return
    from publisher.timeparse import for_people

    zone = session().app.config.timezone
    for event in events:
        who = " " + _("by {who}").format(who=event.actor) if event.actor else ""
        where = " ".join(part for part in (
            _("incident {id}").format(id=event.incident) if event.incident else "",
            _("draft {id}").format(id=event.draft) if event.draft else "",
            _("channel {name}").format(name=event.channel) if event.channel else "") if part)
        when = for_people(event.ts, zone)
        say(f"#{event.seq:<5} {when}  {event.kind:<20} {where}{who}  {_summary(event.data)}".rstrip())


@log.command("verify")
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def verify(as_json: bool) -> None:
    """Check that no event was edited, deleted or reordered; exit 1 naming the first bad row."""
    from publisher.cli.session import session
    from publisher.drafting.integrity import verify_with_trust
    from publisher.errors import CheckFailed
    from publisher.workspace.witness import outside_problems, verified_words

    app = session().app
    result, bad = verify_with_trust(app)
    outside = (list(result.future) + outside_problems(app)) if result.ok else []
    if as_json:
        emit_json({"ok": result.ok and not bad and not outside, "rows": result.rows, "head": result.head,
                   "problem": result.problem, "bad_row": result.bad_seq,
                   "trust_problems": bad, "outside_problems": outside, "note": result.note})
    elif result.note:
        say(result.note)
    if not as_json and result.ok and not bad and not outside:
        signed = _(" and every signature") if app.config.signing == "ssh" else ""
        say(_("Log intact{signed}: {rows} events, head {head}{verified_words}.").format(
                signed=signed, rows=result.rows, head=result.head, verified_words=verified_words(app)))
    if not result.ok:
        raise CheckFailed(_("log verification failed at {problem}; the {rows} events before it are intact.").format(
                              problem=result.problem, rows=result.rows))
    if bad:
        raise CheckFailed(_("log verification failed at {value}.").format(value=bad[0]))
    if outside:
        raise CheckFailed(_("log verification failed: {value}.").format(value=outside[0]))



@log.command("witness")
def witness() -> None:
    """Time-stamp the log's head with the TSA now, if an approval or delivery is not yet witnessed."""
    from publisher.cli.session import session
    from publisher.i18n import _
    from publisher.workspace.witness import witness_now

    event = witness_now(session().app)
    if event is None:
        say(_("Nothing to witness: every approval and delivery is already covered by a time-stamp."))
    else:
        say(_("Witnessed the log up to row {seq} at {time} ({tsa}).").format(
            seq=event.data["seq"], time=event.data["time"], tsa=event.data["tsa"]))


COMMANDS = [log]
