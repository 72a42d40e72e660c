"""A command group that imports a command's module only when that command runs.

Guarantees: the group knows every command's name, module and English short help from
a table, so `publish --help` in English lists them all without importing any of their
modules; `publish CMD ...` imports only CMD's module. A command is localised (its help
texts swapped for the interface's language) the moment it is loaded. In another
language the listing loads the commands, since their translations are keyed on the full
help texts. tests/test_cli_lazy.py checks that the table says what the commands say."""
from __future__ import annotations

from importlib import import_module
from typing import Any

import click

from publisher.cli.errors import PublishGroup


class LazyGroup(PublishGroup):
    """`lazy`: command name -> (module under publisher.cli, "help" or "short_help", English text)."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self._load(cmd_name)
        return self.commands.get(cmd_name)

    def _load(self, cmd_name: str) -> None:
        from publisher.cli.help_text import localise

        module = import_module(f"publisher.cli.{self.lazy[cmd_name][0]}")
        for command in module.COMMANDS:
            if command.name not in self.commands:
                self.add_command(command)
                localise(command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from publisher.i18n import current_language

        if current_language() != "en":
            for name in self.lazy:
                self.get_command(ctx, name)
            return super().format_commands(ctx, formatter)
        stand_ins = {name: self.commands.get(name) or _stand_in(name, *self.lazy[name][1:])
                     for name in self.list_commands(ctx)}
        shown = [(name, command) for name, command in stand_ins.items() if not command.hidden]
        if shown:
            limit = formatter.width - 6 - max(len(name) for name, _command in shown)
            with formatter.section(_section_title()):
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in shown])


def _stand_in(name: str, kind: str, text: str) -> click.Command:
    return click.Command(name, help=text) if kind == "help" else click.Command(name, short_help=text)


def _section_title() -> str:
    from gettext import gettext

    return gettext("Commands")
