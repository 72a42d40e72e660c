"""LinkedIn's "little" text format, in which the Posts API takes a post's commentary.

Guarantees: `escape(text)` is the commentary that LinkedIn shows as exactly `text`:
every character little reserves for mentions, hashtags and templates is preceded by a
backslash (learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/
little-text-format), so an unescaped one can neither turn into markup nor make LinkedIn
cut the post short at it; `unescape` reads a commentary back to the text it shows.
"""
from __future__ import annotations

import re

RESERVED = frozenset("\\|{}@[]()<>#*_~")
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def escape(text: str) -> str:
    return "".join("\\" + character if character in RESERVED else character for character in text)


def unescape(commentary: str) -> str:
    return _ESCAPED.sub(lambda match: match.group(1), commentary)
