"""Printing what is too long to hold: a table or a JSON array written as its rows come.

Guarantees: the output is byte for byte what `output.table` and `output.emit_json` print
for the same rows (same widths, wrapping, colours, redaction, indentation), while memory
holds one batch of lines, never every row.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Iterator

from publisher.cli import terminal
from publisher.cli.output import herald, practice_json
from publisher.cli.session import session

BATCH = 500


def streamed_table(rows: Callable[[], Iterable[list[str]]], headers: list[str]) -> None:
    """`rows()` is read twice: once to measure the columns, once to print each row."""
    herald()
    redact = session().redact
    widths = [len(str(header)) for header in headers]
    for row in rows():
        widths = [max(size, len(redact(str(cell)))) for size, cell in zip(widths, row, strict=True)]
    widths = terminal.fit(widths, terminal.width())
    cells = ([redact(str(cell)) for cell in row] for row in rows())
    _echo_batches(line for row in _with_first([str(header) for header in headers], cells)
                  for line in terminal.row_lines(row, widths))


def streamed_json(items: Iterable[Any]) -> None:
    """A JSON array of `items`, indented as `emit_json` indents a list."""
    redact = session().redact
    texts = (json.dumps(practice_json(item), indent=2, ensure_ascii=False, default=str) for item in items)
    first = next(texts, None)
    if first is None:
        terminal.echo(redact("[]"))
        return
    _echo_batches(redact(line) for line in _array_lines(first, texts))


def _array_lines(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield "["
    held = first
    for text in rest:
        yield "  " + held.replace("\n", "\n  ") + ","
        held = text
    yield "  " + held.replace("\n", "\n  ")
    yield "]"


def _with_first(first: list[str], rows: Iterable[list[str]]) -> Iterator[list[str]]:
    yield first
    yield from rows


def _echo_batches(lines: Iterable[str]) -> None:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= BATCH:
            terminal.echo("\n".join(batch))
            batch = []
    if batch:
        terminal.echo("\n".join(batch))
