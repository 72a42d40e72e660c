"""Masking many secrets in one pass over a text.

Guarantees: `redact()` covers every occurrence of every secret with the mask, overlapping
and nested ones included (the union of all their spans is masked, so no fragment of any
secret survives beside a longer one). The cost of one call grows with the length of the
text and with the few lengths of the secrets that start alike, not with the number of
secrets: they are indexed once by their first `GRAM` characters and their length, and
the text is read once (or, when the secrets start in at most `FIND_LIMIT` ways, searched
for each start with `str.find`, which reads it in C). The index for a set of secrets is built
once per process and shared by everything holding that same set (`matcher_for`).
"""
from __future__ import annotations

from typing import Iterable

MASK = "***"
GRAM = 4
FIND_LIMIT = 48
CACHED_SETS = 8


class SecretMatcher:
    def __init__(self, secrets: Iterable[str]):
        by_gram: dict[str, dict[int, set[str]]] = {}
        short: list[str] = []
        for secret in {s for s in secrets if s}:
            if len(secret) >= GRAM:
                by_gram.setdefault(secret[:GRAM], {}).setdefault(len(secret), set()).add(secret)
            else:
                short.append(secret)
        self._by_gram = {gram: tuple((length, frozenset(found)) for length, found in sorted(lengths.items(),
                                                                                           reverse=True))
                         for gram, lengths in by_gram.items()}
        self._short = tuple(short)
        self._few_starts = len(self._by_gram) <= FIND_LIMIT

    def __bool__(self) -> bool:
        return bool(self._by_gram or self._short)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where secrets occur in `text`, as (start, end), the longest at each start."""
        found: list[tuple[int, int]] = []
        if self._few_starts:
            for gram, bucket in self._by_gram.items():
                start = text.find(gram)
                while start >= 0:
                    for length, same_length in bucket:
                        if text[start:start + length] in same_length:
                            found.append((start, start + length))
                            break
                    start = text.find(gram, start + 1)
        else:
            lookup = self._by_gram.get
            for start in range(len(text) - GRAM + 1):
                candidates = lookup(text[start:start + GRAM])
                if candidates:
                    for length, same_length in candidates:
                        if text[start:start + length] in same_length:
                            found.append((start, start + length))
                            break
        for secret in self._short:
            start = text.find(secret)
            while start >= 0:
                found.append((start, start + len(secret)))
                start = text.find(secret, start + 1)
        return found


def redact(text: str, *matchers: SecretMatcher) -> str:
    """`text` with every span any of `matchers` finds replaced by one mask per run of
    overlapping or touching spans."""
    spans: list[tuple[int, int]] = []
    for matcher in matchers:
        if matcher:
            spans += matcher.spans(text)
    if not spans:
        return text
    spans.sort()
    pieces, kept, end = [], 0, -1
    for start, stop in spans:
        if start > end:
            if end >= 0:
                pieces.append(MASK)
            pieces.append(text[kept:start])
            end = stop
        else:
            end = max(end, stop)
        kept = end
    pieces.append(MASK)
    pieces.append(text[end:])
    return "".join(pieces)


_CACHE: dict[frozenset[str], SecretMatcher] = {}


def matcher_for(secrets: frozenset[str]) -> SecretMatcher:
    """The matcher of this set of secrets, built on first use and kept for the few sets
    a process uses (every channel of a run shares the workspace's set)."""
    matcher = _CACHE.get(secrets)
    if matcher is None:
        if len(_CACHE) >= CACHED_SETS:
            _CACHE.pop(next(iter(_CACHE)))
        matcher = _CACHE[secrets] = SecretMatcher(secrets)
    return matcher
