"""`publish serve` (the cabinet's web console) and `publish users invite|revoke`."""
from __future__ import annotations

import click

from publisher.cli.output import say
from publisher.cli.session import session
from publisher.i18n import N_, _


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help=N_("Address to listen on (put a TLS proxy in front)."))
@click.option("--port", default=8400, show_default=True, type=click.IntRange(1, 65535), help=N_("Port to listen on."))
@click.option("--no-worker", is_flag=True, help=N_("Run no worker inside the console (one runs apart: `publish worker`)."))
def serve(host: str, port: int, no_worker: bool) -> None:
    """Run the cabinet's web console over this workspace and its store."""
    import uvicorn

    from publisher.web.server import create_app

    app = session().app
    say(_("Console for {organisation} on http://{host}:{port} (links use {base_url}).").format(
        organisation=app.config.organisation, host=host, port=port, base_url=app.config.console_base_url))
    inner = None if no_worker else _inner_worker(app)
    if inner is not None:
        import signal

        # uvicorn raises the SIGTERM it caught again once it has shut down: here it only
        # ends the server, so the worker below is stopped cleanly too
        signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        uvicorn.run(create_app(app), host=host, port=port, log_level="warning", proxy_headers=True,
                    server_header=False)
    finally:
        if inner is not None:
            inner[0].stop()
            inner[1].join(60)


def _inner_worker(app):
    """Start the console's own worker on a thread; None (said why) when the workspace
    already has its worker."""
    import threading

    from publisher.cli.worker_cmds import make_worker
    from publisher.errors import Refused

    worker = make_worker(app)
    started, refused = threading.Event(), []

    def run() -> None:
        try:
            worker.run(ready=started.set)
        except Refused as error:
            refused.append(str(error))
            started.set()

    thread = threading.Thread(target=run, name="worker", daemon=True)
    thread.start()
    started.wait(30)
    if refused:
        say(_("The console runs without a worker of its own: {reason}").format(reason=refused[0]))
        return None
    say(_("Worker {name} runs inside the console (`--no-worker` leaves it to `publish worker`).").format(
        name=worker.name))
    return worker, thread


@click.group("users")
def users() -> None:
    """People on the console: invite them to enrol a passkey, revoke their passkeys."""


@users.command("invite")
@click.argument("name")
@click.option("--send", "channel", metavar="CHANNEL", help=N_("Send the link over this internal channel too."))
@click.option("--as", "as_user", metavar="NAME", help=N_("Who invites (else $PUBLISH_USER, else your login)."))
def invite(name: str, channel: str | None, as_user: str | None) -> None:
    """Print a one-time link (valid 15 minutes) that enrols NAME's passkey."""
    from publisher.incident.people import invite as make_invite
    from publisher.workspace.app import current_user

    app = session().app
    token, link, expires = make_invite(app, name, current_user(as_user))
    if channel:
        from publisher.delivery.notify import notify

        notify(app, f"invite:{token[:8]}", _("Console invitation for {name}").format(name=name),
               _("{name}: enrol your passkey on the crisis console (valid 15 minutes): {link}").format(
                   name=name, link=link), only=(channel,))
        say(_("Sent {name}'s enrolment link over {channel}.").format(name=name, channel=channel))
    say(_("Enrolment link for {name}, valid until {until} UTC (one use):").format(
        name=name, until=expires.strftime("%Y-%m-%d %H:%M")))
    click.echo(link)


@users.command("revoke")
@click.argument("name")
@click.option("--as", "as_user", metavar="NAME", help=N_("Who revokes (else $PUBLISH_USER, else your login)."))
def revoke(name: str, as_user: str | None) -> None:
    """Revoke every passkey of NAME; their console sessions end."""
    from publisher.incident.people import revoke as revoke_keys
    from publisher.workspace.app import current_user

    revoked = revoke_keys(session().app, name, current_user(as_user))
    say(_("Revoked {count} passkey(s) of {name}.").format(count=len(revoked), name=name))


COMMANDS = [serve, users]
