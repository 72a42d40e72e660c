"""How each platform counts the length of a text.

Every counter errs on the long side where the platform's own rule cannot be matched
exactly, so a text we accept is never refused by the platform for its length.
- `x`: X's weighted count (twitter-text v3): NFC-normalised; code points in the Latin,
  general punctuation and a few other ranges weigh 1, everything else 2 (CJK, emoji);
  an emoji's modifiers, variation selectors and zero-width joiners add nothing; every
  URL counts 23.
- `mastodon`: code points, every URL 23, a mention counts only its local part.
- `utf16`: UTF-16 code units (Telegram, Discord).
- `chars`: code points.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Callable

URL = re.compile(r"(?i)\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]'»”]")
URL_LENGTH = 23
MENTION = re.compile(r"(?<![\w@])@(\w+)@[\w.-]+\w")

_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_ZERO_WIDTH_AFTER_EMOJI = re.compile("[\u200d\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f\u20e3]")


def _x_weight(char: str) -> int:
    point = ord(char)
    return 1 if any(low <= point <= high for low, high in _LIGHT_RANGES) else 2


def x_length(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for match in URL.finditer(text):
        total += _x_plain_length(text[position:match.start()]) + URL_LENGTH
        position = match.end()
    return total + _x_plain_length(text[position:])


def _x_plain_length(text: str) -> int:
    total = 0
    previous_heavy = False
    for char in text:
        if previous_heavy and _ZERO_WIDTH_AFTER_EMOJI.match(char):
            continue
        weight = _x_weight(char)
        total += weight
        previous_heavy = weight == 2
    return total


def mastodon_length(text: str) -> int:
    text = URL.sub("x" * URL_LENGTH, text)
    text = MENTION.sub(lambda match: "@" + match.group(1), text)
    return len(text)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


COUNTERS: dict[str, Callable[[str], int]] = {
    "x": x_length,
    "mastodon": mastodon_length,
    "utf16": utf16_length,
    "chars": len,
}

DESCRIPTIONS = {
    "x": "X weighted characters",
    "mastodon": "Mastodon characters",
    "utf16": "UTF-16 units",
    "chars": "characters",
}


def measure(text: str, counting: str) -> int:
    return COUNTERS[counting](text)
