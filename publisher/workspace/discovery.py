"""Finding the workspace a folder belongs to.

Guarantees: a workspace is the nearest folder, the given one or one of its parents,
that holds `config/publisher.toml`; nothing else (a stray `config/` folder without that
file) makes one. `publish init` never nests a workspace inside another.
"""
from __future__ import annotations

from pathlib import Path

from publisher.errors import BadInput
from publisher.i18n import _
from publisher.workspace.config import CONFIG_FILE


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
