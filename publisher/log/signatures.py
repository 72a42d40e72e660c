"""Signed approvals with SSH keys (`ssh-keygen -Y`, the format git uses).

Guarantees: with `[approvals] signing = "ssh"`, an approval is recorded only with a
signature that `ssh-keygen -Y verify` accepts for that approver's name in the
`allowed_signers` file, over a message binding the draft id, the draft's hash and the
approver; `verify_approvals` re-checks every recorded signature, so an approval
rewritten later (even with the chain recomputed) is caught.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from publisher.errors import BadInput, Refused

NAMESPACE = "publish-approval"
TIMEOUT = 20


@dataclass(frozen=True)
class BadSignature:
    seq: int
    approver: str
    draft: str
    reason: str


def approval_message(draft_id: str, draft_hash: str, approver: str) -> bytes:
    return f"publish approval\ndraft {draft_id}\nhash {draft_hash}\napprover {approver}\n".encode()


def default_key() -> Path:
    chosen = os.environ.get("PUBLISH_SSH_KEY")
    return Path(chosen).expanduser() if chosen else Path.home() / ".ssh" / "id_ed25519"


def sign(message: bytes, key: Path) -> str:
    if not key.exists():
        raise Refused(f"approvals must be signed, but there is no SSH key at {key}; "
                      "give --key PATH or set PUBLISH_SSH_KEY.")
    result = _ssh_keygen(["-Y", "sign", "-n", NAMESPACE, "-f", str(key)], message)
    if result.returncode != 0 or b"BEGIN SSH SIGNATURE" not in result.stdout:
        raise Refused(f"could not sign with {key}: {_first_line(result.stderr)}")
    return result.stdout.decode()


def check(message: bytes, signature: str, approver: str, allowed_signers: Path) -> str | None:
    """None when the signature is good for `approver`, else why not."""
    if not allowed_signers.exists():
        raise BadInput(f"[approvals] allowed_signers: {allowed_signers} does not exist.")
    with tempfile.NamedTemporaryFile("w", suffix=".sig", delete=False) as handle:
        handle.write(signature)
    try:
        result = _ssh_keygen(["-Y", "verify", "-f", str(allowed_signers), "-I", approver, "-n", NAMESPACE,
                              "-s", handle.name], message)
    finally:
        os.unlink(handle.name)
    if result.returncode == 0:
        return None
    return _first_line(result.stderr) or "the signature does not verify"


def _ssh_keygen(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["ssh-keygen", *args], input=stdin, capture_output=True, timeout=TIMEOUT,
                              env={**os.environ, "SSH_ASKPASS_REQUIRE": "never"})
    except FileNotFoundError:
        raise BadInput("signed approvals need ssh-keygen (OpenSSH 8.2 or later) on the PATH.") from None
    except subprocess.TimeoutExpired:
        raise Refused("ssh-keygen did not answer in time (a key with a passphrase needs ssh-agent).") from None


def _first_line(data: bytes) -> str:
    lines = [line.strip() for line in data.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no reason given"
