"""How text meets the terminal: its width, colour, and a reader that went away.

Guarantees: a table never runs past the terminal's width (its widest columns wrap,
nothing is cut off); a pipe gets the full table unless `COLUMNS` says otherwise.
Colour marks states (red failing, yellow waiting, green done) only on a terminal and
never when `NO_COLOR` is set. When the reader of a pipe stops (`publish ... | head`),
the rest of the output is dropped quietly and the command still finishes its work.

Why the table is laid out here and not by rich's `Table` (measured 2026-12-05, 2,000 rows
of `incident list`, same machine and load): this layout takes 0.015-0.026 s, rich's
`Table` (no box, folding cells, the same widths) 3.3-3.9 s, 150-200 times slower per row,
so `incident list` over a log of 1,000,000 events (about 15,000 incidents) would go from
about a second to tens of seconds; and importing `rich.console` and `rich.table` adds
80-95 ms to every read command that prints a table (`status`, `drafts list`, `incident
list`), which load no terminal UI (`tests/test_read_imports.py`). rich stays where it
buys something: the live delivery display on a terminal (`publisher.delivery.progress`).
"""
from __future__ import annotations

import os
import sys
from typing import IO

import click

GAP = 2
MIN_COLUMN = 8
RED, YELLOW, GREEN = "red", "yellow", "green"
STATE_COLOURS = {
    "FAILED": RED, "FAIL": RED, "LATE": RED, "DONE LATE": RED, "failing": RED, "failed-permanent": RED,
    "WARNING": YELLOW, "UNCONFIRMED": YELLOW, "DUE": YELLOW, "PENDING": YELLOW, "unconfirmed": YELLOW,
    "unknown": YELLOW, "failed-retryable": YELLOW, "held": YELLOW, "not sent": YELLOW, "busy": YELLOW,
    "ok": GREEN, "delivered": GREEN, "PASS": GREEN, "DONE": GREEN, "WAIVED": GREEN,
    "PRACTICE": YELLOW, "PRÁCTICA": YELLOW,
}
LINE_PREFIXES = ("WARNING", "UNCONFIRMED", "PRACTICE", "PRÁCTICA")


def width() -> int | None:
    """The width to fit: `COLUMNS` when set, else the terminal's; None in a pipe."""
    wanted = os.environ.get("COLUMNS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    stream = sys.stdout
    if stream.isatty():
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError):
            return None
    return None


def colour_allowed() -> bool:
    return not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def paint(text: str, padded: str | None = None) -> str:
    """`padded` (the text with its padding) with the text coloured when it names a state."""
    shown = text if padded is None else padded
    colour = STATE_COLOURS.get(text.strip())
    if colour is None or not colour_allowed():
        return shown
    return shown.replace(text, click.style(text, fg=colour, bold=colour == RED), 1)


def paint_line(line: str) -> str:
    for prefix in LINE_PREFIXES:
        if line.startswith(prefix) and colour_allowed():
            return click.style(prefix, fg=STATE_COLOURS[prefix], bold=True) + line[len(prefix):]
    return line


def fit(widths: list[int], limit: int | None) -> list[int]:
    """Column widths within `limit`: the widest column gives way first."""
    fitted = list(widths)
    if limit is None:
        return fitted
    while sum(fitted) + GAP * (len(fitted) - 1) > limit:
        widest = max(range(len(fitted)), key=lambda index: fitted[index])
        if fitted[widest] <= MIN_COLUMN:
            break
        fitted[widest] -= 1
    return fitted


def wrap(text: str, size: int) -> list[str]:
    import textwrap

    if len(text) <= size:
        return [text]
    return textwrap.wrap(text, size, break_long_words=True, break_on_hyphens=False) or [""]


def table_lines(rows: list[list[str]], headers: list[str], limit: int | None) -> list[str]:
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = fit([max(len(cell) for cell in column) for column in zip(*cells, strict=True)], limit)
    return [line for row in cells for line in row_lines(row, widths)]


def row_lines(row: list[str], widths: list[int]) -> list[str]:
    """One table row at these column widths: a line per wrapped line of its tallest cell."""
    wrapped = [wrap(cell, size) for cell, size in zip(row, widths, strict=True)]
    lines = []
    for index in range(max(len(parts) for parts in wrapped)):
        pieces = [parts[index] if index < len(parts) else "" for parts in wrapped]
        lines.append("  ".join(paint(piece, piece.ljust(size)) for piece, size in zip(pieces, widths, strict=True)).rstrip())
    return lines


def echo(text: str, err: bool = False, nl: bool = True) -> None:
    """click.echo that drops the rest of the output quietly once the reader has gone."""
    stream: IO[str] = sys.stderr if err else sys.stdout
    try:
        click.echo(text, err=err, nl=nl)
    except BrokenPipeError:
        _to_devnull(stream)


def _to_devnull(stream: IO[str]) -> None:
    try:
        target = os.open(os.devnull, os.O_WRONLY)
        os.dup2(target, stream.fileno())
    except (OSError, ValueError):
        pass
