"""Creating a workspace from the shipped example."""
from __future__ import annotations

import shutil
from pathlib import Path

from publisher.errors import BadInput
from publisher.workspace.config import CONFIG_FILE
from publisher.workspace.discovery import refuse_nested
from publisher.workspace.shipped import shipped_path
from publisher.i18n import _

GITIGNORE = "var/\nconfig/secrets.toml\n"
TEMPLATES_README = """Templates placed here override the shipped ones of the same path:
  <lang>/<kind>.<variant>.j2          e.g. es/apology.short.j2
  <lang>/case<N>/<kind>.<variant>.j2  e.g. en/case2/apology.long.j2
Variants: short (X, Mastodon), long (Facebook, email, site), title.
"""


def create_workspace(directory: Path) -> Path:
    directory = directory.expanduser().resolve()
    target = directory / CONFIG_FILE
    if target.exists():
        raise BadInput(_("{target} already exists; choose an empty folder or edit that file.").format(
                           target=target))
    refuse_nested(directory)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shipped_path("config") / "publisher.toml", target)
        (directory / "templates").mkdir(exist_ok=True)
        (directory / "templates" / "README.txt").write_text(TEMPLATES_README, encoding="utf-8")
        (directory / "var").mkdir(mode=0o700, exist_ok=True)
        ignore = directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text(GITIGNORE, encoding="utf-8")
    except OSError as error:
        raise BadInput(_("cannot create a workspace in {directory}: {strerror}.").format(
                           directory=directory, strerror=error.strerror)) from None
    return directory
