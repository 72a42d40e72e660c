"""`publish store info` and `publish store copy --to URL`: what the workspace's log is,
and moving it to another backend while a crisis is open.

Guarantees: a copy verifies the source chain first and refuses a broken one; it copies
the rows as stored (same bytes, same hashes, same HMAC mode), only into an empty log;
and it verifies the copy before saying it is done, so the copy's head equals the
source's. The target URL's password is a `${NAME}` reference or libpq's own
mechanism, and never appears in any output.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher.errors import BadInput, CheckFailed
from publisher.i18n import _
from publisher.log.store import Store, StoreKeyError, StoreUnavailable, open_store
from publisher.workspace.app import App
from publisher.workspace.witness import WITNESSED


@dataclass(frozen=True)
class Copied:
    rows: int
    head: str
    target: str
    config_line: str
    """What to write in every machine's config to use the copy (`[store] url = ...`, its
    password kept as the `${NAME}` reference it was given as; `[store] path` for a file)."""


def store_info(app: App) -> dict[str, Any]:
    store = app.store
    details = store.info()
    last = store.events(kind=WITNESSED, newest_first=True, limit=1)
    details["last_witness"] = ({"seq": last[0].seq, "at": last[0].ts, "covers": last[0].data.get("seq"),
                                "tsa": last[0].data.get("tsa")} if last else None)
    return details


def copy_store(app: App, to: str) -> Copied:
    source = app.store
    checked = source.verify()
    if not checked.ok:
        raise CheckFailed(_("The log does not verify ({problem}); nothing was copied.").format(problem=checked.problem))
    target = _open_target(app, to)
    try:
        if target.head()[0]:
            raise BadInput(_("{target} already holds events; copy into an empty database.").format(
                target=target.backend.location))
        rows = source.copy_to(target)
        copied = target.verify()
    except StoreUnavailable as error:
        raise BadInput(app.redact(str(error))) from None
    finally:
        target.close()
    if not copied.ok or copied.head != checked.head:
        raise CheckFailed(_("The copy does not verify ({problem}); point no machine at it.").format(
            problem=copied.problem or "its head differs"))
    return Copied(rows, copied.head, target.backend.location, _config_line(to, target.backend.location))


def _config_line(to: str, location: str) -> str:
    """The config line that points at the copy. A literal password given in `--to` is
    never printed: `${PG_PASSWORD}` stands in for it, to be set in each machine's
    environment or secrets file."""
    import re
    from urllib.parse import urlsplit

    if not to.startswith(("postgresql://", "postgres://")):
        return f'path = "{to}"'
    try:
        parts = urlsplit(to)
        password = parts.password
    except ValueError:
        return f'url = "{location}"'
    if password is not None and not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", password):
        user, host = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0], parts.netloc.rsplit("@", 1)[1]
        to = parts._replace(netloc=f"{user}:${{PG_PASSWORD}}@{host}").geturl()
    return f'url = "{to}"'


def _open_target(app: App, to: str) -> Store:
    key = None
    if app.config.store_key_reference:
        key = app.resolve(app.config.store_key_reference, "[store] hmac_key").encode()
    resolved = app.resolve(to, "--to")
    path = app.config.store_path
    url = resolved if resolved.startswith(("postgresql://", "postgres://")) else None
    if url is None:
        path = (app.workspace / Path(resolved).expanduser()).resolve()
        if path == app.config.store_path.resolve():
            raise BadInput(_("--to names the workspace's own log; give another file or a postgresql:// URL."))
    try:
        return open_store(path=path, url=url, key=key)
    except StoreKeyError as error:
        raise BadInput(_("--to: {error}.").format(error=error)) from None
    except StoreUnavailable as error:
        raise BadInput(app.redact(str(error))) from None
