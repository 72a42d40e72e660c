"""`publish inbox`: what listening heard, and working it (attach, detach, assign, handle, ignore)."""
from __future__ import annotations

import re
from typing import Any

import click

from publisher.cli.output import emit_json, say, table, when
from publisher.cli.session import session
from publisher.i18n import N_, _

SHOWN_TEXT = 80
ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])")
AS_OPTION = click.option("--as", "as_user", metavar="NAME", help=N_("Who does it (else $PUBLISH_USER, else your login)."))


def safe_line(text: str, limit: int = SHOWN_TEXT) -> str:
    """A source's text as one terminal-safe line: no control character, no escape sequence."""
    from channels.heard_text import clean_line

    return clean_line(ESCAPES.sub("", text), limit)


@click.group("inbox", invoke_without_command=True)
@click.option("--incident", metavar="ID", help=N_("Only the items of this incident."))
@click.option("--negative", is_flag=True, help=N_("Only negative items."))
@click.option("--unanswered", is_flag=True, help=N_("Only items not yet answered, handled or ignored."))
@click.option("-n", "count", type=click.IntRange(min=1, max=1_000_000), default=50, show_default=True, metavar="N",
              help=N_("Only the newest N items."))
@click.option("--all", "show_all", is_flag=True, help=N_("Every item."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
@click.pass_context
def inbox(ctx: click.Context, incident: str | None, negative: bool, unanswered: bool, count: int, show_all: bool,
          as_json: bool) -> None:
    """What listening heard, newest first: author, platform time, incident and state."""
    if ctx.invoked_subcommand is not None:
        return
    from publisher.incident.inbox import inbox as read_inbox

    found = read_inbox(session().app, incident=incident, negative=negative, unanswered=unanswered,
                       limit=None if show_all else count)
    if as_json:
        emit_json([item.as_dict() for item in found])
        return
    if not found:
        say(_("Nothing heard yet.") if not (incident or negative or unanswered) else _("No item matches."))
        return
    table([[f"#{item.seq}", item.platform, safe_line(item.author, 30) or "-",
            when(item.platform_time) if item.platform_time else "-", item.incident or "-",
            _state(item), safe_line(item.text)] for item in found],
          [_("ITEM"), _("PLATFORM"), _("AUTHOR"), _("PLATFORM TIME"), _("INCIDENT"), _("STATE"), _("TEXT")])


def _state(item: Any) -> str:
    """The item's state in words."""
    if item.state == "assigned":
        return _("assigned to {name}").format(name=item.assignee)
    return {"new": _("new"), "answered": _("answered"), "handled": _("handled"),
            "ignored": _("ignored")}.get(item.state, item.state)


def _done(item: Any, as_json: bool, sentence: str) -> None:
    if as_json:
        emit_json(item.as_dict())
    else:
        say(sentence)


@inbox.command("attach")
@click.argument("key", metavar="ITEM")
@click.option("--incident", "incident_id", required=True, metavar="ID", help=N_("The incident it belongs to."))
@AS_OPTION
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def inbox_attach(key: str, incident_id: str, as_user: str | None, as_json: bool) -> None:
    """Attach ITEM (#N or platform:id) to an incident."""
    from publisher.incident.inbox import attach
    from publisher.workspace.app import current_user

    item = attach(session().app, key, incident_id, current_user(as_user))
    _done(item, as_json, _("Item #{seq} now belongs to incident {id}.").format(seq=item.seq, id=incident_id))


@inbox.command("detach")
@click.argument("key", metavar="ITEM")
@AS_OPTION
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def inbox_detach(key: str, as_user: str | None, as_json: bool) -> None:
    """Detach ITEM from its incident; it goes back to the workspace's stream."""
    from publisher.incident.inbox import detach
    from publisher.workspace.app import current_user

    item = detach(session().app, key, current_user(as_user))
    _done(item, as_json, _("Item #{seq} belongs to no incident now.").format(seq=item.seq))


@inbox.command("assign")
@click.argument("key", metavar="ITEM")
@click.argument("person", metavar="NAME")
@AS_OPTION
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def inbox_assign(key: str, person: str, as_user: str | None, as_json: bool) -> None:
    """Give ITEM to NAME to answer."""
    from publisher.incident.inbox import assign
    from publisher.workspace.app import current_user

    item = assign(session().app, key, person, current_user(as_user))
    _done(item, as_json, _("Item #{seq} is assigned to {name}.").format(seq=item.seq, name=person))


@inbox.command("handle")
@click.argument("key", metavar="ITEM")
@click.option("--note", required=True, metavar="TEXT", help=N_("How it was handled (by phone, in private...)."))
@AS_OPTION
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def inbox_handle(key: str, note: str, as_user: str | None, as_json: bool) -> None:
    """Mark ITEM handled outside the tool, saying how."""
    from publisher.incident.inbox import close
    from publisher.workspace.app import current_user

    item = close(session().app, key, "item.handled", note, current_user(as_user))
    _done(item, as_json, _("Item #{seq} is handled.").format(seq=item.seq))


@inbox.command("ignore")
@click.argument("key", metavar="ITEM")
@click.option("--reason", required=True, metavar="TEXT", help=N_("Why it needs no answer."))
@AS_OPTION
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def inbox_ignore(key: str, reason: str, as_user: str | None, as_json: bool) -> None:
    """Mark ITEM ignored, saying why."""
    from publisher.incident.inbox import close
    from publisher.workspace.app import current_user

    item = close(session().app, key, "item.ignored", reason, current_user(as_user))
    _done(item, as_json, _("Item #{seq} is ignored.").format(seq=item.seq))


@inbox.command("show")
@click.argument("key", metavar="ITEM")
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def inbox_show(key: str, as_json: bool) -> None:
    """One item in full: its text, where and when it was said, and what was done about it."""
    from publisher.incident.inbox import history, item

    app = session().app
    found = item(app, key)
    events = history(app, found.key)
    if as_json:
        emit_json({**found.as_dict(), "history": [event.as_dict() for event in events]})
        return
    say(_("Item #{seq} ({key}) on {platform}, by {author}, at {time}; heard by {source} at {read}.").format(
        seq=found.seq, key=safe_line(found.key, 200), platform=found.platform,
        author=safe_line(found.author, 60) or "-",
        time=when(found.platform_time) if found.platform_time else _("an unknown time"), source=found.source,
        read=when(found.read_at)))
    if found.url:
        say(safe_line(found.url, 500))
    say(_("Incident: {incident}; state: {state}.").format(incident=found.incident or "-", state=_state(item=found)))
    say("")
    for line in found.text.split("\n"):
        say("  " + safe_line(line, 2000))
    say("")
    for event in events:
        shown = " ".join(f"{name}={safe_line(str(value), 80)}" for name, value in event.data.items()
                         if name in ("to", "note", "reason", "draft", "post", "approvals") and value is not None)
        say(f"#{event.seq:<6} {when(event.ts)}  {event.kind:<14} {event.actor or '-'}  {shown}".rstrip())


COMMANDS = [inbox]
