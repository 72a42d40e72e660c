"""Passkeys (WebAuthn, with py_webauthn): enrolment, login and signed actions.

Guarantees:
- An enrolment is accepted only for the challenge the server issued, on the console's
  RP id and origin, with the user present and verified; what is kept is the
  credential id and its public key (COSE), never anything secret.
- An action's challenge is `sha256(message) || nonce`: the first 32 bytes commit to
  the exact bytes the person signs for that action (the draft's hash among them), the
  nonce (8 bytes of milliseconds since the epoch, 16 random) makes every ceremony
  fresh. The assertion (authenticator data, client data, signature, credential id) is
  stored whole, so `check()` re-verifies it offline with the enrolled public key: an
  assertion made for another message, by another key, or edited later, fails.
- Freshness and replay (a nonce already recorded, a nonce too old, a sign count that
  did not move) are checked by the caller with `nonce_time()` before recording.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

SCHEME = "webauthn"
NONCE_BYTES = 24
FRESH_FOR = timedelta(minutes=5)


class PasskeyError(Exception):
    """An enrolment or assertion that does not verify; the text says why."""


@dataclass(frozen=True)
class EnrolledKey:
    credential_id: str
    public_key: str
    sign_count: int


@dataclass(frozen=True)
class Origin:
    """The console's WebAuthn identity, from `[console] base_url`."""
    rp_id: str
    origin: str

    @classmethod
    def from_url(cls, base_url: str) -> "Origin":
        parts = urlsplit(base_url)
        return cls(parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise PasskeyError("a field is not base64url") from None


def new_nonce(now: datetime) -> bytes:
    millis = int(now.timestamp() * 1000)
    return millis.to_bytes(8, "big") + secrets.token_bytes(NONCE_BYTES - 8)


def nonce_time(nonce: bytes) -> datetime:
    return datetime.fromtimestamp(int.from_bytes(nonce[:8], "big") / 1000, timezone.utc)


def is_fresh(nonce: bytes, now: datetime) -> bool:
    return len(nonce) == NONCE_BYTES and timedelta(seconds=-30) <= now - nonce_time(nonce) <= FRESH_FOR


def action_challenge(message: bytes, nonce: bytes) -> bytes:
    return hashlib.sha256(message).digest() + nonce


def registration_options(origin: Origin, rp_name: str, user: str, challenge: bytes,
                         exclude: list[str]) -> dict[str, Any]:
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (AuthenticatorSelectionCriteria, PublicKeyCredentialDescriptor,
                                          ResidentKeyRequirement, UserVerificationRequirement)

    options = generate_registration_options(
        rp_id=origin.rp_id, rp_name=rp_name, user_name=user, user_display_name=user,
        user_id=hashlib.sha256(user.encode()).digest()[:16], challenge=challenge, timeout=120000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=unb64url(item)) for item in exclude])
    return json.loads(options_to_json(options))


def verify_enrolment(credential: dict[str, Any], challenge: bytes, origin: Origin) -> EnrolledKey:
    from webauthn import verify_registration_response

    try:
        verified = verify_registration_response(credential=credential, expected_challenge=challenge,
                                                expected_rp_id=origin.rp_id, expected_origin=origin.origin,
                                                require_user_verification=True)
    except Exception as error:  # py_webauthn raises several types for a bad response
        raise PasskeyError(f"the passkey enrolment did not verify ({_reason(error)})") from None
    return EnrolledKey(b64url(verified.credential_id), b64url(verified.credential_public_key),
                       verified.sign_count)


def assertion_options(origin: Origin, challenge: bytes, allow: list[str]) -> dict[str, Any]:
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    options = generate_authentication_options(
        rp_id=origin.rp_id, challenge=challenge, timeout=120000,
        allow_credentials=[PublicKeyCredentialDescriptor(id=unb64url(item)) for item in allow],
        user_verification=UserVerificationRequirement.REQUIRED)
    return json.loads(options_to_json(options))


def stored_assertion(credential: dict[str, Any], nonce: bytes, origin: Origin) -> dict[str, Any]:
    """The browser's answer as kept in the log: everything needed to verify it again."""
    try:
        response = credential["response"]
        data = {"scheme": SCHEME, "credential_id": str(credential["id"]),
                "authenticator_data": str(response["authenticatorData"]),
                "client_data_json": str(response["clientDataJSON"]), "signature": str(response["signature"]),
                "nonce": b64url(nonce), "rp_id": origin.rp_id, "origin": origin.origin}
    except (KeyError, TypeError):
        raise PasskeyError("the passkey answer is incomplete") from None
    return data


def verify_assertion(stored: dict[str, Any], challenge: bytes, public_key: str, sign_count: int) -> int:
    """Verify one assertion for `challenge`; return the authenticator's new sign count."""
    from webauthn import verify_authentication_response

    credential = {"id": stored.get("credential_id"), "rawId": stored.get("credential_id"), "type": "public-key",
                  "response": {"authenticatorData": stored.get("authenticator_data"),
                               "clientDataJSON": stored.get("client_data_json"),
                               "signature": stored.get("signature")}}
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=str(stored.get("rp_id")),
            expected_origin=str(stored.get("origin")), credential_public_key=unb64url(public_key),
            credential_current_sign_count=sign_count, require_user_verification=True)
    except PasskeyError:
        raise
    except Exception as error:
        raise PasskeyError(f"the passkey signature does not verify ({_reason(error)})") from None
    return verified.new_sign_count


def enrolment_message(invite_hash: str) -> bytes:
    return f"publish enrolment\ninvite {invite_hash}\n".encode()


def stored_registration(credential: dict[str, Any]) -> dict[str, str]:
    try:
        response = credential["response"]
        return {"client_data_json": str(response["clientDataJSON"]),
                "attestation_object": str(response["attestationObject"])}
    except (KeyError, TypeError):
        raise PasskeyError("the passkey enrolment is incomplete") from None


def check_enrolment(event: Any, keyring: Any = None) -> str | None:
    """A `passkey.enrolled` event counts when its registration, kept whole, still
    verifies offline: made over a challenge committing to the invitation, on the RP id
    and origin recorded, for the very public key and credential id recorded."""
    from webauthn import verify_registration_response

    data = event.data
    registration = data.get("registration") or {}
    try:
        client = json.loads(unb64url(str(registration.get("client_data_json", ""))))
        challenge = unb64url(str(client["challenge"]))
        if challenge[:32] != hashlib.sha256(enrolment_message(str(data.get("invite")))).digest():
            return "its registration was not made for its invitation"
        credential = {"id": data.get("credential_id"), "rawId": data.get("credential_id"), "type": "public-key",
                      "response": {"clientDataJSON": registration.get("client_data_json"),
                                   "attestationObject": registration.get("attestation_object")}}
        verified = verify_registration_response(credential=credential, expected_challenge=challenge,
                                                expected_rp_id=str(data.get("rp_id")),
                                                expected_origin=str(data.get("origin")),
                                                require_user_verification=True)
    except Exception as error:
        return f"its registration does not verify ({_reason(error)})"
    if b64url(verified.credential_public_key) != data.get("public_key") or \
            b64url(verified.credential_id) != data.get("fingerprint"):
        return "its public key differs from the one its registration made"
    return None


def verify_signed(message: bytes, signature: dict[str, Any], key: Any) -> str | None:
    """The `webauthn` scheme of `publisher.log.signatures`: `key` is the actor's EnrolledKey."""
    if signature.get("credential_id") != key.fingerprint:
        return "signed with another passkey than this enrolled one"
    return check(message, signature, key.public_key)


def check(message: bytes, stored: dict[str, Any], public_key: str | None) -> str | None:
    """Offline re-verification of a recorded signed action: None when good, else why not."""
    if not public_key:
        return f"credential {str(stored.get('credential_id'))[:16]} is not an enrolled passkey"
    try:
        nonce = unb64url(str(stored.get("nonce", "")))
        verify_assertion(stored, action_challenge(message, nonce), public_key, 0)
    except PasskeyError as error:
        return str(error)
    return None


def _reason(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:160]


def _register() -> None:
    from publisher.log import signatures

    if hasattr(signatures, "register_scheme"):
        signatures.register_scheme(SCHEME, verify_signed, check_enrolment)


_register()
