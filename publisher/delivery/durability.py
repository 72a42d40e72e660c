"""Whether the log's server keeps the promise deliveries rest on.

Guarantees: every delivery attempt is recorded before its network call, so a crash never
sends a statement twice; that holds only when a commit the server acknowledged survives
a crash of the server. A PostgreSQL server with `fsync` or `synchronous_commit` off (or
`local`, which a standby does not share) does not keep that: measured, one webhook posted
twice after the server was stopped with `-m immediate` under `synchronous_commit=off`
(1 of 2 trials; 0 of 8 on a durable server). So no delivery starts on such a server
(`refuse_unsafe_commit`, called by every run, before a draft is handed to a worker and
when a worker starts) unless `[store] allow_unsafe_commit = true`, and then every report
says so (`unsafe_commit`). The embedded SQLite log commits durably and is never refused.
The server's settings are read at most once a minute per process.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from publisher.errors import Refused
from publisher.i18n import _

if TYPE_CHECKING:
    from publisher.workspace.app import App

READ_EVERY = 60.0
_read: dict[int, tuple[float, dict[str, str] | None]] = {}


def settings(app: App) -> dict[str, str] | None:
    """The server's `fsync` and `synchronous_commit` (None for the embedded log)."""
    if app.store.backend.name != "postgresql":
        return None
    now = time.monotonic()
    found = _read.get(id(app.store))
    if found is None or now - found[0] > READ_EVERY:
        found = (now, dict(app.store.info().get("durable") or {}) or None)
        _read[id(app.store)] = found
    return found[1]


def is_unsafe(durable: dict[str, Any] | None) -> bool:
    if not durable:
        return False
    return durable["fsync"] == "off" or durable["synchronous_commit"] in ("off", "local")


def refuse_unsafe_commit(app: App) -> None:
    """Refuse, in one sentence, to deliver on a server that may lose an acknowledged commit."""
    durable = settings(app)
    if is_unsafe(durable) and not app.config.allow_unsafe_commit:
        assert durable is not None
        raise Refused(_("the PostgreSQL server of the log does not keep every commit durable (fsync {fsync}, "
                        "synchronous_commit {synchronous_commit}), so a statement could be sent twice after a crash "
                        "of the server; nothing was sent. Turn both on in postgresql.conf, or accept the risk with "
                        "[store] allow_unsafe_commit = true.").format(**durable))


def unsafe_commit(app: App) -> dict[str, str] | None:
    """The server's settings when deliveries run on it by `allow_unsafe_commit`, else None."""
    durable = settings(app)
    return durable if is_unsafe(durable) and app.config.allow_unsafe_commit else None


def unsafe_words(durable: dict[str, str]) -> str:
    """What a report says of a log whose server does not keep every commit durable."""
    return _("The log's PostgreSQL server does not keep every commit durable (fsync {fsync}, synchronous_commit "
             "{synchronous_commit}) and deliveries run on it by [store] allow_unsafe_commit = true: after a crash "
             "of the server a statement may have been sent twice.").format(**durable)
