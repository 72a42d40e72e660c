"""People on the console: invitations, passkey enrolments, their confirmation and
revocation, logins and sessions.

Guarantees:
- Everything here is an event in the log, so every server of one store sees the same
  people, and nothing is kept apart: `person.invited` (only the sha256 of the one-time
  token, never the token), `passkey.enrolled` (credential id, public key, the device
  it was made on), `passkey.confirmed`, `user.revoked`, `console.login` and
  `console.logout` (only the sha256 of the session token). Which of them count is the
  cabinet's to say (`publisher.incident.roster`).
- An invitation is an approver's signed action for a person in the log's cabinet, is
  valid 15 minutes, enrols one passkey once, and dies with `users revoke` or the
  person's removal. The link goes to the person's own contact in the log
  (`publisher.delivery.direct`), or is printed for the inviter to hand over in person.
- A passkey counts (to log in, to sign) only once an approver other than its owner and
  other than the inviter (when the cabinet has another) confirms it, having compared
  its fingerprint with the one its owner sees.
- A login or a signed action is accepted only with a counting passkey of a person in
  the cabinet, over a challenge this console made less than 5 minutes ago whose nonce
  was never used before (a replayed assertion is refused), whose sign count moved on
  when the authenticator keeps one.
- A session ends at its expiry (`[console] session_hours`), at logout, or as soon as
  the log no longer counts its passkey or its person (revoked, removed): every server
  reads that from the log on the next request.
"""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from publisher.errors import BadInput, Refused
from publisher.incident import roster
from publisher.incident.authority import require_approver
from publisher.incident.identity import append_signed
from publisher.log import passkeys
from publisher.log import signatures as sig
from publisher.log.passkeys import Origin, PasskeyError
from publisher.timeparse import from_iso, iso
from publisher.workspace.inputs import check_text
from publisher.i18n import _

if TYPE_CHECKING:
    from publisher.log.store import Event
    from publisher.workspace.app import App

INVITE_FOR = timedelta(minutes=15)
LOGIN_PURPOSE = b"publish console login"
SIGNED_KINDS = ("draft.approved", "draft.rejected", "freeze", "unfreeze", "incident.decided",
                "delivery.confirmed", "passkey.confirmed")
DEVICE_LIMIT = 60


@dataclass(frozen=True)
class Invitation:
    """A new invitation: the token (never stored), its link, expiry and who it is for."""
    token: str
    link: str
    expires: datetime
    person: roster.Person
    delivery: str
    event: Event


@dataclass(frozen=True)
class Passkey:
    person: str
    credential_id: str
    public_key: str
    enrolled_seq: int
    fingerprint: str = ""
    device: str = ""


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


def invite(app: App, name: str, actor: str, key: Path | None = None, in_person: bool = False) -> Invitation:
    """A one-time enrolment link for `name`, signed by the approver `actor`; it goes to
    `name`'s contact in the log unless `in_person` or there is none."""
    require_approver(app, actor, _("invite someone to the console"))
    person = roster.cabinet(app).people.get(name)
    if person is None:
        raise BadInput(_("{name!r} is not in the cabinet: an approver adds them first with `publish people add "
                         "{name} --role ROLE`.").format(name=name))
    delivery = delivery_for(person, in_person)
    token = secrets.token_urlsafe(32)
    expires = app.clock() + INVITE_FOR
    event = append_signed(app, "person.invited", actor, {"name": name, "token_hash": digest(token),
                                                         "expires": iso(expires), "delivery": delivery}, key=key)
    return Invitation(token, f"{app.config.console_base_url}/enrol/{token}", expires, person, delivery, event)


def delivery_for(person: roster.Person | None, in_person: bool = False) -> str:
    """How an invitation reaches `person`: "email", "telegram" (their own contact in the
    log) or "in person" (printed for the inviter)."""
    if in_person or person is None:
        return "in person"
    return "email" if person.email else "telegram" if person.telegram else "in person"


def open_invite(app: App, token: str) -> roster.Invite:
    """The invitation behind a link, refused when unknown, expired, used or revoked."""
    made = roster.cabinet(app)
    chosen = made.invites.get(digest(token))
    if chosen is None:
        raise Refused(_("this enrolment link is not valid; ask for a new invitation."))
    if app.clock() >= from_iso(chosen.expires):
        raise Refused(_("this enrolment link has expired (links are valid 15 minutes); ask for a new invitation."))
    if chosen.used is not None:
        raise Refused(_("this enrolment link was already used; ask for a new invitation."))
    if chosen.ended is not None or chosen.name not in made.people:
        raise Refused(_("this enrolment link was revoked; ask for a new invitation."))
    return chosen


def enrolment_challenge(chosen: roster.Invite, nonce: bytes) -> bytes:
    return passkeys.action_challenge(passkeys.enrolment_message(chosen.token_hash), nonce)


def enrolment_options(app: App, token: str) -> dict[str, Any]:
    chosen = open_invite(app, token)
    challenge = enrolment_challenge(chosen, passkeys.new_nonce(app.clock()))
    made = roster.cabinet(app)
    exclude = [key.fingerprint for key in made.keyring.keys if key.name == chosen.name and key.scheme != "ssh"]
    exclude += [item.key.fingerprint for item in made.unconfirmed.values() if item.key.name == chosen.name]
    return passkeys.registration_options(origin_of(app), app.config.organisation, chosen.name, challenge, exclude)


def device_name(text: Any) -> str:
    value = check_text(str(text or ""), _("the device name")).strip()
    if not value or len(value) > DEVICE_LIMIT:
        raise BadInput(_("name the device this passkey is made on (at most {limit} characters), e.g. "
                         "\"Ana's phone\".").format(limit=DEVICE_LIMIT))
    return value


def enrol(app: App, token: str, credential: dict[str, Any], device: Any) -> Passkey:
    """Verify the browser's new passkey for the invitation and record it; it counts once
    another approver confirms it."""
    chosen = open_invite(app, token)
    made_on = device_name(device)
    nonce = _fresh_nonce(app, credential, 32)
    try:
        key = passkeys.verify_enrolment(credential, enrolment_challenge(chosen, nonce), origin_of(app))
    except PasskeyError as error:
        raise Refused(f"{error}.") from None
    made = roster.cabinet(app)
    if any(item.fingerprint == key.credential_id for item in made.keyring.keys + made.keyring.revoked) or \
            key.credential_id in made.unconfirmed:
        raise Refused(_("this passkey is already enrolled."))
    origin = origin_of(app)
    registration = passkeys.stored_registration(credential)
    event = app.store.append("passkey.enrolled", actor=chosen.name, data={
        "name": chosen.name, "scheme": passkeys.SCHEME, "fingerprint": key.credential_id,
        "credential_id": key.credential_id, "public_key": key.public_key, "sign_count": key.sign_count,
        "invite": chosen.token_hash, "rp_id": origin.rp_id, "origin": origin.origin, "registration": registration,
        "device": made_on})
    return Passkey(chosen.name, key.credential_id, key.public_key, event.seq,
                   roster.passkey_fingerprint(key.public_key), made_on)


def enrolled(app: App, credential_id: str) -> tuple[Passkey, bool] | None:
    """A passkey enrolled through an invitation, and whether it counts yet."""
    made = roster.cabinet(app)
    waiting = made.unconfirmed.get(credential_id)
    if waiting is not None:
        return _passkey(waiting.key), False
    for key in made.keyring.keys:
        if key.scheme != "ssh" and key.fingerprint == credential_id:
            return _passkey(key), True
    return None


def _passkey(key: sig.EnrolledKey) -> Passkey:
    return Passkey(key.name, key.fingerprint, key.public_key, int(key.extra.get("enrolled_seq", key.seq)),
                   roster.passkey_fingerprint(key.public_key), str(key.extra.get("device") or ""))


def unconfirmed(app: App, name: str | None = None) -> list[roster.PendingPasskey]:
    """Passkeys waiting for an approver's confirmation (of `name`, or everyone's)."""
    return [item for item in roster.cabinet(app).unconfirmed.values() if name is None or item.key.name == name]


def _same_fingerprint(given: str, fingerprint: str) -> bool:
    def plain(text: str) -> str:
        return re.sub(r"[^0-9A-F]", "", text.upper())
    return len(plain(given)) >= 8 and plain(fingerprint).startswith(plain(given))


def confirmation_data(app: App, name: str, actor: str, fingerprint: str | None) -> dict[str, Any]:
    """What `actor` signs to confirm `name`'s passkey whose fingerprint starts with
    `fingerprint` (refused, listing the passkeys waiting, without a matching one)."""
    waiting = unconfirmed(app, name)
    if not waiting:
        raise BadInput(_("{name!r} has no passkey waiting for confirmation.").format(name=name))
    listed = "; ".join(_("{fingerprint} made on {device!r}").format(fingerprint=item.fingerprint,
                                                                     device=item.device) for item in waiting)
    if not fingerprint:
        raise BadInput(_("give --fingerprint with the fingerprint {name} reads to you from their enrolment page; "
                         "waiting: {listed}.").format(name=name, listed=listed))
    chosen = [item for item in waiting if _same_fingerprint(fingerprint, item.fingerprint)]
    if len(chosen) != 1:
        raise Refused(_("no passkey of {name} waiting for confirmation has the fingerprint {given} (at least 8 "
                        "digits); waiting: {listed}.").format(name=name, given=fingerprint, listed=listed))
    item = chosen[0]
    problem = roster.confirmer_problem(roster.cabinet(app), name, item.inviter, actor, roster.FOREVER)
    if problem:
        raise Refused(f"{problem}.")
    return {"name": name, "credential_id": item.key.fingerprint, "fingerprint": item.fingerprint,
            "device": item.device}


def confirmation_message(app: App, name: str, actor: str, fingerprint: str | None) -> bytes:
    return sig.action_message("passkey-confirm", name, confirmation_data(app, name, actor, fingerprint), actor)


def confirm(app: App, name: str, actor: str, fingerprint: str | None, key: Path | None = None,
            signature: dict[str, Any] | None = None) -> Event:
    """An approver confirms `name`'s passkey after comparing its fingerprint; it counts
    from then on."""
    require_approver(app, actor, _("confirm a passkey"))
    data = confirmation_data(app, name, actor, fingerprint)
    return append_signed(app, "passkey.confirmed", actor, data, key=key, signature=signature)


def revoke(app: App, name: str, actor: str, key: Path | None = None) -> Event:
    """End every passkey, outstanding invitation and console session of `name` (an
    approver's signed action), on every server of the log at once."""
    require_approver(app, actor, _("revoke someone's console access"))
    made = roster.cabinet(app)
    known = name in made.people or any(item.name == name for item in made.invites.values()) or \
        any(key.name == name for key in made.keyring.keys)
    if not known:
        raise BadInput(_("{name!r} has no console access to revoke.").format(name=name))
    return append_signed(app, "user.revoked", actor, {"name": name}, key=key)


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
    return app.store.events(kind=("console.login", "console.logout"), after_seq=after_seq)


def session_alive(app: App, found: ConsoleSession | None) -> ConsoleSession | None:
    """The session while it lasts and the log still counts its passkey and its person."""
    if found is None or app.clock() >= found.expires:
        return None
    made = roster.cabinet(app)
    counted = any(key.fingerprint == found.credential_id and key.name == found.person and key.scheme != "ssh"
                  for key in made.keyring.keys)
    return found if counted and found.person in made.people else None


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
    allow = [key.fingerprint for key in roster.cabinet(app).keyring.keys_for(person) if key.scheme != "ssh"]
    if not allow:
        raise Refused(_("{person!r} has no passkey that counts (enrolled and confirmed).").format(person=person))
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
    found = enrolled(app, credential_id)
    if found is None:
        raise Refused(_("this passkey is not enrolled here (or was revoked)."))
    key, counts = found
    if not counts:
        raise Refused(_("this passkey of {person!r} waits for another approver to confirm it (`publish users "
                        "confirm {person}`, comparing its fingerprint {fingerprint}).").format(
                            person=key.person, fingerprint=key.fingerprint))
    if key.person not in roster.cabinet(app).people:
        raise Refused(_("{person!r} is no longer in the cabinet.").format(person=key.person))
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
