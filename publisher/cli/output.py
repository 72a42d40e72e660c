"""Printing: plain text for people, JSON for `--json`, nothing secret in either; tables
fit the terminal and states are coloured on one (see `publisher.cli.terminal`)."""
from __future__ import annotations

import json
from typing import Any

from publisher.cli import terminal
from publisher.cli.session import session
from publisher.i18n import _


def emit_json(value: Any) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    terminal.echo(session().redact(text))


def say(text: str = "", err: bool = False) -> None:
    terminal.echo(terminal.paint_line(session().redact(text)), err=err)


def warn(warnings: list[str], as_json: bool = False) -> None:
    """Each warning on its own WARNING line; on stderr when stdout carries JSON."""
    for warning in warnings:
        say(_("WARNING: {warning}").format(warning=warning), err=as_json)


def when(moment: Any) -> str:
    """A time as people read it: the organisation's zone with its offset."""
    from publisher.timeparse import for_people

    return for_people(moment, session().app.config.timezone)


def rule(title: str) -> str:
    return f"── {title} " + "─" * max(3, 72 - len(title))


def table(rows: list[list[str]], headers: list[str]) -> None:
    """The rows under their headers, every cell redacted, written in one piece."""
    current = session()
    lines = terminal.table_lines([[current.redact(str(cell)) for cell in row] for row in rows], headers,
                                 terminal.width())
    terminal.echo("\n".join(lines))
