"""`publish store info | copy --to URL`: the log's backend, and moving it."""
from __future__ import annotations

import click

from publisher.cli.output import emit_json, say
from publisher.i18n import N_


@click.group("store")
def store() -> None:
    """The log's backend: what it is, and copying it to another one."""


@store.command("info")
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def info(as_json: bool) -> None:
    """Show the backend, where the log is, its size, head, head files and last witness."""
    from publisher.cli.session import session
    from publisher.i18n import _
    from publisher.workspace.store_admin import store_info

    details = store_info(session().app)
    if as_json:
        emit_json(details)
        return
    say(_("Backend: {backend} ({location})").format(**details))
    say(_("Size: {size} bytes, {events} events, chain {chain}").format(size=details["size_bytes"], **details))
    say(_("Head: row {seq}, {hash}").format(**details["head"]))
    say(_("Head files: {files}").format(files=", ".join(details["head_files"])))
    say(_("Migrations: {names}").format(names=", ".join(details["migrations"])))
    durable = details.get("durable")
    if durable:
        say(_("Durability: fsync {fsync}, synchronous_commit {synchronous_commit}").format(**durable))
        from publisher.delivery.durability import is_unsafe

        if is_unsafe(durable):
            from publisher.cli.output import warn

            warn([_("the PostgreSQL server does not keep every commit durable (fsync {fsync}, synchronous_commit "
                    "{synchronous_commit}): a delivery attempt recorded before its network call can be lost in a "
                    "crash of the server, and the statement then sent twice.").format(**durable)])
    witness = details["last_witness"]
    say(_("Last witness: row {seq} at {at} by {tsa}").format(**witness) if witness else _("Last witness: none"))


@store.command("copy")
@click.option("--to", "to", required=True, metavar="URL",
              help=N_("postgresql://USER@HOST/DB (an empty database; password as ${NAME}), or an SQLite file."))
def copy(to: str) -> None:
    """Copy the log, verified before and after, into an empty store."""
    from publisher.cli.session import session
    from publisher.i18n import _
    from publisher.workspace.store_admin import copy_store

    copied = copy_store(session().app, to)
    say(_("Copied {rows} events to {target}; the copy verifies, head {head}.").format(
        rows=copied.rows, target=copied.target, head=copied.head))
    say(_("Point every machine at it: in config/publisher.toml, [store] {line}").format(line=copied.config_line))


COMMANDS = [store]
