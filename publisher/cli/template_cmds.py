"""`publish templates list|show KIND`: the templates and the variables each one takes."""
from __future__ import annotations

import click

from publisher.cli.output import emit_json, say, table
from publisher.cli.session import session
from publisher.i18n import N_, _


@click.group("templates")
def templates() -> None:
    """The templates each case uses and their variables, per language."""


@templates.command("list")
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def templates_list(as_json: bool) -> None:
    """Every template kind per case and language, with its required and optional variables."""
    from publisher.drafting.variables import overview

    rows = overview(session().app.workspace)
    if as_json:
        emit_json(rows)
        return
    table([[row["kind"], str(row["case"]), row["language"], row["version"], ", ".join(row["required"]) or "-",
            ", ".join(row["optional"]) or "-"] for row in rows],
          [_("kind"), _("case"), _("lang"), _("version"), _("required"), _("optional")])


@templates.command("show")
@click.argument("kind", metavar="KIND")
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def templates_show(kind: str, as_json: bool) -> None:
    """One kind's variables for each case and language: what each is for and where it comes from."""
    from publisher.drafting.variables import overview
    from publisher.i18n import _

    rows = overview(session().app.workspace, kind)
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        say(_("{kind} · case {case} · {language} ({version})").format(**row))
        for name in row["required"] + row["optional"]:
            need = _("required") if name in row["required"] else _("optional")
            given = f"--var {name}=..." if row["from"][name] == "--var" else row["from"][name]
            say(f"  {name:<12} {need:<9} {given}: {row['help'][name]}")
        if not row["required"] + row["optional"]:
            say(_("  no variables besides the incident's"))


COMMANDS = [templates]
