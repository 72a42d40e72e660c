"""`publish reply ITEM`: answer one heard item on its platform, approved like any statement."""
from __future__ import annotations

import click

from publisher.i18n import N_


@click.command("reply")
@click.argument("key", metavar="ITEM")
@click.option("--template", default="reply", show_default=True, metavar="KIND", help=N_("The template to answer with."))
@click.option("--var", "variables", multiple=True, metavar="KEY=VALUE", help=N_("Template variable; repeatable."))
@click.option("--lang", metavar="LANG", help=N_("Language of the templates (default: the incident's)."))
@click.option("--allow-language", is_flag=True,
              help=N_("Accept --var values written in another language than the statement's."))
@click.option("--dry-run", is_flag=True, help=N_("Preview only; store nothing."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the draft as JSON."))
def reply(key: str, template: str, variables: tuple[str, ...], lang: str | None, allow_language: bool,
          dry_run: bool, as_json: bool) -> None:
    """Answer ITEM (#N or platform:id) where it was said: a draft of kind reply, approved like any statement."""
    from publisher.cli.draft_view import reply_flow
    from publisher.drafting.rendering import parse_vars

    reply_flow(key, template=template, variables=parse_vars(variables), language=lang, dry_run=dry_run,
               as_json=as_json, allow_language=allow_language)


COMMANDS = [reply]
