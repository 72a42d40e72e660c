"""Offline verification of an OpenSSH signature (SSHSIG, `ssh-keygen -Y sign`) made
with an Ed25519 key, without starting ssh-keygen (0.3 ms instead of 17 ms, which matters
where every approval of every draft is re-verified).

Guarantees: `verify_ed25519` answers True only when the armored signature is an SSHSIG
version 1 blob for exactly `public_key`, in `namespace`, whose Ed25519 signature covers
the SSHSIG signed data (magic, namespace, reserved, hash algorithm, hash of `message`);
False when it is well-formed and does not verify; None when it cannot judge (another
key type, a malformed blob, `cryptography` missing), so the caller falls back to
ssh-keygen. The format is OpenSSH's PROTOCOL.sshsig.
"""
from __future__ import annotations

import base64
import binascii
import hashlib

MAGIC = b"SSHSIG"
HASHES = {b"sha256": hashlib.sha256, b"sha512": hashlib.sha512}


def verify_ed25519(message: bytes, armored: str, public_key: str, namespace: str) -> bool | None:
    try:
        blob = _unarmor(armored)
        fields = _Reader(blob[len(MAGIC):]) if blob.startswith(MAGIC) else None
        if fields is None or fields.uint32() != 1:
            return None
        signer, signed_namespace, reserved, algorithm = fields.string(), fields.string(), fields.string(), \
            fields.string()
        signature = _Reader(fields.string())
        kind, raw = signature.string(), signature.string()
        enrolled = base64.b64decode(public_key.split()[1], validate=True)
    except (ValueError, IndexError, binascii.Error):
        return None
    if kind != b"ssh-ed25519" or not enrolled.startswith(_string(b"ssh-ed25519")) or algorithm not in HASHES:
        return None
    if signer != enrolled or signed_namespace != namespace.encode():
        return False
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        return None
    signed = MAGIC + _string(signed_namespace) + _string(reserved) + _string(algorithm) + \
        _string(HASHES[algorithm](message).digest())
    try:
        Ed25519PublicKey.from_public_bytes(_Reader(enrolled).skip().string()).verify(raw, signed)
    except (InvalidSignature, ValueError):
        return False
    return True


def _unarmor(armored: str) -> bytes:
    lines = [line.strip() for line in armored.strip().splitlines()]
    if not lines or lines[0] != "-----BEGIN SSH SIGNATURE-----" or lines[-1] != "-----END SSH SIGNATURE-----":
        raise ValueError("not an armored SSH signature")
    return base64.b64decode("".join(lines[1:-1]), validate=True)


def _string(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def uint32(self) -> int:
        if self.at + 4 > len(self.data):
            raise ValueError("truncated")
        self.at += 4
        return int.from_bytes(self.data[self.at - 4:self.at], "big")

    def string(self) -> bytes:
        size = self.uint32()
        if self.at + size > len(self.data):
            raise ValueError("truncated")
        self.at += size
        return self.data[self.at - size:self.at]

    def skip(self) -> "_Reader":
        self.string()
        return self
