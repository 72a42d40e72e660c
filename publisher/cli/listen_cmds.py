"""`publish listen --once [NAME]`: read each listening source once (for a timer, and tests)."""
from __future__ import annotations

import click

from publisher.cli.output import emit_json, table
from publisher.cli.session import session
from publisher.i18n import N_, _


@click.command("listen")
@click.argument("name", required=False, metavar="[NAME]")
@click.option("--once", is_flag=True, help=N_("Read each source (or NAME) once, store what is new and stop."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def listen(name: str | None, once: bool, as_json: bool) -> None:
    """Read the listening sources ([listen.NAME]) once; `publish worker` reads them all the time."""
    from publisher.delivery.listening import listen_once
    from publisher.errors import BadInput

    if not once:
        raise click.UsageError(_("listening runs in `publish worker`; `publish listen --once [NAME]` reads once."))
    app = session().app
    names = [name] if name else sorted(app.config.sources)
    if not names:
        raise BadInput(_("no [listen.NAME] source in config/publisher.toml; add one (see README, Listening)."))
    results = [listen_once(app, each) for each in names]
    if as_json:
        emit_json([vars(result) for result in results])
    else:
        words = {"ok": _("read"), "retry": _("retry later"), "stopped": _("stopped")}
        table([[result.source, str(result.read), str(result.new), words[result.outcome], result.reason or "-"]
               for result in results], [_("SOURCE"), _("READ"), _("NEW"), _("OUTCOME"), _("WHY")])
    if any(result.outcome == "stopped" for result in results):
        from publisher.errors import Refused

        stopped = next(result for result in results if result.outcome == "stopped")
        raise Refused(_("the source {name} stopped: {reason}.").format(name=stopped.source,
                                                                      reason=stopped.reason.rstrip(".")))


COMMANDS = [listen]
