"""The in-process SSHSIG check agrees with `ssh-keygen -Y verify` on every case, and
declines (None, so ssh-keygen decides) what it does not handle."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from publisher.log.signatures import NAMESPACE, _ssh_keygen_check, action_message
from publisher.log.sshsig import verify_ed25519
from tests.trust_support import make_keys, ssh_sign

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed")
MESSAGE = action_message("approve", "0123456789ab", "f" * 64, "ana")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return make_keys(tmp_path_factory.mktemp("keys"), "ana", "mallory")


def _public(path) -> str:
    return " ".join(open(str(path) + ".pub").read().split()[:2])


@pytest.mark.parametrize("case", ["good", "other message", "other key", "other namespace"])
def test_it_agrees_with_ssh_keygen(keys, case):
    message, key, namespace = MESSAGE, _public(keys["ana"]), NAMESPACE
    signature = ssh_sign(MESSAGE, keys["ana"])
    if case == "other message":
        message = MESSAGE.replace(b"ana", b"luis")
    elif case == "other key":
        key = _public(keys["mallory"])
    elif case == "other namespace":
        signature = subprocess.run(["ssh-keygen", "-Y", "sign", "-n", "git", "-f", str(keys["ana"])], input=MESSAGE,
                                   capture_output=True, check=True).stdout.decode()
    fast = verify_ed25519(message, signature, key, namespace)
    assert fast is (case == "good")
    assert (_ssh_keygen_check(message, signature, key) is None) is fast


def test_it_declines_what_it_does_not_handle(keys, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", str(tmp_path / "ec")], check=True)
    signature = ssh_sign(MESSAGE, tmp_path / "ec")
    assert verify_ed25519(MESSAGE, signature, _public(tmp_path / "ec"), NAMESPACE) is None
    assert verify_ed25519(MESSAGE, "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----",
                          _public(keys["ana"]), NAMESPACE) is None
