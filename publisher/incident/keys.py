"""Enrolling people's SSH keys in the log: `publish keys add|list|export`, and the first
key at `publish init` (found where every signing path looks, `default_key`, or made there).

Guarantees: a key is enrolled only by an approver whose own enrolled key signs the
enrolment (the very first key of a log is proven by signing its own enrolment, or comes
from `publish init` or the existing allowed_signers file); a key already enrolled for
someone is never enrolled again; after each enrolment `config/allowed_signers` is
rewritten from the log, so the file is a mirror of the log and an edit made to it
outside the log is detected (`publisher.incident.identity.check_mirror`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.errors import BadInput, Refused
from publisher.i18n import _
from publisher.incident.authority import people, require_approver
from publisher.incident.identity import append_signed, enrol_first, import_allowed_signers, keyring, signing_on
from publisher.incident.roster import settle
from publisher.log import signatures as sig
from publisher.log.store import Event, replace_file

if TYPE_CHECKING:
    from publisher.workspace.app import App


@dataclass(frozen=True)
class SigningKey:
    """A person's SSH key: the private key's path, its public line and fingerprint, and
    whether `publish init` made it just now."""

    key: Path
    public_key: str
    fingerprint: str
    made: bool


def enrol_key(app: App, name: str, public_key_file: Path, actor: str, key: Path | None = None) -> Event:
    """Enrol `name`'s SSH public key, signed by `actor` (an approver with an enrolled key)."""
    if not signing_on(app):
        raise Refused(_('`publish keys add` needs [approvals] signing = "ssh" in config/publisher.toml.'))
    if name not in people(app):
        raise BadInput(_("{name!r} is not in the cabinet: an approver adds them first with `publish people add "
                         "{name} --role ROLE`.").format(name=name))
    require_approver(app, actor, _("enrol a key"))
    line, fingerprint = sig.read_public_key(public_key_file)
    import_allowed_signers(app)
    ring = keyring(app)
    holder = next((item.name for item in ring.keys if item.fingerprint == fingerprint), None)
    if holder:
        raise Refused(_("the key {fingerprint} is already enrolled for {holder}.").format(
            fingerprint=fingerprint, holder=holder))
    data = {"name": name, "scheme": "ssh", "public_key": line, "fingerprint": fingerprint}
    if not ring.keys and name == actor:
        data["bootstrap"] = "keys add (signed by the key itself)"
        signed = {**data, "signature": sig.ssh_signature(_enrol_message(data, actor), key or sig.default_key())}
        problem = sig.check_event(Event(2 ** 62, "", "key.enrolled", actor, None, None, None, signed, ""),
                                  sig.Keyring([sig.EnrolledKey(name, "ssh", line, fingerprint, 0)]))
        if problem:
            raise Refused(_("the first key must sign its own enrolment ({problem}); give --key with the private "
                            "key of {file}.").format(problem=problem, file=public_key_file))
        settle(app)
        event = app.store.append("key.enrolled", actor=actor, data=signed)
    else:
        event = append_signed(app, "key.enrolled", actor, data, key=key)
    write_mirror(app)
    return event


def _enrol_message(data: dict, actor: str) -> bytes:
    return sig.action_message("enrol", data["name"], data, actor)


def write_mirror(app: App) -> Path:
    """Rewrite config/allowed_signers from the keys the log enrols."""
    path = app.config.allowed_signers
    replace_file(path, sig.allowed_signers_text(keyring(app)).encode("utf-8"))
    return path


def revoke_key(app: App, name: str, actor: str, key: Path | None = None) -> list[Event]:
    """Revoke every SSH key enrolled for `name` (signed by an approver); what those keys
    signed before stays valid, nothing they sign afterwards counts."""
    require_approver(app, actor, _("revoke a key"))
    found = [item for item in keyring(app).keys if item.name == name and item.scheme == "ssh"]
    if not found:
        raise BadInput(_("{name!r} has no SSH key enrolled in the log.").format(name=name))
    events = [append_signed(app, "key.revoked", actor, {"name": name, "fingerprint": item.fingerprint}, key=key)
              for item in found]
    write_mirror(app)
    return events


def list_keys(app: App) -> list[sig.EnrolledKey]:
    return list(keyring(app).keys)


def signing_key(user: str) -> SigningKey:
    """The key `user` signs with (`default_key`), made there (Ed25519, no passphrase, as
    `ssh-keygen` would) when there is none yet; read before a workspace is created."""
    key = sig.default_key()
    made = not key.exists()
    if made:
        sig.make_key(key, f"{user}@publish")
    line, fingerprint = sig.read_public_key(Path(str(key) + ".pub"))
    return SigningKey(key, line, fingerprint, made)


def init_signing(app: App, user: str, found: SigningKey) -> None:
    """At `publish init`: turn signing on and enrol `user`'s key in the log."""
    config = app.workspace / "config" / "publisher.toml"
    text = config.read_text(encoding="utf-8")
    if not re.search(r"(?m)^signing\s*=", text):
        text = re.sub(r"(?m)^\[approvals\]\n", '[approvals]\nsigning = "ssh"               '
                      "# approvals, freezes, decisions and confirmations are signed\n", text, count=1)
        config.write_text(text, encoding="utf-8")
    enrol_first(app, user, found.public_key, "init")
    write_mirror(app)
