"""Printing: plain text for people, JSON for `--json`, nothing secret in either."""
from __future__ import annotations

import json
from typing import Any

import click

from publisher.cli.session import session


def emit_json(value: Any) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    click.echo(session().redact(text))


def say(text: str = "", err: bool = False) -> None:
    click.echo(session().redact(text), err=err)


def rule(title: str) -> str:
    return f"── {title} " + "─" * max(3, 72 - len(title))


def table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    for row in [headers, *rows]:
        say("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
