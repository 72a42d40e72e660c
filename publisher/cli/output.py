"""Printing: plain text for people, JSON for `--json`, nothing secret in either; tables
fit the terminal and states are coloured on one (see `publisher.cli.terminal`).

Every command's output goes through here (and `publisher.cli.streamed`), so a practice
workspace says so first once for the whole invocation: the practice line before the
first line of text on stdout, `"practice": true` first in every JSON object (in each
object of a top-level array), and a report carries its own line (`document`)."""
from __future__ import annotations

import json
from typing import Any

from publisher.cli import terminal
from publisher.cli.session import session
from publisher.i18n import _


def herald() -> None:
    """The practice line, once, before a practice workspace's first line on stdout
    (wrapped to the terminal's width, like a table)."""
    current = session()
    if current.practice and not current.heralded:
        from publisher.workspace.practice import notice

        current.heralded = True
        size = terminal.width()
        lines = terminal.wrap(notice(), size) if size else [notice()]
        terminal.echo("\n".join(terminal.paint_line(line) for line in lines))


def practice_json(value: Any) -> Any:
    """`value` as a practice workspace prints it (see `publisher.workspace.practice.marked`)."""
    current = session()
    if not current.practice:
        return value
    from publisher.workspace.practice import marked

    current.heralded = True
    return marked(value)


def emit_json(value: Any) -> None:
    text = json.dumps(practice_json(value), indent=2, ensure_ascii=False, default=str)
    terminal.echo(session().redact(text))


def document(text: str) -> None:
    """A whole document (a report) on stdout; it says itself that it is practice."""
    session().heralded = True
    terminal.echo(text, nl=not text.endswith("\n"))


def say(text: str = "", err: bool = False) -> None:
    if not err:
        herald()
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
    herald()
    current = session()
    lines = terminal.table_lines([[current.redact(str(cell)) for cell in row] for row in rows], headers,
                                 terminal.width())
    terminal.echo("\n".join(lines))
