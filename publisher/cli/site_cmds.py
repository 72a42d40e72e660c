"""`publish site build [DIR]` and `publish outbox build [DIR]`: the statements page and the
outbox, written from the log."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from publisher.cli.output import emit_json, say
from publisher.cli.session import session
from publisher.i18n import N_, _

if TYPE_CHECKING:
    from publisher.delivery.site_build import Built

CHANNEL = click.option("--channel", "channel", metavar="NAME",
                       help=N_("The channel to build (default: the only one of its type)."))
AS_JSON = click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
FOLDER = click.argument("folder", metavar="[DIR]", required=False, type=click.Path(file_okay=False, path_type=Path))


@click.group("site")
def site() -> None:
    """The statements page (a `site` channel), built from the log."""


@site.command("build")
@FOLDER
@CHANNEL
@AS_JSON
def site_build(folder: Path | None, channel: str | None, as_json: bool) -> None:
    """Write the statements page and its feed from the log into DIR (default: the
    channel's `path`): the same bytes on every machine that shares the log."""
    from publisher.delivery.site_build import build_site

    built = build_site(session().app, channel, folder)
    _said(built, as_json, _("Built the statements page of {channel} in {folder}: {count} statement(s), from the "
                            "log up to row {seq}."))


@click.group("outbox")
def outbox() -> None:
    """The outbox (an `outbox` channel), rebuilt from the log."""


@outbox.command("build")
@FOLDER
@CHANNEL
@AS_JSON
def outbox_build(folder: Path | None, channel: str | None, as_json: bool) -> None:
    """Write one file per statement delivered on the outbox channel from the log into DIR
    (default: the channel's `path`), each with the log head that delivered it."""
    from publisher.delivery.site_build import build_outbox

    built = build_outbox(session().app, channel, folder)
    _said(built, as_json, _("Built the outbox of {channel} in {folder}: {count} statement(s), from the log up to "
                            "row {seq}."))


def _said(built: Built, as_json: bool, words: str) -> None:
    if as_json:
        emit_json({"channel": built.channel, "folder": str(built.folder), "statements": built.statements,
                   "head": {"seq": built.head[0], "hash": built.head[1]}})
        return
    say(words.format(channel=built.channel, folder=built.folder, count=built.statements, seq=built.head[0]))


COMMANDS = [site, outbox]
