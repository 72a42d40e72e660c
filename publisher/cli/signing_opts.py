"""The `--key` option of every command whose action is signed when `[approvals] signing = "ssh"`."""
from __future__ import annotations

from pathlib import Path

import click

key_option = click.option(
    "--key", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
    help='SSH private key to sign with when [approvals] signing = "ssh" (else $PUBLISH_SSH_KEY, '
         "else ~/.ssh/id_ed25519).")
