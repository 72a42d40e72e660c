"""Certificates made at test time with `cryptography`, for loopback TLS servers.

`Authority(folder)` is a test certificate authority (its certificate in `ca.pem`, for
`REQUESTS_CA_BUNDLE` or `SSL_CERT_FILE`); `authority.issue(names)` signs a server
certificate for those DNS names or IP addresses, `self_signed(names)` makes one nobody
vouches for, and `expired=True` one whose validity ended yesterday. `server_context`
loads a certificate and key for `FakeServer.use_tls`.
"""
from __future__ import annotations

import ipaddress
import ssl
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _names(names: tuple[str, ...]) -> list[x509.GeneralName]:
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    return alternatives


def _write(folder: Path, stem: str, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _leaf(subject_names: tuple[str, ...], key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
          signer: ec.EllipticCurvePrivateKey, expired: bool) -> x509.Certificate:
    now = datetime.now(timezone.utc)
    start, end = (now - timedelta(days=3), now - timedelta(days=1)) if expired else (now - timedelta(hours=1),
                                                                                     now + timedelta(days=2))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_names[0])])
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(_names(subject_names)), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(signer, hashes.SHA256()))


class Authority:
    """A certificate authority of the test's own, written to `folder/ca.pem`."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.key = _key()
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "publish test authority")])
        now = datetime.now(timezone.utc)
        self.certificate = (
            x509.CertificateBuilder().subject_name(self.name).issuer_name(self.name)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256()))
        self.path = folder / "ca.pem"
        self.path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def issue(self, *names: str, expired: bool = False, stem: str = "server") -> tuple[Path, Path]:
        """A server certificate for `names` signed by this authority, and its key."""
        key = _key()
        return _write(self.folder, stem, _leaf(names, key, self.name, self.key, expired), key)


def self_signed(folder: Path, *names: str, stem: str = "self-signed") -> tuple[Path, Path]:
    """A server certificate for `names` that signs itself: no authority vouches for it."""
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    return _write(folder, stem, _leaf(names, key, subject, key, expired=False), key)


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
