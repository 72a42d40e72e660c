"""The workspace folder: where the shipped templates and example config are, finding the
workspace a folder belongs to, and creating one from the shipped example.

Guarantees: a workspace is the nearest folder, the given one or one of its parents,
that holds `config/publisher.toml`; nothing else (a stray `config/` folder without that
file) makes one. `publish init` never nests a workspace inside another, and never
overwrites an existing config; a practice workspace is marked as one in its config. A wheel carries the shipped files in
`publisher/_shipped/`; a source checkout (and an editable install) has them at the
repository root.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from publisher.errors import BadInput
from publisher.i18n import _

CONFIG_FILE = Path("config") / "publisher.toml"
GITIGNORE = "var/\nconfig/secrets.toml\n"
TEMPLATES_README = """Templates placed here override the shipped ones of the same path:
  <lang>/<kind>.<variant>.j2          e.g. es/apology.short.j2
  <lang>/case<N>/<kind>.<variant>.j2  e.g. en/case2/apology.long.j2
Variants: short (X, Mastodon), long (Facebook, email, site), title.
"""
_PACKAGE = Path(__file__).resolve().parent.parent


def shipped_path(name: str) -> Path:
    """`templates` or `config`, from the wheel if installed, else from the checkout."""
    inside = _PACKAGE / "_shipped" / name
    if inside.exists():
        return inside
    return _PACKAGE.parent / name


def enclosing_workspace(folder: Path) -> Path | None:
    """The nearest folder from `folder` upwards holding config/publisher.toml."""
    for candidate in (folder, *folder.parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    return None


def refuse_nested(directory: Path) -> None:
    outer = enclosing_workspace(directory.parent) if directory.parent != directory else None
    if outer is not None:
        raise BadInput(_("{directory} is inside the workspace {outer}; a workspace cannot hold another one, "
                         "choose a folder outside it.").format(directory=directory, outer=outer))


PRACTICE_TABLE = ("[workspace]\npractice = true                 # a rehearsal: signing may be off, every output "
                  "says PRACTICE first\n\n")
PRACTICE_SIGNING = 'signing = "none"                # unsigned, self-declared approvals (practice only)\n'


def create_workspace(directory: Path, practice: bool = False) -> Path:
    """A workspace from the shipped example config; with `practice`, a practice one
    (`[workspace] practice = true` and `[approvals] signing = "none"`)."""
    directory = directory.expanduser().resolve()
    target = directory / CONFIG_FILE
    if target.exists():
        raise BadInput(_("{target} already exists; choose an empty folder or edit that file.").format(
                           target=target))
    refuse_nested(directory)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shipped_path("config") / "publisher.toml", target)
        if practice:
            _make_practice(target)
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


def _make_practice(config: Path) -> None:
    import re

    text = config.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^\[organisation\]\n", lambda found: PRACTICE_TABLE + found.group(0), text, count=1)
    text = re.sub(r"(?m)^\[approvals\]\n", lambda found: found.group(0) + PRACTICE_SIGNING, text, count=1)
    config.write_text(text, encoding="utf-8")
