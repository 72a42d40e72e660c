"""The cabinet, read from the log: who is in it, with which role and contact, which
changes wait for signatures, and which credentials (SSH keys, passkeys) count.

Guarantees:
- People, roles, contacts and credentials are events in the log, replayed in order in
  one pass (`cabinet`, read again only when the log has grown), so every face and
  every machine of one log sees the same cabinet; a machine's config grants nothing.
- `people.bootstrap` {people: [{name, role}], source}: the config's `[approvals]
  approvers`, `operators` and `viewers` become the first people of a log that has
  none, once: at `publish init`, else just before the first action that counts roles
  is recorded (`settle`), never by a read or a refused action. It counts only as the log's first cabinet event, and stands
  for every row before it too, so a log written before people lived in it keeps its
  approvals. Until a log has one, reading falls back to the config's lists (nothing is
  written by a read).
- Every other change is an approver's action, signed when `[approvals] signing =
  "ssh"` (unsigned in a practice workspace, and said so), and counts only when its
  signature verifies and its actor was an approver at that row: `person.added` {name,
  role, email?, telegram?, needs}, `person.changed` {name, role?, email?, telegram?,
  needs}, `person.removed` {name, needs}. A change that adds or removes an approver, or
  raises anyone's role, takes effect only once `needs` approvers (the proposer's
  `max(1, [approvals] required)`, recorded with the change) have signed it: the
  proposer first, then others with `people.approved` {change, name, proposal} (the
  proposal's row and the digest of its data); until then it is pending, and a newer
  change for the same person replaces it. Any other change takes effect at its row.
- Roles are read as of a row (`role_at`): an action counts only if its actor held the
  role when it was recorded. Roles rank viewer < operator < approver; each allows what
  the ones below it allow (`publisher.incident.authority`).
- SSH keys count only when enrolled by an approver at that row (bootstrap enrolments
  aside). A passkey (`passkey.enrolled`) counts only when it was made through a live
  invitation (`person.invited` {name, token_hash, expires}: an approver's action,
  valid until it expires, used once, ended by `user.revoked` or the person's removal)
  and then confirmed (`passkey.confirmed` {name, credential_id, fingerprint, device})
  by an approver other than its owner and other than the inviter (unless the cabinet
  has no third approver); it counts from its confirmation until `user.revoked`
  {name}, `passkey.revoked` or the person's removal.
- Every cabinet event that does not count is in `Cabinet.problems` with its row and
  why, for `publish log verify`.
- The quorum (`[approvals] required`: how many approvers' approvals a draft needs, and
  how many signatures a change of the cabinet needs) lives in the log too: recorded
  with the first people (`people.bootstrap` {required}), changed only by
  `quorum.changed` {required, needs}, which takes effect once `needs` approvers (the
  quorum in force when it was proposed, at least one) have signed it, exactly like a
  change of an approver. A draft needs the quorum in force at the row it was rendered
  (`required_at`). A log whose first people were recorded before the quorum lived in
  the log reads the config's value until a `quorum.changed` counts.
- The config's lists and its `required` are a mirror of the log: `mirror_difference`
  names the first difference, and `check_mirror` refuses with it.
"""
from __future__ import annotations

import hashlib
import time
from bisect import bisect_left
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from publisher.errors import Refused
from publisher.i18n import _
from publisher.log import signatures as sig
from publisher.log.store import canonical_bytes
from publisher.timeparse import from_iso

if TYPE_CHECKING:
    from publisher.log.store import Event
    from publisher.workspace.app import App
    from publisher.workspace.config import Config

ROLES = ("viewer", "operator", "approver")
CONFIG_KEYS = {"approver": "approvers", "operator": "operators", "viewer": "viewers"}
CHANGE_KINDS = ("person.added", "person.changed", "person.removed")
QUORUM_KIND = "quorum.changed"
PEOPLE_KINDS = ("people.bootstrap", *CHANGE_KINDS, QUORUM_KIND, "people.approved")
ACCESS_KINDS = ("person.invited", "passkey.confirmed", "user.revoked")
CABINET_KINDS = PEOPLE_KINDS + ACCESS_KINDS + sig.KEY_EVENTS
"""Every kind the cabinet replays; `log verify` names those that do not count."""
FOREVER = 2 ** 62
BOOTSTRAP_KEYS = ("init", "allowed_signers")
"""Key enrolments made from `publish init` or the config's allowed_signers, before any
signed one: the keys' own first people, needing no approver."""


def rank(role: str | None) -> int:
    return ROLES.index(role) if role in ROLES else -1


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    email: str | None = None
    telegram: str | None = None
    since: int = 0
    slack: str | None = None


@dataclass
class Change:
    """A change of the cabinet waiting for more approvers' signatures."""

    seq: int
    kind: str
    name: str
    actor: str
    role: str | None
    was: str | None
    needs: int
    digest: str
    signers: list[str] = field(default_factory=list)
    required: int | None = None
    """For a change of the quorum: the number of approvals it sets."""

    @property
    def id(self) -> str:
        return str(self.seq)


@dataclass
class Invite:
    name: str
    inviter: str
    token_hash: str
    expires: str
    seq: int
    delivery: str | None = None
    used: int | None = None
    ended: int | None = None


@dataclass(frozen=True)
class PendingPasskey:
    """A passkey enrolled through an invitation, not yet confirmed by another approver."""

    key: sig.EnrolledKey
    inviter: str
    device: str
    fingerprint: str


@dataclass
class Cabinet:
    people: dict[str, Person] = field(default_factory=dict)
    pending: dict[str, Change] = field(default_factory=dict)
    keyring: sig.Keyring = field(default_factory=sig.Keyring)
    invites: dict[str, Invite] = field(default_factory=dict)
    unconfirmed: dict[str, PendingPasskey] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)
    bootstrapped: int | None = None
    """The row of the log's `people.bootstrap`, None while the log has none."""
    history: dict[str, list[tuple[int, str | None]]] = field(default_factory=dict)
    quorum: list[tuple[int, int]] = field(default_factory=lambda: [(0, 1)])
    """(row, approvals required from that row on), oldest first."""
    quorum_recorded: bool = False
    """Whether the log itself holds the quorum (else it is the config's value)."""

    @property
    def required(self) -> int:
        return self.quorum[-1][1]

    def required_at(self, seq: int) -> int:
        """The quorum in force when row `seq` was written."""
        index = bisect_left(self.quorum, seq, key=lambda step: step[0]) - 1
        return self.quorum[max(index, 0)][1]

    def role_at(self, name: str | None, seq: int) -> str | None:
        """The role `name` held when row `seq` was written (the current one for FOREVER)."""
        steps = self.history.get(name or "")
        if not steps:
            return None
        index = bisect_left(steps, seq, key=lambda step: step[0]) - 1
        return steps[index][1] if index >= 0 else None

    def approvers_at(self, seq: int) -> list[str]:
        return sorted(name for name in self.history if self.role_at(name, seq) == "approver")

    def approvers(self) -> list[str]:
        return sorted(name for name, person in self.people.items() if person.role == "approver")

    def names(self) -> list[str]:
        return list(self.people)

    def roles(self) -> dict[str, str]:
        return {name: person.role for name, person in self.people.items()}

    def _set(self, name: str, role: str | None, seq: int) -> None:
        self.history.setdefault(name, []).append((seq, role))


def cabinet(app: App) -> Cabinet:
    """The cabinet as the log has it now (replayed again only when the log has grown)."""
    head = app.store.head()[0]
    signing = app.config.signing == "ssh"
    fallback = config_roles(app.config)
    stamp = (head, signing, tuple(fallback.items()), app.config.approvals_required)
    cached = getattr(app, "_cabinet", None)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    made = read_cabinet(app.store, signing, fallback, app.config.approvals_required)
    app._cabinet = (stamp, made)  # type: ignore[attr-defined]
    return made


def config_roles(config: Config) -> dict[str, str]:
    """Each person the config lists, with the highest role it lists them under."""
    found: dict[str, str] = {}
    for role in ROLES:
        for name in getattr(config, CONFIG_KEYS[role]):
            found[name] = role
    return found


def read_cabinet(store: Any, signing: bool, fallback: dict[str, str], fallback_required: int = 1) -> Cabinet:
    """Replay the log's cabinet events (see the guarantees). The first people stand for
    every row, so they are read first; a log without them reads `fallback` (the config),
    and one without a recorded quorum reads `fallback_required`."""
    made = Cabinet(quorum=[(0, fallback_required)])
    first = store.events(kind=PEOPLE_KINDS, limit=1)
    seeded = first[0] if first and first[0].kind == "people.bootstrap" else None
    listed = seeded.data.get("people") if seeded else [{"name": n, "role": r} for n, r in fallback.items()]
    if seeded:
        made.bootstrapped = seeded.seq
        recorded = seeded.data.get("required")
        if isinstance(recorded, int) and not isinstance(recorded, bool) and recorded >= 0:
            made.quorum, made.quorum_recorded = [(0, recorded)], True
    for item in listed if isinstance(listed, list) else ():
        if isinstance(item, dict) and item.get("role") in ROLES and item.get("name"):
            name, role = str(item["name"]), str(item["role"])
            made.people[name] = Person(name, role, since=seeded.seq if seeded else 0)
            made._set(name, role, 0)
    replay = _Replay(made, signing)
    for event in store.each(kind=CABINET_KINDS):
        if seeded is not None and event.seq == seeded.seq:
            continue
        problem = replay.apply(event)
        if problem:
            made.problems.append((event.seq, problem))
            if event.kind in sig.KEY_EVENTS:
                made.keyring.problems.append((event.seq, problem))
    return made


def proposal_digest(event: Any) -> str:
    """What a co-signature binds to: the proposal's kind, actor and data (signature aside)."""
    data = {key: value for key, value in event.data.items() if key != "signature"}
    return hashlib.sha256(canonical_bytes({"kind": event.kind, "actor": event.actor, "seq": event.seq,
                                           "data": data})).hexdigest()


def slack_of(data: dict[str, Any], old: Person | None) -> str | None:
    slack = data["slack"] if "slack" in data else (old.slack if old else None)
    return str(slack) if slack else None


def contact_of(data: dict[str, Any], old: Person | None) -> tuple[str | None, str | None]:
    email = data["email"] if "email" in data else (old.email if old else None)
    telegram = data["telegram"] if "telegram" in data else (old.telegram if old else None)
    return (str(email) if email else None), (str(telegram) if telegram else None)


def needs_quorum(was: str | None, role: str | None) -> bool:
    """Adding or removing an approver, or raising an existing person's role."""
    return (was == "approver") != (role == "approver") or (was is not None and rank(role) > rank(was))


class _Replay:
    def __init__(self, made: Cabinet, signing: bool) -> None:
        self.made = made
        self.signing = signing
        self.proposals: dict[str, Event] = {}

    def apply(self, event: Event) -> str | None:
        kind = event.kind
        if kind == "people.bootstrap":
            return self._bootstrap(event)
        if self.made.bootstrapped is None and kind in PEOPLE_KINDS + ACCESS_KINDS:
            return _("{kind} before the log's first people were recorded does not count").format(kind=kind)
        if kind == "key.enrolled" and event.data.get("bootstrap") in BOOTSTRAP_KEYS:
            return sig.apply_key_event(self.made.keyring, event)
        if kind in ("key.enrolled", "key.revoked"):
            return self._authority(event, signed=False) or sig.apply_key_event(self.made.keyring, event)
        if kind == "passkey.revoked":
            sig.apply_key_event(self.made.keyring, event)
            self.made.unconfirmed.pop(str(event.data.get("credential_id")), None)
            return None
        if kind == "passkey.enrolled":
            return self._passkey(event)
        problem = self._authority(event)
        if problem:
            return problem
        if kind in CHANGE_KINDS:
            return self._change(event)
        if kind == QUORUM_KIND:
            return self._quorum(event)
        if kind == "people.approved":
            return self._cosign(event)
        if kind == "person.invited":
            return self._invite(event)
        if kind == "passkey.confirmed":
            return self._confirm(event)
        if kind == "user.revoked":
            self._revoke_access(str(event.data.get("name")), event.seq)
        return None

    def _authority(self, event: Event, signed: bool = True) -> str | None:
        """Why `event` does not count as an approver's signed action at its row (`signed`
        False: the signature is the key events' own to check)."""
        if self.made.role_at(event.actor, event.seq) != "approver":
            return _("the {kind} by {actor} does not count: {actor} was not an approver at row {seq}").format(
                kind=event.kind, actor=event.actor, seq=event.seq)
        if signed and (self.signing or isinstance(event.data.get("signature"), dict)):
            problem = sig.check_event(event, self.made.keyring)
            if problem:
                return _("the {kind} by {actor} does not count: its signature does not verify ({problem})").format(
                    kind=event.kind, actor=event.actor, problem=problem)
        return None

    def _bootstrap(self, event: Event) -> str | None:
        return _("a second list of first people does not count (the log's first is row {seq})").format(
            seq=self.made.bootstrapped) if self.made.bootstrapped else \
            _("a list of first people after other changes of the cabinet does not count")

    def _change(self, event: Event) -> str | None:
        data, made = event.data, self.made
        name = str(data.get("name") or "")
        old = made.people.get(name)
        was = old.role if old else None
        role = None if event.kind == "person.removed" else (data.get("role") or was)
        if role is not None and role not in ROLES:
            return _("the {kind} of {name} names no known role").format(kind=event.kind, name=name)
        waiting = [change for change in made.pending.values() if change.name == name]
        if event.kind == "person.removed" and old is None and waiting:
            for other in waiting:
                del made.pending[other.id]
            return None
        if event.kind == "person.changed" and old is None or event.kind == "person.removed" and old is None:
            return _("the {kind} of {name} does not count: {name} was not in the cabinet").format(
                kind=event.kind, name=name)
        for other in [change for change in made.pending.values() if change.name == name]:
            del made.pending[other.id]
        needs = _count(data.get("needs"))
        change = Change(event.seq, event.kind, name, str(event.actor), role, was, needs, proposal_digest(event),
                        [str(event.actor)])
        if needs_quorum(was, role) and needs > 1:
            made.pending[change.id] = change
            self.proposals[change.id] = event
            return None
        self._take_effect(event, event.seq)
        return None

    def _quorum(self, event: Event) -> str | None:
        made, data = self.made, event.data
        required = data.get("required")
        if not isinstance(required, int) or isinstance(required, bool) or required < 0:
            return _("the quorum.changed by {actor} names no number of approvals").format(actor=event.actor)
        for other in [change for change in made.pending.values() if change.kind == QUORUM_KIND]:
            del made.pending[other.id]
        needs = max(_count(data.get("needs")), made.required_at(event.seq))
        change = Change(event.seq, QUORUM_KIND, "", str(event.actor), None, None, needs, proposal_digest(event),
                        [str(event.actor)], required)
        if needs > 1:
            made.pending[change.id] = change
            self.proposals[change.id] = event
            return None
        self._take_effect(event, event.seq)
        return None

    def _cosign(self, event: Event) -> str | None:
        data, made = event.data, self.made
        change = made.pending.get(str(data.get("change")))
        if change is None:
            return _("the people.approved by {actor} names no change that was waiting (change {change})").format(
                actor=event.actor, change=data.get("change"))
        if data.get("proposal") != change.digest or data.get("name") != change.name:
            return _("the people.approved by {actor} was signed for another proposal than change {change}").format(
                actor=event.actor, change=change.id)
        if event.actor in change.signers:
            return _("{actor} already signed change {change}; a second signature by the same person does not "
                     "count").format(actor=event.actor, change=change.id)
        change.signers.append(str(event.actor))
        if len(change.signers) >= change.needs:
            del made.pending[change.id]
            self._take_effect(self.proposals.pop(change.id), event.seq)
        return None

    def _take_effect(self, proposal: Event, seq: int) -> None:
        made, data = self.made, proposal.data
        if proposal.kind == QUORUM_KIND:
            made.quorum.append((seq, int(data["required"])))
            made.quorum_recorded = True
            return
        name = str(data.get("name"))
        old = made.people.get(name)
        if proposal.kind == "person.removed":
            if old is None:
                return
            del made.people[name]
            made._set(name, None, seq)
            self._revoke_access(name, seq)
            return
        role = str(data.get("role") or (old.role if old else "viewer"))
        email, telegram = contact_of(data, old)
        made.people[name] = Person(name, role, email, telegram, old.since if old else seq, slack_of(data, old))
        if old is None or old.role != role:
            made._set(name, role, seq)

    def _revoke_access(self, name: str, seq: int) -> None:
        made = self.made
        made.keyring.revoke(seq, lambda key: key.scheme != "ssh" and key.name == name)
        for credential in [cid for cid, item in made.unconfirmed.items() if item.key.name == name]:
            del made.unconfirmed[credential]
        for invite in made.invites.values():
            if invite.name == name and invite.ended is None:
                invite.ended = seq

    def _invite(self, event: Event) -> str | None:
        data = event.data
        name = str(data.get("name") or data.get("person") or "")
        if self.made.role_at(name, event.seq) is None:
            return _("the invitation of {name} does not count: {name} was not in the cabinet").format(name=name)
        token_hash = str(data.get("token_hash"))
        self.made.invites[token_hash] = Invite(name, str(event.actor), token_hash, str(data.get("expires")),
                                               event.seq, data.get("delivery"))
        return None

    def _passkey(self, event: Event) -> str | None:
        made, data = self.made, event.data
        invite = made.invites.get(str(data.get("invite")))
        name = str(data.get("name") or event.actor)
        if invite is None or invite.name != name:
            return _("the passkey enrolled for {name} does not count: no invitation of {name} was made for "
                     "it").format(name=name)
        if invite.ended is not None and invite.ended < event.seq:
            return _("the passkey enrolled for {name} does not count: its invitation (row {invite}) was revoked "
                     "at row {ended}").format(name=name, invite=invite.seq, ended=invite.ended)
        if invite.used is not None:
            return _("the passkey enrolled for {name} does not count: its invitation (row {invite}) was already "
                     "used at row {used}").format(name=name, invite=invite.seq, used=invite.used)
        if from_iso(event.ts) > from_iso(invite.expires):
            return _("the passkey enrolled for {name} does not count: its invitation (row {invite}) had "
                     "expired").format(name=name, invite=invite.seq)
        key, problem = sig.passkey_key(event, made.keyring)
        if key is None:
            return problem
        invite.used = event.seq
        credential = str(data.get("credential_id"))
        made.unconfirmed[credential] = PendingPasskey(replace(key, extra={**key.extra, "enrolled_seq": event.seq}),
                                                      invite.inviter, str(data.get("device") or ""),
                                                      passkey_fingerprint(key.public_key))
        return None

    def _confirm(self, event: Event) -> str | None:
        made, data = self.made, event.data
        name = str(data.get("name"))
        pending = made.unconfirmed.get(str(data.get("credential_id")))
        if pending is None or pending.key.name != name:
            return _("the confirmation by {actor} names no passkey of {name} waiting for one").format(
                actor=event.actor, name=name)
        problem = confirmer_problem(made, name, pending.inviter, str(event.actor), event.seq)
        if problem:
            return problem
        del made.unconfirmed[str(data.get("credential_id"))]
        made.keyring.keys.append(replace(pending.key, seq=event.seq, by=event.actor))
        return None


def confirmer_problem(made: Cabinet, name: str, inviter: str, actor: str, seq: int) -> str | None:
    """Why `actor` may not confirm `name`'s passkey made through `inviter`'s invitation."""
    if actor == name:
        return _("{name} cannot confirm their own passkey; another approver must").format(name=name)
    others = [person for person in made.approvers_at(seq) if person not in (name, inviter)]
    if actor == inviter and others:
        return _("{actor} invited {name}, so another approver ({others}) must confirm the passkey").format(
            actor=actor, name=name, others=", ".join(others))
    return None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def passkey_fingerprint(public_key: str) -> str:
    """The passkey's fingerprint people compare: 16 hex digits of the sha256 of its public key."""
    digest = hashlib.sha256(public_key.encode("ascii")).hexdigest()[:16].upper()
    return "-".join(digest[index:index + 4] for index in range(0, 16, 4))


def checked(app: App) -> Cabinet:
    """The cabinet for an action that counts roles, refused while the config's lists
    of people differ from the log's (nothing is written: see `settle`)."""
    made = cabinet(app)
    check_mirror(app, made)
    return made


def settle(app: App) -> None:
    """Before an action that counts roles is recorded: the config's lists become the
    log's first people when it has none (they stand for every row, earlier ones too)."""
    if cabinet(app).bootstrapped is None:
        record_first_people(app, "config/publisher.toml")


def record_first_people(app: App, source: str) -> Event | None:
    """Record the config's lists (as the file says now: `publish init` may just have
    written it) as the log's first people, unless the log has some. Serialised across
    processes and machines by the store's lock for it."""
    from publisher.workspace.config import load_config

    for _attempt in range(50):
        with app.store.delivery_lock("people", "bootstrap") as take:
            if not take():
                time.sleep(0.1)
                continue
            if app.store.events(kind=PEOPLE_KINDS, limit=1):
                return None
            config = load_config(app.workspace)
            listed = [{"name": name, "role": role} for name, role in config_roles(config).items()]
            return app.store.append("people.bootstrap", actor=None, data={
                "people": listed, "required": config.approvals_required, "source": source})
    raise Refused(_("another command is recording the cabinet's first people; try again."))


def mirror_difference(config: Config, made: Cabinet) -> str | None:
    """How the config's [approvals] lists differ from the people the log has, if they do."""
    if made.bootstrapped is None:
        return None
    listed, logged = config_roles(config), made.roles()
    for name, role in listed.items():
        if name not in logged:
            return _("config/publisher.toml lists {name} in [approvals] {key}, but the log has no {name}").format(
                name=name, key=CONFIG_KEYS[role])
        if logged[name] != role:
            return _("config/publisher.toml lists {name} in [approvals] {key}, but the log has {name} as "
                     "{role}").format(name=name, key=CONFIG_KEYS[role], role=_(logged[name]))
    for name, role in logged.items():
        if name not in listed:
            return _("config/publisher.toml does not list {name}, whom the log has as {role}").format(
                name=name, role=_(role))
    if made.quorum_recorded and config.approvals_required != made.required:
        return _("config/publisher.toml says [approvals] required = {config}, but the log's quorum is "
                 "{logged}").format(config=config.approvals_required, logged=made.required)
    return None


def check_mirror(app: App, made: Cabinet | None = None) -> None:
    """Refuse when the config's lists of people differ from the log's."""
    difference = mirror_difference(app.config, made or cabinet(app))
    if difference:
        raise Refused(_("refused: {difference}; the log is the list of people: `publish people list` shows it, "
                        "`publish people export` rewrites the config from it.").format(difference=difference))
