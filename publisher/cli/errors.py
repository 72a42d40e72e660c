"""Turning the core's named errors into exit codes and one clear line."""
from __future__ import annotations

import os
from typing import Any

import click

from publisher.errors import PublishError


class CommandError(click.ClickException):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class PublishGroup(click.Group):
    """A group whose commands never show a traceback: named errors keep their exit
    code; anything unexpected is reported in one line (PUBLISH_DEBUG=1 re-raises)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PublishError as error:
            raise CommandError(_redact(ctx, str(error)), error.exit_code) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as error:
            if os.environ.get("PUBLISH_DEBUG"):
                raise
            raise CommandError(_redact(ctx, f"unexpected {type(error).__name__}: {error}; "
                                      "nothing was lost from the log (PUBLISH_DEBUG=1 shows details)."), 1) from None


def _redact(ctx: click.Context, text: str) -> str:
    from publisher.cli.session import Session

    found = ctx.find_object(Session)
    return found.redact(text) if found else text
