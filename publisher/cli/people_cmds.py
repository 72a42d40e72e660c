"""`publish people add|remove|approve|list|export`: the cabinet in the log."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from publisher.cli.output import emit_json, say, table
from publisher.cli.session import key_option, session
from publisher.i18n import N_, _

CONTACT_WORDS = {"email": N_("e-mail address"), "telegram": N_("Telegram chat")}
AS_HELP = N_("The approver who signs it (else $PUBLISH_USER, else your login).")


@click.group("people")
def people() -> None:
    """The cabinet: who is in it, with which role and contact (in the log, changed by approvers)."""


@people.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["approver", "operator", "viewer"]),
              help=N_("approver (decides), operator (runs the playbook) or viewer (reads)."))
@click.option("--email", metavar="ADDR", help=N_("NAME's own e-mail address, for invitations and notices."))
@click.option("--telegram", metavar="CHAT", help=N_("NAME's own Telegram chat id, for invitations and notices."))
@click.option("--slack", metavar="USER", help=N_("NAME's Slack user id (U…), for notices as a direct message."))
@click.option("--as", "as_user", metavar="NAME", help=AS_HELP)
@key_option
def people_add(name: str, role: str | None, email: str | None, telegram: str | None, slack: str | None,
               as_user: str | None, key: Path | None) -> None:
    """Add NAME to the cabinet, or change their role or contact (an approver, signed).
    Adding or removing an approver, or raising a role, takes effect once [approvals]
    required approvers have signed it: this signature first, then `publish people approve CHANGE`."""
    from publisher.incident.membership import add
    from publisher.workspace.app import current_user

    app = session().app
    said(app, add(app, name, role, current_user(as_user), email, telegram, key, slack=slack))


@people.command("remove")
@click.argument("name")
@click.option("--as", "as_user", metavar="NAME", help=AS_HELP)
@key_option
def people_remove(name: str, as_user: str | None, key: Path | None) -> None:
    """Remove NAME from the cabinet (an approver, signed; an approver's removal needs
    [approvals] required signatures): their passkeys, invitations and sessions end."""
    from publisher.incident.membership import remove
    from publisher.workspace.app import current_user

    app = session().app
    said(app, remove(app, name, current_user(as_user), key))


@people.command("approve")
@click.argument("change", metavar="CHANGE")
@click.option("--as", "as_user", metavar="NAME", help=AS_HELP)
@key_option
def people_approve(change: str, as_user: str | None, key: Path | None) -> None:
    """Sign a waiting change of the cabinet (another approver than its proposer)."""
    from publisher.incident.membership import approve
    from publisher.workspace.app import current_user

    app = session().app
    said(app, approve(app, change, current_user(as_user), key))


@people.command("quorum")
@click.argument("required", type=int)
@click.option("--as", "as_user", metavar="NAME", help=AS_HELP)
@key_option
def people_quorum(required: int, as_user: str | None, key: Path | None) -> None:
    """Make drafts need REQUIRED approvals, and changes of the cabinet as many signatures
    (an approver, signed; takes effect once the quorum in force has signed it)."""
    from publisher.incident.membership import set_quorum
    from publisher.workspace.app import current_user

    app = session().app
    said(app, set_quorum(app, required, current_user(as_user), key))


@people.command("list")
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def people_list(as_json: bool) -> None:
    """The people the log has, their roles, contacts and passkeys, and the changes waiting for signatures."""
    from publisher.incident.authority import ROLE_WORDS
    from publisher.incident.membership import describe
    from publisher.incident.roster import cabinet

    app = session().app
    made = cabinet(app)
    rows = [_person(made, person) for person in sorted(made.people.values(), key=lambda item: item.name)]
    waiting: list[dict[str, Any]] = [{"change": change.id, "what": describe(change), "name": change.name, "role": change.role,
                "was": change.was, "required": change.required, "proposed_by": change.actor, "signed_by": change.signers, "needs": change.needs}
               for change in made.pending.values()]
    if as_json:
        emit_json({"people": rows, "pending": waiting, "recorded": made.bootstrapped is not None,
                   "required": made.required, "required_recorded": made.quorum_recorded,
                   "not_counted": [{"seq": seq, "reason": reason} for seq, reason in made.problems]})
        return
    if made.bootstrapped is None:
        say(_("The log has no people yet: these are config/publisher.toml's lists, recorded by the first command "
              "that needs a role."))
    table([[row["name"], _(ROLE_WORDS[row["role"]]), row["email"] or "", row["telegram"] or "",
            _("{counting} (+{waiting} to confirm)").format(counting=row["passkeys"], waiting=row["unconfirmed"])
            if row["unconfirmed"] else str(row["passkeys"]), str(row["ssh_keys"])] for row in rows],
          [_("name"), _("role"), _("e-mail"), _("Telegram"), _("passkeys"), _("SSH keys")])
    say(_("Quorum: every draft needs {required} approval(s); a change of approvers needs as many signatures "
          "(at least one).").format(required=made.required)
        if made.quorum_recorded else
        _("Quorum: {required} approval(s), from config/publisher.toml: the log does not record it yet; `publish "
          "people quorum {required}` records it.").format(required=made.required))
    for item in waiting:
        say(_("Change {change} waits: {what}, proposed by {actor}; signed by {signed} of the {needs} approvers it "
              "needs (publish people approve {change}).").format(
                  change=item["change"], what=item["what"], actor=item["proposed_by"],
                  signed=", ".join(item["signed_by"]), needs=item["needs"]))
    for pending in made.unconfirmed.values():
        say(_("{name}'s passkey {fingerprint} made on {device!r} waits for an approver's confirmation (publish "
              "users confirm {name} --fingerprint {fingerprint}).").format(
                  name=pending.key.name, fingerprint=pending.fingerprint, device=pending.device))


def _person(made: Any, person: Any) -> dict[str, Any]:
    keys = made.keyring.keys_for(person.name)
    return {"name": person.name, "role": person.role, "email": person.email, "telegram": person.telegram,
            "slack": person.slack, "passkeys": len([key for key in keys if key.scheme != "ssh"]),
            "unconfirmed": len([item for item in made.unconfirmed.values() if item.key.name == person.name]),
            "ssh_keys": len([key for key in keys if key.scheme == "ssh"])}


@people.command("export")
def people_export() -> None:
    """Rewrite config/publisher.toml's [approvals] approvers, operators and viewers from the log."""
    from publisher.incident.membership import write_mirror

    path = write_mirror(session().app)
    say(_("Wrote the [approvals] lists of {path} from the log.").format(path=path))


def said(app: Any, outcome: Any) -> None:
    """What a change of the cabinet did: took effect, or waits for more signatures."""
    from publisher.incident.membership import describe
    from publisher.incident.roster import Change

    event = outcome.event
    say_unsigned(app)
    for replaced in outcome.replaced:
        say(_("This replaces change {change}, which was waiting.").format(change=replaced))
    if outcome.waiting is not None:
        change: Change = outcome.waiting
        say(_("Change {change}: {what}, signed by {signed}; it takes effect when {more} more approver(s) sign it: "
              "publish people approve {change}").format(change=change.id, what=describe(change),
                                                        signed=", ".join(change.signers),
                                                        more=change.needs - len(change.signers)))
        return
    say(_("Done: {what} (row {seq}, by {actor}); config/publisher.toml's [approvals] lists were rewritten from "
          "the log.").format(what=outcome.what, seq=event.seq, actor=event.actor))


def say_unsigned(app: Any) -> None:
    """In a workspace that does not sign, say that what was just recorded is unsigned."""
    from publisher.incident.identity import self_declared

    unproven = self_declared(app)
    if unproven:
        say(_("Recorded {how}.").format(how=unproven))


COMMANDS = [people]
