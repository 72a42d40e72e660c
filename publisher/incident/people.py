"""People on the console: invitations, passkey enrolments and revocations, sessions.

Guarantees:
- Everything here is an event in the log, so every server of one store sees the same
  people, and nothing is kept apart: `person.invited` (only the sha256 of the one-time
  token, never the token), `passkey.enrolled` (credential id and public key),
  `passkey.revoked`, `console.login` and `console.logout` (only the sha256 of the
  session token).
- An invitation is for a person named in `[approvals] approvers`, `operators` or
  `viewers`, is valid 15 minutes and can enrol one passkey once.
- A login or a signed action is accepted only with a passkey enrolled for that person
  and not revoked, over a challenge this console made less than 5 minutes ago whose
  nonce was never used before (a replayed assertion is refused), whose sign count
  moved on when the authenticator keeps one.
- A session ends at its expiry (`[console] session_hours`), at logout, or when the
  passkey it was opened with is revoked, or the person leaves the config.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from publisher.errors import BadInput, Refused
from publisher.incident.authority import people, roles_of
from publisher.log import passkeys
from publisher.log.passkeys import Origin, PasskeyError
from publisher.timeparse import from_iso, iso
from publisher.i18n import _

if TYPE_CHECKING:
    from publisher.log.store import Event
    from publisher.workspace.app import App

INVITE_FOR = timedelta(minutes=15)
LOGIN_PURPOSE = b"publish console login"
SIGNED_KINDS = ("draft.approved", "draft.rejected", "freeze", "unfreeze", "incident.decided",
                "delivery.confirmed")


@dataclass(frozen=True)
class Invite:
    person: str
    token_hash: str
    expires: datetime
    seq: int


@dataclass(frozen=True)
class Passkey:
    person: str
    credential_id: str
    public_key: str
    enrolled_seq: int
    revoked_seq: int | None = None


@dataclass(frozen=True)
class ConsoleSession:
    person: str
    token_hash: str
    expires: datetime
    credential_id: str


def digest(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def origin_of(app: App) -> Origin:
    return Origin.from_url(app.config.console_base_url)


def invite(app: App, person: str, actor: str) -> tuple[str, str, datetime]:
    """A one-time enrolment link for `person`: (token, link, expiry)."""
    if person not in people(app.config):
        listed = ", ".join(people(app.config)) or "nobody"
        raise BadInput(_("{person!r} has no role: add the name to [approvals] approvers, operators or "
                         "viewers in config/publisher.toml first (listed now: {listed}).").format(
                           person=person, listed=listed))
    token = secrets.token_urlsafe(32)
    expires = app.clock() + INVITE_FOR
    app.store.append("person.invited", actor=actor,
                     data={"person": person, "token_hash": digest(token), "expires": iso(expires)})
    return token, f"{app.config.console_base_url}/enrol/{token}", expires


def open_invite(app: App, token: str) -> Invite:
    """The invitation behind a link, refused when unknown, expired or already used."""
    wanted = digest(token)
    found = [event for event in app.store.events(kind="person.invited") if event.data.get("token_hash") == wanted]
    if not found:
        raise Refused(_("this enrolment link is not valid; ask for a new invitation."))
    event = found[-1]
    chosen = Invite(str(event.data["person"]), wanted, from_iso(event.data["expires"]), event.seq)
    if app.clock() >= chosen.expires:
        raise Refused(_("this enrolment link has expired (links are valid 15 minutes); ask for a new invitation."))
    if any(item.data.get("invite") == wanted for item in app.store.events(kind="passkey.enrolled")):
        raise Refused(_("this enrolment link was already used; ask for a new invitation."))
    if chosen.person not in people(app.config):
        raise Refused(_("{person!r} no longer has a role in the config.").format(person=chosen.person))
    return chosen


def enrolment_challenge(chosen: Invite, nonce: bytes) -> bytes:
    return passkeys.action_challenge(passkeys.enrolment_message(chosen.token_hash), nonce)


def enrolment_options(app: App, token: str) -> dict[str, Any]:
    chosen = open_invite(app, token)
    challenge = enrolment_challenge(chosen, passkeys.new_nonce(app.clock()))
    exclude = [key.credential_id for key in passkeys_of(app, chosen.person)]
    return passkeys.registration_options(origin_of(app), app.config.organisation, chosen.person, challenge, exclude)


def enrol(app: App, token: str, credential: dict[str, Any]) -> Passkey:
    """Verify the browser's new passkey for the invitation and record it."""
    chosen = open_invite(app, token)
    nonce = _fresh_nonce(app, credential, 32)
    try:
        key = passkeys.verify_enrolment(credential, enrolment_challenge(chosen, nonce), origin_of(app))
    except PasskeyError as error:
        raise Refused(f"{error}.") from None
    if key.credential_id in all_passkeys(app):
        raise Refused(_("this passkey is already enrolled."))
    origin = origin_of(app)
    registration = passkeys.stored_registration(credential)
    event = app.store.append("passkey.enrolled", actor=chosen.person, data={
        "name": chosen.person, "scheme": passkeys.SCHEME, "fingerprint": key.credential_id,
        "credential_id": key.credential_id, "public_key": key.public_key, "sign_count": key.sign_count,
        "invite": chosen.token_hash, "rp_id": origin.rp_id, "origin": origin.origin, "registration": registration})
    return Passkey(chosen.person, key.credential_id, key.public_key, event.seq)


def all_passkeys(app: App) -> dict[str, Passkey]:
    """Every passkey ever enrolled, by credential id, with its revocation if any."""
    keys: dict[str, Passkey] = {}
    for event in app.store.events(kind=("passkey.enrolled", "passkey.revoked")):
        credential = str(event.data.get("credential_id"))
        if event.kind == "passkey.enrolled":
            keys[credential] = Passkey(str(event.data.get("name") or event.actor), credential,
                                       str(event.data["public_key"]), event.seq)
        elif credential in keys and keys[credential].revoked_seq is None:
            old = keys[credential]
            keys[credential] = Passkey(old.person, old.credential_id, old.public_key, old.enrolled_seq, event.seq)
    return keys


def passkeys_of(app: App, person: str) -> list[Passkey]:
    return [key for key in all_passkeys(app).values() if key.person == person and key.revoked_seq is None]


def revoke(app: App, person: str, actor: str) -> list[str]:
    """Revoke every passkey of `person`; their sessions end with them."""
    keys = passkeys_of(app, person)
    if not keys:
        raise BadInput(_("{person!r} has no enrolled passkey.").format(person=person))
    for key in keys:
        app.store.append("passkey.revoked", actor=actor, data={"person": person, "credential_id": key.credential_id})
    return [key.credential_id for key in keys]


def login_options(app: App) -> dict[str, Any]:
    challenge = passkeys.action_challenge(LOGIN_PURPOSE, passkeys.new_nonce(app.clock()))
    return passkeys.assertion_options(origin_of(app), challenge, [])


def login(app: App, credential: dict[str, Any]) -> tuple[str, ConsoleSession]:
    """Check a login assertion and open a session: (session token, session)."""
    nonce = _fresh_nonce(app, credential, 32)
    stored = _stored(app, credential, nonce)
    key = _usable_key(app, stored["credential_id"])
    _not_replayed(app, key, stored["nonce"])
    _verify(app, key, stored, passkeys.action_challenge(LOGIN_PURPOSE, nonce))
    token = secrets.token_urlsafe(32)
    expires = app.clock() + timedelta(hours=app.config.console_session_hours)
    app.store.append("console.login", actor=key.person, data={
        "session_hash": digest(token), "expires": iso(expires), "credential_id": key.credential_id,
        "nonce": stored["nonce"], "sign_count": stored["sign_count"]})
    return token, ConsoleSession(key.person, digest(token), expires, key.credential_id)


def logout(app: App, session: ConsoleSession) -> None:
    app.store.append("console.logout", actor=session.person, data={"session_hash": session.token_hash})


def sessions(app: App, after_seq: int = 0) -> list[Event]:
    """Login and logout events after `after_seq` (a server keeps its own index)."""
    return app.store.events(kind=("console.login", "console.logout", "passkey.revoked"), after_seq=after_seq)


def session_alive(app: App, found: ConsoleSession | None) -> ConsoleSession | None:
    if found is None or app.clock() >= found.expires or not roles_of(app.config, found.person):
        return None
    return found


def signed_action(app: App, person: str, message: bytes, credential: dict[str, Any]) -> dict[str, Any]:
    """Check a passkey assertion over `message` made by `person` just now; return the
    signature to record with the action (re-verified offline by `publish log verify`)."""
    nonce = _fresh_nonce(app, credential, 32)
    stored = _stored(app, credential, nonce)
    key = _usable_key(app, stored["credential_id"])
    if key.person != person:
        raise Refused(_("this passkey belongs to {person!r}, not to {person2!r}.").format(
                          person=key.person, person2=person))
    _not_replayed(app, key, stored["nonce"])
    _verify(app, key, stored, passkeys.action_challenge(message, nonce))
    return stored


def action_options(app: App, person: str, message: bytes) -> dict[str, Any]:
    allow = [key.credential_id for key in passkeys_of(app, person)]
    if not allow:
        raise Refused(_("{person!r} has no enrolled passkey.").format(person=person))
    challenge = passkeys.action_challenge(message, passkeys.new_nonce(app.clock()))
    return passkeys.assertion_options(origin_of(app), challenge, allow)


def _fresh_nonce(app: App, credential: dict[str, Any], offset: int) -> bytes:
    """The nonce inside the challenge the browser signed: made here, recently, never used."""
    try:
        client = json.loads(passkeys.unb64url(str(credential["response"]["clientDataJSON"])))
        challenge = passkeys.unb64url(str(client["challenge"]))
    except (KeyError, TypeError, ValueError, PasskeyError):
        raise Refused(_("the passkey answer is malformed.")) from None
    nonce = challenge[offset:]
    if not passkeys.is_fresh(nonce, app.clock()):
        raise Refused(_("the passkey challenge is not one this console issued in the last 5 minutes; try again."))
    return nonce


def _not_replayed(app: App, key: Passkey, nonce: str) -> None:
    """A replay is the same passkey's answer again: look only after its enrolment."""
    if _nonce_used(app, nonce, key.enrolled_seq):
        raise Refused(_("this passkey answer was already used (replayed); try again."))


def _nonce_used(app: App, nonce: str, after_seq: int) -> bool:
    since = app.clock() - passkeys.FRESH_FOR - timedelta(minutes=1)
    for event in app.store.events(kind=("console.login",) + SIGNED_KINDS, newest_first=True, after_seq=after_seq):
        if from_iso(event.ts) < since:
            return False
        signature = event.data.get("signature")
        used = event.data.get("nonce") or (signature.get("nonce") if isinstance(signature, dict) else None)
        if used == nonce:
            return True
    return False


def _stored(app: App, credential: dict[str, Any], nonce: bytes) -> dict[str, Any]:
    try:
        return passkeys.stored_assertion(credential, nonce, origin_of(app))
    except PasskeyError as error:
        raise Refused(f"{error}.") from None


def _usable_key(app: App, credential_id: str) -> Passkey:
    key = all_passkeys(app).get(credential_id)
    if key is None or key.revoked_seq is not None:
        raise Refused(_("this passkey is not enrolled here (or was revoked)."))
    if not roles_of(app.config, key.person):
        raise Refused(_("{person!r} no longer has a role in the config.").format(person=key.person))
    return key


def _verify(app: App, key: Passkey, stored: dict[str, Any], challenge: bytes) -> None:
    try:
        stored["sign_count"] = passkeys.verify_assertion(stored, challenge, key.public_key,
                                                         _last_sign_count(app, key))
    except PasskeyError as error:
        raise Refused(f"{error}.") from None


def _last_sign_count(app: App, key: Passkey) -> int:
    credential_id, counts = key.credential_id, [0]
    for event in app.store.events(kind=("passkey.enrolled", "console.login") + SIGNED_KINDS,
                                  after_seq=key.enrolled_seq - 1):
        signature = event.data.get("signature")
        source = signature if isinstance(signature, dict) else event.data
        if source.get("credential_id") == credential_id and isinstance(source.get("sign_count"), int):
            counts.append(source["sign_count"])
    return max(counts)


def passkey_problems(app: App) -> list[tuple[Event, str]]:
    """Every recorded action signed by passkey whose signature does not verify offline
    with a passkey the log enrolled for its actor (see `publisher.log.signatures`)."""
    from publisher.log import signatures

    ring = signatures.read_keyring(app.store)
    keys = all_passkeys(app)
    found = []
    for event in app.store.events(kind=tuple(signatures.ACTIONS)):
        signature = event.data.get("signature")
        if isinstance(signature, dict) and signature.get("scheme") == passkeys.SCHEME:
            key = keys.get(str(signature.get("credential_id")))
            problem = signatures.check_event(event, ring)
            if problem is None and key is not None and key.revoked_seq is not None and key.revoked_seq < event.seq:
                problem = f"signed with a passkey revoked at row {key.revoked_seq}"
            if problem:
                found.append((event, problem))
    return found
