"""What `publish init` says about signing."""
from __future__ import annotations

from typing import Any

from publisher.cli.output import say
from publisher.i18n import _


def say_signing(done: Any) -> None:
    if done is None:
        say(_('Signing is off ([approvals] signing = "none"): approvals, freezes and decisions are unsigned and '
              "self-declared. With an SSH key (ssh-keygen -t ed25519), set signing = \"ssh\" and enrol it: "
              "publish keys add NAME ~/.ssh/id_ed25519.pub"))
        return
    say(_('Signing is on ([approvals] signing = "ssh"): your key {fingerprint} ({key}) is enrolled in the log as '
          "{user}.").format(fingerprint=done.fingerprint, key=done.key, user=done.user))
    say(_("Enrol each other approver's public key (you sign the enrolment): publish keys add NAME THEIR_KEY.pub "
          "--as {user}").format(user=done.user))
