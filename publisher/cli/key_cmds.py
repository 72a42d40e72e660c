"""`publish keys add|revoke|list|export`: the SSH keys enrolled in the log."""
from __future__ import annotations

from pathlib import Path

import click

from publisher.cli.output import emit_json, say, table
from publisher.cli.session import key_option, session
from publisher.i18n import N_, _


@click.group("keys")
def keys() -> None:
    """The SSH keys enrolled in the log, which signed actions are checked against."""


@keys.command("add")
@click.argument("name", metavar="NAME")
@click.argument("public_key_file", metavar="PUBKEY_FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "as_user", metavar="NAME", help=N_("The approver who enrols it (else $PUBLISH_USER, else your login)."))
@key_option
def keys_add(name: str, public_key_file: Path, as_user: str | None, key: Path | None) -> None:
    """Enrol NAME's SSH public key, signed by an approver's own enrolled key."""
    from publisher.i18n import _
    from publisher.incident.keys import enrol_key
    from publisher.workspace.app import current_user

    event = enrol_key(session().app, name, public_key_file, current_user(as_user), key)
    say(_("Enrolled {name}'s key {fingerprint} (event #{seq}, by {actor}); config/allowed_signers was rewritten "
          "from the log.").format(name=name, fingerprint=event.data["fingerprint"], seq=event.seq, actor=event.actor))


@keys.command("revoke")
@click.argument("name", metavar="NAME")
@click.option("--as", "as_user", metavar="NAME", help=N_("The approver who revokes it (else $PUBLISH_USER, else your login)."))
@key_option
def keys_revoke(name: str, as_user: str | None, key: Path | None) -> None:
    """Revoke NAME's SSH keys: nothing they sign from now on counts (what they signed before does)."""
    from publisher.i18n import _
    from publisher.incident.keys import revoke_key
    from publisher.workspace.app import current_user

    for event in revoke_key(session().app, name, current_user(as_user), key):
        say(_("Revoked {name}'s key {fingerprint} (event #{seq}, by {actor}).").format(
            name=name, fingerprint=event.data["fingerprint"], seq=event.seq, actor=event.actor))


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def keys_list(as_json: bool) -> None:
    """List the keys the log enrols, and enrolments that do not count."""
    from publisher.incident.identity import keyring

    ring = keyring(session().app)
    if as_json:
        emit_json({"keys": [{"name": k.name, "scheme": k.scheme, "fingerprint": k.fingerprint, "seq": k.seq,
                             "by": k.by} for k in ring.keys],
                   "not_counted": [{"seq": seq, "reason": reason} for seq, reason in ring.problems]})
        return
    table([[k.name, k.scheme, k.fingerprint, f"#{k.seq}", k.by or ""] for k in ring.keys],
          [_("name"), _("scheme"), _("fingerprint"), _("enrolled"), _("by")])
    for seq, reason in ring.problems:
        say(f"#{seq}: {reason}")


@keys.command("export")
def keys_export() -> None:
    """Rewrite config/allowed_signers from the keys the log enrols."""
    from publisher.i18n import _
    from publisher.incident.keys import write_mirror

    path = write_mirror(session().app)
    say(_("Wrote {path} from the log.").format(path=path))


COMMANDS = [keys]
