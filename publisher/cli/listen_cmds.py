"""`publish listen --once [NAME]`: read each listening source once (for a timer, and tests)."""
from __future__ import annotations

import click

from publisher.cli.output import emit_json, say, table
from publisher.cli.session import session
from publisher.i18n import N_, _


@click.command("listen")
@click.argument("name", required=False, metavar="[NAME]")
@click.option("--once", is_flag=True, help=N_("Read each source (or NAME) once, store what is new and stop."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def listen(name: str | None, once: bool, as_json: bool) -> None:
    """Read the listening sources ([listen.NAME]) once; `publish worker` reads them all the time."""
    from publisher.delivery.listening import listen_sources
    from publisher.errors import BadInput

    if not once:
        raise click.UsageError(_("listening runs in `publish worker`; `publish listen --once [NAME]` reads once."))
    app = session().app
    names = [name] if name else sorted(app.config.sources)
    if not names:
        raise BadInput(_("no [listen.NAME] source in config/publisher.toml; add one (see README, Listening)."))
    results, told = listen_sources(app, names)
    if as_json:
        emit_json([vars(result) for result in results])
    else:
        for key in told:
            say(_("The cabinet was told: {alert}.").format(alert=key))
        words = {"ok": _("read"), "retry": _("retry later"), "stopped": _("stopped")}
        table([[result.source, str(result.read), str(result.new), words[result.outcome], result.reason or "-"]
               for result in results], [_("SOURCE"), _("READ"), _("NEW"), _("OUTCOME"), _("WHY")])
    if any(result.outcome == "stopped" for result in results):
        from publisher.errors import Refused

        stopped = next(result for result in results if result.outcome == "stopped")
        raise Refused(_("the source {name} stopped: {reason}.").format(name=stopped.source,
                                                                      reason=stopped.reason.rstrip(".")))


@click.command("source")
@click.argument("url")
@click.option("--incident", "incident_id", metavar="ID", help=N_("The incident the post belongs to."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def source(url: str, incident_id: str | None, as_json: bool) -> None:
    """Read one post from its platform or page by URL and keep it as a heard item, with the platform's own time."""
    from publisher.delivery.listening import SOURCE_POSTS, record_source_post
    from publisher.incident.authority import require_role
    from publisher.incident.incidents import load_incident
    from publisher.incident.source_lookup import read_source_post
    from publisher.workspace.app import current_user

    app = session().app
    actor = current_user(None)
    require_role(app, actor, "inbox")
    if incident_id is not None:
        load_incident(app, incident_id)
    heard = read_source_post(app, url)
    new = record_source_post(app, heard, incident_id, actor)
    shown = {"key": heard.key, "source": SOURCE_POSTS, "platform": heard.platform, "author": heard.author,
             "url": heard.url, "platform_time": heard.platform_time, "incident": incident_id, "new": bool(new)}
    if as_json:
        emit_json(shown)
    elif new:
        say(_("Kept {key} ({platform}, by {author}, said at {time}) as a heard item; `publish inbox` shows it.").format(
            key=heard.key, platform=heard.platform, author=heard.author or "-", time=heard.platform_time or "-"))
    else:
        say(_("The log already holds {key}; nothing was added.").format(key=heard.key))


COMMANDS = [listen, source]
