"""`publish serve` (the cabinet's web console) and `publish users invite|confirm|revoke`."""
from __future__ import annotations

from pathlib import Path

import click

from publisher.cli.output import say
from publisher.cli.people_cmds import CONTACT_WORDS, say_unsigned
from publisher.cli.session import key_option, session
from publisher.i18n import N_, _


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help=N_("Address to listen on (put a TLS proxy in front)."))
@click.option("--port", default=8400, show_default=True, type=click.IntRange(1, 65535), help=N_("Port to listen on."))
@click.option("--no-worker", is_flag=True, help=N_("Run no worker inside the console (one runs apart: `publish worker`)."))
@click.option("--public", is_flag=True, help=N_("Serve only what the public may read, without a login: /statements/ "
                                                "and /statements/feed.xml, from the log (no console, no worker)."))
@click.option("--site", "site", metavar="NAME", help=N_("With --public: the site channel whose statements are served "
                                                       "(default: the only one)."))
def serve(host: str, port: int, no_worker: bool, public: bool, site: str | None) -> None:
    """Run the cabinet's web console over this workspace and its store."""
    import uvicorn

    from publisher.web.server import create_app

    app = session().app
    if public:
        from publisher.web.public import create_public_app

        web = create_public_app(app, site)
        say(_("Public statements of {organisation} on http://{host}:{port}/statements/ (and feed.xml), from the "
              "log; nothing else is served.").format(organisation=app.config.organisation, host=host, port=port))
        uvicorn.run(web, host=host, port=port, log_level="warning", proxy_headers=True, server_header=False)
        return
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
    """People on the console: invite them to enrol a passkey, confirm it, revoke their access."""


@users.command("invite")
@click.argument("name")
@click.option("--in-person", is_flag=True, help=N_("Print the link for you to hand over in person, even when NAME "
                                                   "has a contact in the log."))
@click.option("--as", "as_user", metavar="NAME", help=N_("The approver who invites (else $PUBLISH_USER, else your "
                                                         "login)."))
@key_option
def invite(name: str, in_person: bool, as_user: str | None, key: Path | None) -> None:
    """Invite NAME to enrol a passkey (an approver, signed): the one-time link (valid 15
    minutes) goes to NAME's own e-mail or Telegram contact in the log; with no contact,
    or --in-person, it is printed for you to hand over in person. The passkey counts
    once another approver confirms it."""
    from publisher.delivery.direct import invite as send_invite
    from publisher.workspace.app import current_user

    app = session().app
    made, channel = send_invite(app, name, current_user(as_user), key, in_person)
    say_unsigned(app)
    until = made.expires.strftime("%Y-%m-%d %H:%M")
    if channel:
        say(_("Sent {name}'s one-time enrolment link to their own {contact} through {channel} (valid until {until} "
              "UTC).").format(name=name, contact=_(CONTACT_WORDS[made.delivery]), channel=channel, until=until))
    say(_("Once {name} has enrolled, another approver compares the fingerprint {name} sees and confirms it: "
          "publish users confirm {name} --fingerprint FINGERPRINT").format(name=name))
    if not channel:
        say(_("Enrolment link for {name}, valid until {until} UTC (one use); hand it over in person:").format(
            name=name, until=until))
        click.echo(made.link)


@users.command("confirm")
@click.argument("name")
@click.option("--fingerprint", metavar="FINGERPRINT", help=N_("The passkey's fingerprint as NAME reads it from "
                                                              "their enrolment page (at least 8 digits)."))
@click.option("--as", "as_user", metavar="NAME", help=N_("The approver who confirms (else $PUBLISH_USER, else your "
                                                         "login)."))
@key_option
def confirm(name: str, fingerprint: str | None, as_user: str | None, key: Path | None) -> None:
    """Confirm NAME's passkey (an approver other than NAME and the inviter, signed),
    after comparing its fingerprint and device with what NAME sees; it counts from then on."""
    from publisher.incident.people import confirm as confirm_passkey
    from publisher.workspace.app import current_user

    app = session().app
    event = confirm_passkey(app, name, current_user(as_user), fingerprint, key)
    say_unsigned(app)
    say(_("Confirmed {name}'s passkey {fingerprint} made on {device!r} (row {seq}, by {actor}); it counts from "
          "now on.").format(name=name, fingerprint=event.data["fingerprint"], device=event.data["device"],
                            seq=event.seq, actor=event.actor))


@users.command("revoke")
@click.argument("name")
@click.option("--as", "as_user", metavar="NAME", help=N_("The approver who revokes (else $PUBLISH_USER, else your "
                                                         "login)."))
@key_option
def revoke(name: str, as_user: str | None, key: Path | None) -> None:
    """Revoke NAME's console access (an approver, signed): every passkey, invitation and
    session of NAME ends at once, on every console server."""
    from publisher.incident.people import revoke as revoke_access
    from publisher.workspace.app import current_user

    app = session().app
    event = revoke_access(app, name, current_user(as_user), key)
    say_unsigned(app)
    say(_("Revoked {name}'s passkeys, invitations and console sessions (row {seq}, by {actor}).").format(
        name=name, seq=event.seq, actor=event.actor))


COMMANDS = [serve, users]
