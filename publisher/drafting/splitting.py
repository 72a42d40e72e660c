"""One shared policy for texts longer than a channel allows.

A channel declares `overflow`: `reject` (the draft is refused, naming the channel, the
count and the limit), `thread` or `split` (the text is cut into numbered parts, "1/3 ",
"2/3 "..., each within the limit, counted by the channel's own rule).

Guarantees:
- Nothing is lost: the parts, without their numbers, hold every character of the text
  in order; only the whitespace at a cut is left out. A line break inside a part stays.
- Cuts fall at the strongest boundary that still fills a good share of a part:
  paragraph, then line, then sentence, then clause (, ; :), then word. A word is cut
  only when it alone is longer than a part, and then between grapheme clusters: an
  emoji sequence (a family, a flag, a skin tone) or a letter with its accent is never
  cut in two.
- No orphan: the last part never holds fewer than `MIN_WORDS` words while the part
  before it has words to spare ("3/3 publicarlo." does not happen).
- The parts are decided at render time, shown in the preview with their counts and
  covered by the approval.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from publisher.errors import BadInput
from publisher.i18n import _

Measure = Callable[[str], int]

MIN_WORDS = 3
GOOD_FILL = 0.5
_BOUNDARIES: list[tuple[int, re.Pattern[str]]] = [
    (4, re.compile(r"\n[ \t]*\n\s*")),
    (3, re.compile(r"[ \t]*\n\s*")),
    (2, re.compile(r"(?<=[.!?…])[\"'”»)\]]*\s+")),
    (1, re.compile(r"(?<=[,;:])\s+")),
    (0, re.compile(r"\s+")),
]


class TooLong(BadInput):
    pass


@dataclass(frozen=True)
class Cut:
    """A place a long text may be split, and how good a place it is."""

    start: int
    end: int
    level: int


def fit(text: str, limit: int | None, measure: Measure, overflow: str, what: str) -> tuple[str, ...]:
    """The parts `text` is published as on a channel with this limit and policy."""
    if limit is None or measure(text) <= limit:
        return (text,)
    if overflow == "reject":
        raise TooLong(_("{what} is {length} long, over the limit of {limit}; shorten the template or "
                        "the variables.").format(what=what, length=measure(text), limit=limit))
    for width in (1, 2, 3):
        budget = limit - measure(f"{'9' * width}/{'9' * width} ")
        chunks = split(text, budget, measure)
        if len(str(len(chunks))) <= width:
            break
    total = len(chunks)
    return tuple(f"{number}/{total} {chunk}" for number, chunk in enumerate(chunks, start=1))


def split(text: str, budget: int, measure: Measure) -> list[str]:
    """`text` cut into pieces of at most `budget`, at the best boundaries, no orphan at the end."""
    cuts = _cuts(text)
    spans: list[tuple[int, int]] = []
    start = 0
    while start < len(text):
        end, resume = _next_cut(text, start, cuts, budget, measure)
        spans.append((start, end))
        start = resume
    spans = _adopt_orphan(text, spans, cuts, budget, measure)
    return [text[a:b].strip() for a, b in spans if text[a:b].strip()]


def _cuts(text: str) -> list[Cut]:
    strongest: dict[int, Cut] = {}
    for level, pattern in _BOUNDARIES:
        for match in pattern.finditer(text):
            if match.start() > 0 and match.end() < len(text) and match.start() not in strongest:
                strongest[match.start()] = Cut(match.start(), match.end(), level)
    return sorted(strongest.values(), key=lambda cut: cut.start)


def _next_cut(text: str, start: int, cuts: list[Cut], budget: int, measure: Measure) -> tuple[int, int]:
    """Where the piece beginning at `start` ends, and where the next one begins."""
    if measure(text[start:].strip()) <= budget:
        return len(text), len(text)
    fitting: list[Cut] = []
    for cut in cuts:
        if cut.start <= start:
            continue
        if measure(text[start:cut.start].strip()) > budget:
            break
        fitting.append(cut)
    for level in (4, 3, 2, 1, 0):
        best = [cut for cut in fitting if cut.level >= level]
        if best and (level == 0 or measure(text[start:best[-1].start]) >= budget * GOOD_FILL):
            return best[-1].start, best[-1].end
    end = _hard_cut(text, start, budget, measure)
    return end, end


def _hard_cut(text: str, start: int, budget: int, measure: Measure) -> int:
    import regex

    clusters = regex.finditer(r"\X", text, pos=start)
    end = next(clusters).end()
    for cluster in clusters:
        if measure(text[start:cluster.end()]) > budget:
            break
        end = cluster.end()
    return end


def _adopt_orphan(text: str, spans: list[tuple[int, int]], cuts: list[Cut], budget: int,
                  measure: Measure) -> list[tuple[int, int]]:
    """Move the end of the second-to-last piece into a last piece of too few words."""
    if len(spans) < 2 or _words(text, *spans[-1]) >= MIN_WORDS:
        return spans
    (first_start, first_end), (_, last_end) = spans[-2], spans[-1]
    inside = [cut for cut in cuts if first_start < cut.start < first_end]
    for level in (4, 3, 2, 1, 0):
        for cut in reversed([cut for cut in inside if cut.level >= level]):
            tail_ok = measure(text[cut.end:last_end].strip()) <= budget
            if tail_ok and _words(text, cut.end, last_end) >= MIN_WORDS \
                    and _words(text, first_start, cut.start) >= MIN_WORDS:
                return spans[:-2] + [(first_start, cut.start), (cut.end, last_end)]
            if not tail_ok:
                break
    return spans


def _words(text: str, start: int, end: int) -> int:
    return len(text[start:end].split())
