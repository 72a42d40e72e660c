"""The `--key` option of every command whose action is signed when `[approvals] signing = "ssh"`."""
from __future__ import annotations

from pathlib import Path

import click
from publisher.i18n import N_

key_option = click.option(
    "--key", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
    help=N_('SSH private key to sign with when [approvals] signing = "ssh" (else $PUBLISH_SSH_KEY, '
         "else ~/.ssh/id_ed25519)."))
