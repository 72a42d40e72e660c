"""A push service stand-in (RFC 8030) on loopback, answering like Mozilla's autopush.

It makes subscriptions as a browser's `PushManager.subscribe` would (`subscribe(key)`:
an endpoint on this server and the keys `p256dh`, `auth`; it keeps the user agent's
private key), and on each POST to an endpoint it does what a real push service and the
browser do together:
- checks the VAPID authorization (RFC 8292): `vapid t=<JWT>,k=<key>`; the JWT's header
  is ES256, its signature verifies with `k`, `aud` is the endpoint's origin, `exp` is in
  the future and at most 24 h away, `sub` is a mailto: or https: address; `k` must be the
  `applicationServerKey` the subscription was made with (else 403, as autopush);
- requires `TTL` (400 without) and `Content-Encoding: aes128gcm`, a body of at most 4096
  bytes (413), and decrypts it with the subscription's keys (RFC 8291, RFC 8188), so a
  test reads what the phone would show (`delivered`);
- answers 201 Created with a `Location`; an unknown endpoint 404, a subscription the
  test ended (`expire`) 410 Gone, each with autopush's JSON error body; tests queue a
  429 with `Retry-After` (`queue`).
The decryption is written here from the RFCs with `cryptography`, not with the library
the publisher encrypts with.
"""
from __future__ import annotations

import base64
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tests.fakes.server import FakeServer, Reply, Request

HEADERS = {"Server": "autopush", "Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "location,www-authenticate",
           "Strict-Transport-Security": "max-age=31536000;includeSubDomains"}


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@dataclass
class PhoneKeys:
    """What the browser keeps for one subscription."""

    id: str
    private: ec.EllipticCurvePrivateKey
    auth: bytes
    server_key: bytes
    gone: bool = False


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def decrypt(body: bytes, private: ec.EllipticCurvePrivateKey, auth: bytes) -> bytes:
    """RFC 8291 section 3.4 and RFC 8188 section 2: one aes128gcm record."""
    salt, record_size, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    sender = body[21:21 + id_length]
    ciphertext = body[21 + id_length:]
    if id_length != 65 or record_size < 18 or len(ciphertext) > record_size:
        raise ValueError("bad aes128gcm header")
    shared = private.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender))
    ikm = _hkdf(auth, shared, b"WebPush: info\x00" + point(private.public_key()) + sender, 32)
    key = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    padded = AESGCM(key).decrypt(nonce, ciphertext, None).rstrip(b"\x00")
    if not padded.endswith(b"\x02"):
        raise ValueError("the last record has no 0x02 delimiter")
    return padded[:-1]


def check_vapid(authorization: str | None, audience: str, server_key: bytes) -> tuple[int, str] | None:
    """Why the VAPID authorization is refused (status, message), or None."""
    if not authorization or not authorization.lower().startswith("vapid "):
        return 401, "Missing or invalid VAPID Authorization header"
    fields = dict(part.strip().split("=", 1) for part in authorization[6:].split(",") if "=" in part)
    token, key = fields.get("t", ""), fields.get("k", "")
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
        header, claims = json.loads(b64decode(header_b64)), json.loads(b64decode(claims_b64))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64decode(key))
        signature = b64decode(signature_b64)
        if header.get("alg") != "ES256" or len(signature) != 64:
            return 401, "Invalid VAPID JWT header"
        public.verify(encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")),
                      f"{header_b64}.{claims_b64}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature, json.JSONDecodeError):
        return 401, "Invalid VAPID signature"
    now = time.time()
    if claims.get("aud") != audience:
        return 401, "VAPID aud does not match the endpoint's origin"
    if not isinstance(claims.get("exp"), int) or not now < claims["exp"] <= now + 24 * 3600:
        return 401, "VAPID exp is in the past or more than 24 hours away"
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:", "http://localhost")):
        return 401, "VAPID sub is not a mailto: or https: address"
    if b64decode(key) != server_key:
        return 403, "VAPID public key mismatch"
    return None


def error(status: int, errno: int, message: str) -> Reply:
    reason = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 410: "Gone",
              413: "Payload Too Large"}[status]
    return Reply(status, {"code": status, "errno": errno, "error": reason, "message": message,
                          "more_info": "http://autopush.readthedocs.io/en/latest/http.html#error-codes"},
                 dict(HEADERS))


class FakePushService(FakeServer):
    def __init__(self) -> None:
        super().__init__(self._answer)
        self.phones: dict[str, PhoneKeys] = {}
        self.delivered: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def subscribe(self, application_server_key: str) -> dict[str, Any]:
        """A new subscription for this key, as `PushSubscription.toJSON()` gives it."""
        phone = PhoneKeys(f"gAAAAAB{next(self._ids):06d}", ec.generate_private_key(ec.SECP256R1()),
                          __import__("os").urandom(16), b64decode(application_server_key))
        self.phones[phone.id] = phone
        return {"endpoint": f"{self.url}/wpush/v2/{phone.id}", "expirationTime": None,
                "keys": {"p256dh": b64encode(point(phone.private.public_key())), "auth": b64encode(phone.auth)}}

    def expire(self, endpoint: str) -> None:
        self.phones[endpoint.rsplit("/", 1)[1]].gone = True

    def for_endpoint(self, endpoint: str) -> list[dict[str, Any]]:
        return [item for item in self.delivered if item["endpoint"] == endpoint]

    def _answer(self, request: Request) -> Reply:
        if request.method != "POST" or not request.path.startswith("/wpush/v2/"):
            return error(404, 102, "Request did not validate Invalid token")
        phone = self.phones.get(request.path.rsplit("/", 1)[1])
        if phone is None:
            return error(404, 102, "Request did not validate Invalid token")
        if phone.gone:
            return error(410, 103, "Request did not validate Subscription expired")
        refused = check_vapid(request.header("Authorization"), self.url, phone.server_key)
        if refused:
            return error(refused[0], 109, refused[1])
        if request.header("TTL") is None:
            return error(400, 111, "Missing TTL header")
        if len(request.body) > 4096:
            return error(413, 104, "Data payload too large")
        if (request.header("Content-Encoding") or "").lower() != "aes128gcm":
            return error(400, 110, "Invalid or unsupported Content-Encoding")
        try:
            clear = decrypt(request.body, phone.private, phone.auth)
        except (ValueError, InvalidTag):
            return error(400, 110, "Could not decrypt the payload")
        endpoint = f"{self.url}{request.path}"
        self.delivered.append({"endpoint": endpoint, "payload": json.loads(clear), "ttl": request.header("TTL"),
                               "urgency": request.header("Urgency"), "at": time.time()})
        location = f"{self.url}/m/{phone.id}{len(self.delivered):04d}"
        return Reply(201, b"", {**HEADERS, "Location": location, "TTL": request.header("TTL") or "0"})

    @staticmethod
    def audience(endpoint: str) -> str:
        parts = urlsplit(endpoint)
        return f"{parts.scheme}://{parts.netloc}"
