"""A real RFC 3161 time-stamping authority on 127.0.0.1: OpenSSL's `ts -reply` behind a
small HTTP handler speaking application/timestamp-query and application/timestamp-reply.

`make_authority(folder)` creates a throwaway root CA and a TSA certificate it issued
(extendedKeyUsage critical timeStamping) with the `openssl` command; `TimeStampAuthority`
serves time-stamps signed by it. Nothing of the code under test is replaced: the
workspace talks HTTP to it as it would to any public TSA.
"""
from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.server import FakeServer, Reply, Request

EXTENSIONS = """
[tsa_ext]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

TSA_CONFIG = """
[tsa]
default_tsa = tsa_config
[tsa_config]
dir = {folder}
serial = {folder}/serial
crypto_device = builtin
signer_cert = {folder}/tsa.pem
signer_key = {folder}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path) -> bytes:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


@dataclass(frozen=True)
class Authority:
    folder: Path
    ca: Path
    tsa: Path

    def bundle(self) -> bytes:
        """What a workspace puts in `[store] witness_certificate`: the TSA's certificate and its CA's."""
        return self.tsa.read_bytes() + self.ca.read_bytes()


def make_authority(folder: Path, name: str = "Test TSA") -> Authority:
    folder.mkdir(parents=True, exist_ok=True)
    curve = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl("req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3", "-subj",
             f"/CN={name} Root", "-addext", "basicConstraints=critical,CA:true",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    _openssl("req", *curve, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", f"/CN={name}", cwd=folder)
    (folder / "ext.cnf").write_text(EXTENSIONS)
    _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "tsa.pem", "-days", "3", "-extfile", "ext.cnf", "-extensions", "tsa_ext", cwd=folder)
    (folder / "serial").write_text("01\n")
    (folder / "tsa.cnf").write_text(TSA_CONFIG.format(folder=folder))
    return Authority(folder, folder / "ca.pem", folder / "tsa.pem")


class TimeStampAuthority:
    """Answers every POST with OpenSSL's time-stamp reply to the query in its body."""

    def __init__(self, authority: Authority):
        self.authority = authority
        self.stamped = 0
        self._lock = threading.Lock()
        self.server = FakeServer(self._answer)

    @property
    def url(self) -> str:
        return self.server.url + "/tsr"

    def _answer(self, request: Request) -> Reply:
        if request.method != "POST" or request.header("Content-Type") != "application/timestamp-query":
            return Reply(400, "expected a POST of application/timestamp-query")
        folder = self.authority.folder
        with self._lock:
            (folder / "query.tsq").write_bytes(request.body)
            _openssl("ts", "-reply", "-config", "tsa.cnf", "-queryfile", "query.tsq", "-out", "reply.tsr",
                     cwd=folder)
            self.stamped += 1
            body = (folder / "reply.tsr").read_bytes()
        return Reply(200, body, {"Content-Type": "application/timestamp-reply"})

    def __enter__(self) -> "TimeStampAuthority":
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
