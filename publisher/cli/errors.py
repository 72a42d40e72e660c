"""Turning the core's named errors into exit codes and one clear line."""
from __future__ import annotations

import os
from typing import Any

import click

from publisher.errors import PublishError


class CommandError(click.ClickException):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click types it as a class constant; each error carries its own


class JsonError(click.ClickException):
    """An error of a command run with --json: one JSON object on stderr."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click types it as a class constant; each error carries its own

    def show(self, file: Any = None) -> None:
        import json

        click.echo(json.dumps({"error": self.message, "exit": self.exit_code}, ensure_ascii=False), err=True)


def _wants_json(ctx: click.Context) -> bool:
    """Whether the command that will run was given --json: its arguments are parsed
    once ahead (resiliently, nothing runs), so a `--json` that is some option's value
    does not count. Read before the group consumes the arguments."""
    if ctx.params.get("as_json"):
        return True
    args = [*getattr(ctx, "_protected_args", []), *ctx.args]
    current: click.Context = ctx
    try:
        while isinstance(current.command, click.Group) and args:
            name, command, args = current.command.resolve_command(current, args)
            if command is None or name is None:
                return False
            current = command.make_context(name, list(args), parent=current, resilient_parsing=True)
            args = [*getattr(current, "_protected_args", []), *current.args]
    except click.ClickException:
        return "--json" in args
    return current is not ctx and bool(current.params.get("as_json"))


class PublishGroup(click.Group):
    """A group whose commands never show a traceback: named errors keep their exit
    code; anything unexpected is reported in one line (PUBLISH_DEBUG=1 re-raises)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        from publisher.cli.help_text import start_run

        start_run(self)
        return super().main(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            _check_arguments(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        as_json = _wants_json(ctx)
        try:
            return self._invoke_named(ctx)
        except click.ClickException as error:
            if as_json:
                raise JsonError(error.format_message(), error.exit_code) from None
            if isinstance(error, click.UsageError):
                raise CommandError(error.format_message(), error.exit_code) from None
            raise

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        """A bad flag of the command line itself is one sentence too, without click's usage lines."""
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as error:
            if parent is not None:
                raise
            raise CommandError(error.format_message(), error.exit_code) from None

    def _invoke_named(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PublishError as error:
            raise CommandError(_redact(ctx, str(error)), error.exit_code) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, BrokenPipeError):
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as error:
            if os.environ.get("PUBLISH_DEBUG"):
                raise
            from publisher.i18n import _

            raise CommandError(_redact(ctx, _("unexpected {kind}: {error}; nothing was lost from the log "
                                              "(PUBLISH_DEBUG=1 shows details).").format(
                kind=type(error).__name__, error=error)), 1) from None


def _check_arguments(args: list[str]) -> None:
    """Every argument obeys the shared input rule (no control characters)."""
    from publisher.errors import BadInput
    from publisher.workspace.inputs import check_text

    for index, arg in enumerate(args):
        flag = arg.split("=", 1)[0] if arg.startswith("--") and "=" in arg else (
            args[index - 1] if index and args[index - 1].startswith("-") else f"argument {index + 1}")
        try:
            check_text(arg, flag)
        except BadInput as error:
            raise CommandError(str(error), error.exit_code) from None


def _redact(ctx: click.Context, text: str) -> str:
    from publisher.cli.session import Session

    found = ctx.find_object(Session)
    return found.redact(text) if found else text
