"""Writing a report to a file the person chose, without ever touching the evidence.

Guarantees: a report is never written over or into anything the workspace owns: the
store's folder (the log, its head file, any anchor or lock beside it), the config folder
(config, secrets, allowed signers, playbooks), the workspace's templates, and every file or
folder a channel writes (the site, the outbox). The path is judged after following
symbolic links, and an existing file that is the same file as an owned one (a hard link)
is refused too. The report is written atomically: a reader sees the old file or the whole
new report, never a part of it.
"""
from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from channels.base import write_atomically
from publisher.errors import BadInput
from publisher.i18n import _

if TYPE_CHECKING:
    from publisher.workspace.app import App

CHANNEL_PATH_KEYS = ("path", "tls_ca_file")


def owned_paths(app: App) -> list[Path]:
    """Every file and folder the workspace keeps, resolved: each path the config names
    (store, head anchors, secrets, signers...), the store's and the config's folders, the
    templates, and each channel's files."""
    config = app.config
    owned = [config.store_path.parent, config.file.parent, app.workspace / "templates"]
    owned += [value for item in fields(config) if item.name != "workspace"
              and isinstance(value := getattr(config, item.name), Path)]
    for channel in config.channels.values():
        for key in CHANNEL_PATH_KEYS:
            value = channel.raw.get(key)
            if isinstance(value, str) and value:
                owned.append(app.workspace / value)
    return [Path(os.path.realpath(path)) for path in owned]


def refusal(target: Path, owned: Iterable[Path]) -> Path | None:
    """The owned path `target` would write over or into, or None."""
    resolved = Path(os.path.realpath(target))
    for path in owned:
        if resolved == path or path in resolved.parents:
            return path
        try:
            if target.exists() and path.exists() and os.path.samefile(target, path):
                return path
        except OSError:
            continue
    return None


def write_report(app: App, output: str, text: str) -> None:
    """Write `text` to `output`, atomically; `BadInput` when the path belongs to the
    workspace or cannot be written."""
    target = Path(output).expanduser()
    if not target.is_absolute():
        target = Path.cwd() / target
    hit = refusal(target, owned_paths(app))
    if hit is not None:
        raise BadInput(_("-o {output}: refused, it would overwrite {owned}, which the workspace keeps; "
                         "write the report somewhere else.").format(output=output, owned=hit))
    if target.is_dir():
        raise BadInput(_("-o {output}: is a folder; name a file.").format(output=output))
    if not target.parent.is_dir():
        raise BadInput(_("-o {output}: cannot write it (no folder {folder}).").format(
            output=output, folder=target.parent))
    try:
        write_atomically(target, text.encode("utf-8"), mode=0o644)
    except OSError as error:
        raise BadInput(_("-o {output}: cannot write it ({reason}).").format(
            output=output, reason=error.strerror or error)) from None
