"""One shared policy for texts longer than a channel allows.

A channel declares `overflow`: `reject` (the draft is refused, naming the channel, the
count and the limit), `thread` or `split` (the text is cut into numbered parts, "1/3 ",
"2/3 "..., each within the limit). Cuts fall between paragraphs, then lines, then
sentences, then words; a word is cut only when it alone is longer than a part. The
parts are decided at render time, shown in the preview and covered by the approval.
"""
from __future__ import annotations

import re
from typing import Callable

from publisher.errors import BadInput

Measure = Callable[[str], int]

_SEPARATORS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\n\s*\n"), "\n\n"),
    (re.compile(r"\n"), "\n"),
    (re.compile(r"(?<=[.!?…])\s+"), " "),
    (re.compile(r"\s+"), " "),
]


class TooLong(BadInput):
    pass


def fit(text: str, limit: int | None, measure: Measure, overflow: str, what: str) -> tuple[str, ...]:
    """The parts `text` is published as on a channel with this limit and policy."""
    if limit is None or measure(text) <= limit:
        return (text,)
    if overflow == "reject":
        raise TooLong(f"{what} is {measure(text)} long, over the limit of {limit}; "
                      "shorten the template or the variables.")
    for width in (1, 2, 3):
        reserve = measure(f"{'9' * width}/{'9' * width} ")
        chunks = _pack(text, limit - reserve, measure, 0)
        if len(str(len(chunks))) <= width:
            break
    total = len(chunks)
    return tuple(f"{number}/{total} {chunk}" for number, chunk in enumerate(chunks, start=1))


def _pack(text: str, budget: int, measure: Measure, level: int) -> list[str]:
    if measure(text) <= budget:
        return [text]
    if level == len(_SEPARATORS):
        return _cut_word(text, budget, measure)
    pattern, joiner = _SEPARATORS[level]
    pieces = [piece for piece in pattern.split(text) if piece.strip()]
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{joiner}{piece}" if current else piece
        if measure(candidate) <= budget:
            current = candidate
            continue
        if current:
            chunks.append(current)
        if measure(piece) <= budget:
            current = piece
        else:
            *whole, current = _pack(piece, budget, measure, level + 1)
            chunks.extend(whole)
    if current:
        chunks.append(current)
    return chunks


def _cut_word(text: str, budget: int, measure: Measure) -> list[str]:
    chunks, current = [], ""
    for char in text:
        if measure(current + char) > budget:
            chunks.append(current)
            current = ""
        current += char
    return chunks + ([current] if current else [])
