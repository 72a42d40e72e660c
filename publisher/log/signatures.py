"""Who did what, proven: signed actions, the signature schemes, and the keyring in the log.

The contract (the command line and the web console both follow it):

1. What is signed. An actor signs `action_message(action, subject, payload, actor)`:
   the UTF-8 bytes of

       publish <action>\\nsubject <subject>\\npayload <digest>\\nactor <actor>\\n

   where `digest` is `payload` itself when it is a string (a draft's sha256 hash), or
   the sha256 hex of the canonical JSON (sorted keys, no spaces) of `payload` when it is
   a dict: the event's `data` without its `signature` key. `ACTIONS` maps each signed
   event kind to its action and subject. A WebAuthn challenge is
   `hashlib.sha256(action_message(...)).digest()`.

2. Where the signature goes. In the signed event, `data["signature"]` is a dict with
   a `scheme` field: `{"scheme": "ssh", "key": FINGERPRINT, "signature": ARMORED}` for
   `ssh-keygen -Y sign` (namespace `publish-approval`). Other schemes add their own
   fields next to `scheme`.

3. How a scheme is verified. `SCHEMES` maps a scheme to `verify(message, signature,
   key) -> None | str` (None: good; else why not) where `key` is an `EnrolledKey` of the
   actor. `register_scheme(name, verify, check_enrolment=None)` adds one; a scheme listed
   in `LAZY_SCHEMES` ("webauthn" -> `publisher.log.passkeys`) is imported the first time
   it is needed, and that module calls `register_scheme` when imported. An unknown
   scheme never verifies.

4. The keyring is the log. `publisher.incident.roster` replays the log's cabinet
   events in order and applies each key event with `apply_key_event` (after its own
   check that the actor was an approver at that row):
   - `key.enrolled` {name, scheme, public_key, fingerprint, signature | bootstrap}: counts
     when signed (action "enrol", subject the new key's name) by a key already enrolled
     for the event's actor, or when it is a bootstrap enrolment (`bootstrap`: "init" or
     "allowed_signers") made before any signed enrolment;
   - `key.revoked` {name, fingerprint, signature}: signed the same way (by an approver);
     the key stops counting from that event on (what it signed before still verifies);
   - `passkey.enrolled` {name (else the actor), scheme (else "webauthn"), public_key,
     fingerprint (else credential_id), ...}: `passkey_key` reads it and the scheme's
     registered `check_enrolment(event, keyring) -> None | str` says whether its
     registration verifies; the roster decides when it counts (once confirmed);
   - `passkey.revoked` {credential_id}: the passkey stops counting from that event on
     (revoking only ever removes trust, so it needs no signature).
   An enrolment that does not count is listed in `Keyring.problems`, never used.

The log's hash chain (optionally keyed) detects edits; these signatures make the
actor's name proven rather than declared, even against someone who rewrites the whole
chain: a rewritten event no longer verifies with the key the log enrolled, and a
rewritten enrolment no longer matches `config/allowed_signers` (see `mirror_difference`).
"""
from __future__ import annotations

import binascii
import importlib
import json
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from publisher.errors import BadInput, Refused
from publisher.i18n import _

if TYPE_CHECKING:
    import subprocess

NAMESPACE = "publish-approval"
TIMEOUT = 20

# event kind -> (action, what the subject is)
ACTIONS: dict[str, tuple[str, str]] = {
    "draft.approved": ("approve", "draft"),
    "draft.rejected": ("reject", "draft"),
    "freeze": ("freeze", "workspace"),
    "unfreeze": ("unfreeze", "workspace"),
    "incident.decided": ("decide", "incident"),
    "delivery.confirmed": ("confirm", "draft/channel"),
    "delivery.retry": ("retry", "draft/channel"),
    "incident.edited": ("edit", "incident"),
    "incident.voided": ("void", "incident"),
    "withdrawal.requested": ("withdraw", "draft"),
    "key.enrolled": ("enrol", "name"),
    "key.revoked": ("revoke", "name"),
    "person.added": ("person-add", "name"),
    "person.changed": ("person-change", "name"),
    "person.removed": ("person-remove", "name"),
    "people.approved": ("people-approve", "name"),
    "quorum.changed": ("quorum", "workspace"),
    "person.invited": ("invite", "name"),
    "passkey.confirmed": ("passkey-confirm", "name"),
    "user.revoked": ("users-revoke", "name"),
}
KEY_EVENTS = ("key.enrolled", "key.revoked", "passkey.enrolled", "passkey.revoked")


@dataclass(frozen=True)
class BadSignature:
    """An approval (row `seq`) whose signature does not verify, and why."""

    seq: int
    approver: str
    draft: str
    reason: str


@dataclass(frozen=True)
class EnrolledKey:
    """A key the log enrols for `name` (row `seq`), until it is revoked (`revoked_seq`)."""

    name: str
    scheme: str
    public_key: str
    fingerprint: str
    seq: int
    by: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    revoked_seq: int | None = None

    def valid_at(self, seq: int) -> bool:
        return self.seq < seq and (self.revoked_seq is None or seq < self.revoked_seq)


@dataclass
class Keyring:
    """The keys the log enrols now, those it revoked, and the enrolment rows it refused."""

    keys: list[EnrolledKey] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    signed_enrolments: int = 0
    revoked: list[EnrolledKey] = field(default_factory=list)

    def revoke(self, seq: int, matches: Callable[[EnrolledKey], bool]) -> None:
        """Retire the matching keys from `seq` on; what they signed before still verifies."""
        self.revoked += [replace(key, revoked_seq=seq) for key in self.keys if matches(key)]
        self.keys = [key for key in self.keys if not matches(key)]

    def keys_for(self, name: str, scheme: str | None = None) -> list[EnrolledKey]:
        return [key for key in self.keys if key.name == name and (scheme is None or key.scheme == scheme)]

    def names(self) -> list[str]:
        return sorted({key.name for key in self.keys})


Verifier = Callable[[bytes, dict, EnrolledKey], "str | None"]
EnrolmentCheck = Callable[[Any, Keyring], "str | None"]
SCHEMES: dict[str, Verifier] = {}
ENROLMENT_CHECKS: dict[str, EnrolmentCheck] = {}
LAZY_SCHEMES = {"webauthn": "publisher.log.passkeys"}


def register_scheme(name: str, verify: Verifier, check_enrolment: EnrolmentCheck | None = None) -> None:
    SCHEMES[name] = verify
    if check_enrolment is not None:
        ENROLMENT_CHECKS[name] = check_enrolment


def _scheme(name: str) -> Verifier | None:
    if name not in SCHEMES and name in LAZY_SCHEMES:
        try:
            importlib.import_module(LAZY_SCHEMES[name])
        except ImportError:
            return None
    return SCHEMES.get(name)


def _digest(payload: str | dict[str, Any]) -> str:
    import hashlib

    if isinstance(payload, str):
        return payload
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def action_message(action: str, subject: str, payload: str | dict[str, Any], actor: str) -> bytes:
    """The exact bytes `actor` signs to take `action` on `subject` (see the contract)."""
    return f"publish {action}\nsubject {subject}\npayload {_digest(payload)}\nactor {actor}\n".encode("utf-8")


def event_subject(kind: str, incident: str | None, draft: str | None, channel: str | None,
                  data: dict[str, Any]) -> str:
    what = ACTIONS[kind][1]
    if what == "draft":
        return draft or ""
    if what == "draft/channel":
        return f"{draft}/{channel}"
    if what == "incident":
        return incident or ""
    if what == "name":
        return str(data.get("name", ""))
    return f"incident {incident}" if incident else "workspace"


def event_payload(kind: str, data: dict[str, Any]) -> str | dict[str, Any]:
    """An approval signs the draft's hash; every other action signs its data."""
    if kind == "draft.approved":
        return str(data.get("hash", ""))
    return {key: value for key, value in data.items() if key != "signature"}


def event_message(event: Any) -> bytes:
    """What the actor of a signed event (a `Store` event) signed."""
    action = ACTIONS[event.kind][0]
    subject = event_subject(event.kind, event.incident, event.draft, event.channel, event.data)
    return action_message(action, subject, event_payload(event.kind, event.data), event.actor or "")


def check_event(event: Any, keyring: Keyring) -> str | None:
    """None when the event's signature verifies with a key the log enrolled for its actor."""
    signature = event.data.get("signature")
    if not isinstance(signature, dict):
        return "it is not signed"
    scheme = str(signature.get("scheme", ""))
    verify = _scheme(scheme)
    if verify is None:
        return f"unknown signature scheme {scheme!r}"
    keys = [key for key in keyring.keys + keyring.revoked
            if key.name == (event.actor or "") and key.scheme == scheme and key.valid_at(event.seq)]
    if not keys:
        return f"no {scheme} key is enrolled in the log for {event.actor!r}"
    message = event_message(event)
    problems = [verify(message, signature, key) for key in keys]
    return None if any(problem is None for problem in problems) else problems[-1]


def apply_key_event(ring: Keyring, event: Any) -> str | None:
    """Apply one `key.enrolled`, `key.revoked` or `passkey.revoked` event to `ring`;
    why it does not count, or None (see the contract)."""
    data = event.data
    if event.kind == "passkey.revoked":
        ring.revoke(event.seq, lambda key: key.scheme != "ssh" and key.fingerprint == data.get("credential_id"))
        return None
    if event.kind == "key.revoked":
        problem = check_event(event, ring)
        if problem:
            return f"the revocation by {event.actor} does not verify ({problem})"
        ring.revoke(event.seq, lambda key: key.name == data.get("name") and key.fingerprint == data.get("fingerprint"))
        return None
    key, problem = _enrolled(event, "ssh")
    if key is None:
        return problem
    if data.get("bootstrap"):
        problem = "a first key enrolled after signed enrolments" if ring.signed_enrolments else None
    else:
        problem = check_event(event, ring)
        if problem is None:
            ring.signed_enrolments += 1
    if problem:
        return f"the enrolment of {key.name}'s key does not count ({problem})"
    ring.keys.append(key)
    return None


def passkey_key(event: Any, ring: Keyring) -> tuple[EnrolledKey | None, str | None]:
    """The key a `passkey.enrolled` event enrols, once its scheme's check accepts its
    registration; else (None, why not)."""
    key, problem = _enrolled(event, "webauthn")
    if key is None:
        return None, problem
    check = ENROLMENT_CHECKS.get(key.scheme) if _scheme(key.scheme) else None
    problem = check(event, ring) if check else f"no enrolment check for scheme {key.scheme!r}"
    if problem:
        return None, f"the enrolment of {key.name}'s key does not count ({problem})"
    return key, None


def _enrolled(event: Any, default_scheme: str) -> tuple[EnrolledKey | None, str | None]:
    data = event.data
    passkey = event.kind == "passkey.enrolled"
    name = data.get("name") or (event.actor if passkey else None)
    scheme = data.get("scheme") or (default_scheme if passkey else None)
    fingerprint = data.get("fingerprint") or (data.get("credential_id") if passkey else None)
    missing = [field for field, value in (("name", name), ("scheme", scheme), ("public_key", data.get("public_key")),
                                          ("fingerprint", fingerprint)) if not value]
    if missing:
        return None, f"the enrolment has no {missing[0]}"
    key = EnrolledKey(str(name), str(scheme), str(data["public_key"]), str(fingerprint), event.seq, event.actor,
                      {k: v for k, v in data.items() if k != "signature"})
    if key.scheme == "ssh" and ssh_fingerprint(key.public_key) != key.fingerprint:
        return None, f"the enrolled key of {key.name} does not match its fingerprint"
    return key, None


def ssh_fingerprint(public_key: str) -> str | None:
    """`SHA256:...` of an OpenSSH public key line, or None when it is not one."""
    import base64
    import hashlib

    parts = public_key.split()
    if len(parts) < 2:
        return None
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(blob) < 4 or blob[4:4 + int.from_bytes(blob[:4], "big")] != parts[0].encode():
        return None
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def read_public_key(path: Path) -> tuple[str, str]:
    """(key line without comment, fingerprint) of an OpenSSH public key file."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(_("{path}: cannot read the public key ({reason}).").format(
            path=path, reason=getattr(error, "strerror", None) or error)) from None
    line = " ".join(text.split()[:2]) if text else ""
    fingerprint = ssh_fingerprint(line)
    if fingerprint is None or "\n" in text:
        raise BadInput(_("{path} is not an OpenSSH public key (one line like 'ssh-ed25519 AAAA... name').").format(
            path=path))
    return line, fingerprint


def parse_allowed_signers(path: Path) -> set[tuple[str, str]]:
    """(principal, key line) pairs of an allowed_signers file."""
    pairs: set[tuple[str, str]] = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        start = next((i for i, item in enumerate(fields[1:], 1) if item.startswith(("ssh-", "ecdsa-", "sk-"))), None)
        if start is None or start + 1 >= len(fields):
            raise BadInput(_("{file} line {number}: expected 'NAME [options] KEYTYPE KEY'.").format(
                file=path.name, number=number))
        key = f"{fields[start]} {fields[start + 1]}"
        for principal in fields[0].split(","):
            pairs.add((principal, key))
    return pairs


def allowed_signers_text(keyring: Keyring) -> str:
    lines = [f'{key.name} namespaces="{NAMESPACE}" {key.public_key}' for key in keyring.keys if key.scheme == "ssh"]
    return "".join(line + "\n" for line in lines)


def mirror_difference(keyring: Keyring, path: Path) -> str | None:
    """How `path` (the allowed_signers mirror) differs from the SSH keys the log enrols."""
    enrolled = {(key.name, key.public_key) for key in keyring.keys if key.scheme == "ssh"}
    if not path.exists():
        return _("{file} is missing but the log enrols keys for {names}").format(
            file=path.name, names=", ".join(sorted({name for name, _key in enrolled})))
    listed = parse_allowed_signers(path)
    extra = sorted(listed - enrolled)
    if extra:
        name, key = extra[0]
        return _("{file} lists a key for {name} ({fingerprint}) that the log never enrolled (edited outside "
                 "`publish keys add`?)").format(file=path.name, name=name, fingerprint=ssh_fingerprint(key))
    missing = sorted(enrolled - listed)
    if missing:
        name, key = missing[0]
        return _("{file} lacks {name}'s key ({fingerprint}) that the log enrols").format(
            file=path.name, name=name, fingerprint=ssh_fingerprint(key))
    return None


def config_folder() -> Path:
    """The user's own folder for publish: `$XDG_CONFIG_HOME/publish`, else `~/.config/publish`."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".config") / "publish"


def default_key() -> Path:
    """The SSH private key a person signs with when no `--key` is given, the one lookup
    every signing path uses: `$PUBLISH_SSH_KEY`, else `~/.ssh/id_ed25519` when it exists,
    else `id_ed25519` in the user's config folder (where `publish init` makes one)."""
    chosen = os.environ.get("PUBLISH_SSH_KEY")
    if chosen:
        return Path(chosen).expanduser()
    ssh = Path.home() / ".ssh" / "id_ed25519"
    return ssh if ssh.exists() else config_folder() / "id_ed25519"


def make_key(key: Path, comment: str) -> None:
    """An Ed25519 key pair at `key` and `key.pub`, as `ssh-keygen -t ed25519 -N ''` makes
    it: no passphrase, the private key 0600 in a folder it creates 0700."""
    try:
        key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise BadInput(_("cannot make the folder {folder} for a signing key: {reason}.").format(
            folder=key.parent, reason=error.strerror or error)) from None
    result = _ssh_keygen(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)], b"")
    if result.returncode != 0 or not key.exists():
        raise BadInput(_("ssh-keygen could not make a signing key at {key}: {reason}").format(
            key=key, reason=_first_line(result.stderr)))
    key.chmod(0o600)


def sign(message: bytes, key: Path) -> str:
    if not key.exists():
        raise Refused(_("this action must be signed, but there is no SSH key at {key}; "
                        "give --key PATH or set PUBLISH_SSH_KEY.").format(key=key))
    result = _ssh_keygen(["-Y", "sign", "-n", NAMESPACE, "-f", str(key)], message)
    if result.returncode != 0 or b"BEGIN SSH SIGNATURE" not in result.stdout:
        raise Refused(_("could not sign with {key}: {reason}").format(key=key, reason=_first_line(result.stderr)))
    return result.stdout.decode()


def ssh_signature(message: bytes, key: Path) -> dict[str, Any]:
    """The `data["signature"]` of an action signed with the SSH private key `key`."""
    armored = sign(message, key)
    public = Path(str(key) + ".pub")
    fingerprint = read_public_key(public)[1] if public.exists() else None
    return {"scheme": "ssh", "key": fingerprint, "signature": armored}


def _verify_ssh(message: bytes, signature: dict, key: EnrolledKey) -> str | None:
    if signature.get("key") and signature["key"] != key.fingerprint:
        return f"signed with {signature['key']}, not with {key.name}'s enrolled key {key.fingerprint}"
    return _ssh_check(message, str(signature.get("signature", "")), key.public_key)


@lru_cache(maxsize=4096)
def _ssh_check(message: bytes, armored: str, public_key: str) -> str | None:
    from publisher.log.sshsig import verify_ed25519

    fast = verify_ed25519(message, armored, public_key, NAMESPACE)
    if fast is not None:
        return None if fast else _("the signature does not verify with this key")
    return _ssh_keygen_check(message, armored, public_key)


def _ssh_keygen_check(message: bytes, armored: str, public_key: str) -> str | None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="publish-sig-") as folder:
        signers = Path(folder) / "allowed_signers"
        signers.write_text(f'signer namespaces="{NAMESPACE}" {public_key}\n', encoding="utf-8")
        sig = Path(folder) / "message.sig"
        sig.write_text(armored, encoding="utf-8")
        result = _ssh_keygen(["-Y", "verify", "-f", str(signers), "-I", "signer", "-n", NAMESPACE,
                              "-s", str(sig)], message)
    if result.returncode == 0:
        return None
    return _first_line(result.stderr) or "the signature does not verify"


register_scheme("ssh", _verify_ssh)


def _ssh_keygen(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    """ssh-keygen as a child process (subprocess and tempfile load only when one is spawned)."""
    import subprocess

    try:
        return subprocess.run(["ssh-keygen", *args], input=stdin, capture_output=True, timeout=TIMEOUT,
                              env={**os.environ, "SSH_ASKPASS_REQUIRE": "never"})
    except FileNotFoundError:
        raise BadInput(_("signed actions need ssh-keygen (OpenSSH 8.2 or later) on the PATH.")) from None
    except subprocess.TimeoutExpired:
        raise Refused(_("ssh-keygen did not answer in time (a key with a passphrase needs ssh-agent).")) from None


def _first_line(data: bytes) -> str:
    lines = [line.strip() for line in data.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no reason given"
