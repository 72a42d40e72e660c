"""Proven identity: signing an action before it is recorded, and trusting a recorded
action only when its signature verifies.

Guarantees, with `[approvals] signing = "ssh"`:
- `signed_data` signs an action (approve, reject, freeze, unfreeze, decide, confirm,
  enrol) with the actor's SSH key, checks the signature against the key the log enrolled
  for that actor, and refuses before anything is recorded when it does not verify.
- `untrusted` says why a recorded signed action must not count; every place that counts
  approvals, confirmations, decisions or an unfreeze asks it, so a signature forged into
  the store (even with the chain recomputed) never counts, nor an action that needs an
  approver by someone who was not one in the log's cabinet at that row (whatever the
  signing mode).
- `config/allowed_signers` is a mirror of the keys enrolled in the log: when it differs,
  every signed action and every send is refused, naming the difference.
- The first keys come from `publish init` or, when the log enrols none yet, from the
  existing `allowed_signers` file, imported once by the first signed action.
With `signing = "none"` (a practice workspace only, `publisher.workspace.practice`)
nothing is signed, and `self_declared` says so wherever a name is shown as having acted.
The one unsigned action that counts with signing on is the playbook's freeze as a case 3
incident opens: it only stops, and lifting it takes a signed unfreeze.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from publisher.errors import Refused
from publisher.i18n import _
from publisher.incident import roster
from publisher.incident.playbooks import freezes_on_open
from publisher.log import signatures as sig
from publisher.log.store import Event

if TYPE_CHECKING:
    from publisher.workspace.app import App


def signing_on(app: App) -> bool:
    return app.config.signing == "ssh"


def keyring(app: App) -> sig.Keyring:
    """The keys the log enrols (`publisher.incident.roster`: read again only when the log has grown)."""
    return roster.cabinet(app).keyring


def mirror_problem(app: App) -> str | None:
    """How config/allowed_signers differs from the SSH keys the log enrols, if it does."""
    ring = keyring(app)
    if not signing_on(app) or not any(key.scheme == "ssh" for key in ring.keys):
        return None
    return sig.mirror_difference(ring, app.config.allowed_signers)


def check_mirror(app: App) -> None:
    """Refuse when config/allowed_signers differs from the keys the log enrols."""
    difference = mirror_problem(app)
    if difference:
        raise Refused(_("refused: {difference}; the log is the list of keys: `publish keys list` shows it, "
                        "`publish keys export` rewrites the file from it.").format(difference=difference))


def import_allowed_signers(app: App) -> None:
    """With no key in the log yet, enrol the existing allowed_signers file's keys."""
    if keyring(app).keys or app.store.events(kind=sig.KEY_EVENTS, limit=1):
        return
    path = app.config.allowed_signers
    if not path.exists():
        return
    for name, line in sorted(sig.parse_allowed_signers(path)):
        enrol_first(app, name, line, "allowed_signers")


def enrol_first(app: App, name: str, public_key: str, source: str) -> Event:
    fingerprint = sig.ssh_fingerprint(public_key)
    return app.store.append("key.enrolled", actor=name, data={
        "name": name, "scheme": "ssh", "public_key": public_key, "fingerprint": fingerprint, "bootstrap": source})


def signed_data(app: App, kind: str, actor: str, data: dict[str, Any], *, key: Path | None = None,
                signature: dict[str, Any] | None = None, incident: str | None = None, draft: str | None = None,
                channel: str | None = None) -> dict[str, Any]:
    """`data` with the actor's verified signature when signing is on (else unchanged).
    `signature`: one made elsewhere (a passkey on the console), checked the same way."""
    if signature is not None:
        signed = {**data, "signature": signature}
        problem = sig.check_event(_pending(kind, actor, incident, draft, channel, signed), keyring(app))
        if problem:
            raise Refused(_("the signature of {actor!r} does not verify ({problem}); nothing was recorded.").format(
                actor=actor, problem=problem))
        return signed
    if not signing_on(app):
        return data
    import_allowed_signers(app)
    check_mirror(app)
    ring = keyring(app)
    if not ring.keys_for(actor):
        raise Refused(_("{actor!r} has no key enrolled in the log, so {actor!r} cannot sign this; an approver "
                        "enrols one with `publish keys add {actor} PUBKEY_FILE`.").format(actor=actor))
    message = sig.event_message(_pending(kind, actor, incident, draft, channel, data))
    key = key or sig.default_key()
    signed = {**data, "signature": sig.ssh_signature(message, key)}
    problem = sig.check_event(_pending(kind, actor, incident, draft, channel, signed), ring)
    if problem:
        raise Refused(_("the signature made with {key} is not {actor!r}'s key enrolled in the log ({problem}); "
                        "nothing was recorded.").format(key=key, actor=actor, problem=problem))
    return signed


def append_signed(app: App, kind: str, actor: str, data: dict[str, Any], *, key: Path | None = None,
                  signature: dict[str, Any] | None = None, incident: str | None = None, draft: str | None = None,
                  channel: str | None = None) -> Event:
    """Sign (when signing is on) and record one action (after the log's first people,
    when it has none: `roster.settle`)."""
    signed = signed_data(app, kind, actor, data, key=key, signature=signature, incident=incident, draft=draft,
                         channel=channel)
    roster.settle(app)
    return app.store.append(kind, actor=actor, incident=incident, draft=draft, channel=channel, data=signed)


def _pending(kind: str, actor: str, incident: str | None, draft: str | None, channel: str | None,
             data: dict[str, Any]) -> Event:
    return Event(2 ** 62, "", kind, actor, incident, draft, channel, data, "")


APPROVER_ACTIONS = frozenset({"draft.approved", "unfreeze", "incident.decided", "delivery.confirmed",
                              "delivery.retry", "incident.edited", "incident.voided",
                              "withdrawal.requested"})
"""Recorded actions that count only when their actor was an approver at that row."""


def role_problem(app: App, event: Event, made: roster.Cabinet | None = None) -> str | None:
    """Why `event`'s actor could not take this action at its row, in the log's cabinet
    (`made`: the cabinet as the caller already read it, for a loop over many events)."""
    if event.kind not in APPROVER_ACTIONS or \
            (made or roster.cabinet(app)).role_at(event.actor, event.seq) == "approver":
        return None
    return _("{actor} was not an approver at row {seq}").format(actor=event.actor, seq=event.seq)


def untrusted(app: App, event: Event, made: roster.Cabinet | None = None) -> str | None:
    """Why a recorded signed action must not count; None when it counts. Its actor must
    have held the role it needs at that row; a signature that is there must verify; with
    signing on, one must be there (`made`: as for `role_problem`)."""
    if event.kind not in sig.ACTIONS:
        return None
    problem = role_problem(app, event, made)
    if problem:
        return problem
    if not isinstance(event.data.get("signature"), dict) and (not signing_on(app) or _playbook_freeze(app, event)):
        return None
    return sig.check_event(event, (made or roster.cabinet(app)).keyring)


def _playbook_freeze(app: App, event: Event) -> bool:
    """The playbook's own freeze as an incident opens (case 3): recorded unsigned by
    whoever opened it, since a freeze only stops; lifting it takes a signed unfreeze.
    It counts only as the consequence of the opening it names: that incident was
    opened before it, by the same person, in a case that freezes on open."""
    if event.kind != "freeze" or event.data.get("automatic") is not True or not event.incident:
        return False
    opened = app.store.events(kind="incident.opened", incident=event.incident, limit=1)
    return bool(opened) and opened[0].seq < event.seq and opened[0].actor == event.actor \
        and isinstance(opened[0].data.get("case"), int) and freezes_on_open(app, opened[0].data["case"])


def split_trusted(app: App, events: Iterable[Event]) -> tuple[list[Event], list[tuple[Event, str]]]:
    """The events that count, and the signed actions that do not (with why)."""
    kept: list[Event] = []
    dropped: list[tuple[Event, str]] = []
    made: roster.Cabinet | None = None
    for event in events:
        if made is None and event.kind in sig.ACTIONS:
            made = roster.cabinet(app)
        problem = untrusted(app, event, made)
        if problem:
            dropped.append((event, problem))
        else:
            kept.append(event)
    return kept, dropped


def trusted_events(app: App, events: Iterable[Event]) -> list[Event]:
    return split_trusted(app, events)[0]


def bad_signatures(app: App) -> list[tuple[Event, str]]:
    """Every signed action in the log whose signature does not verify (for `log verify`)."""
    kinds = tuple(kind for kind in sig.ACTIONS if kind not in roster.CABINET_KINDS)
    return split_trusted(app, app.store.events(kind=kinds))[1]


def self_declared(app: App) -> str | None:
    """What to say next to a name shown as having acted, when nothing proves it."""
    return _('unsigned, self-declared ([approvals] signing = "none")') if not signing_on(app) else None
