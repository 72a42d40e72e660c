"""What a heard item's text becomes before it is stored: plain, bounded, safe to show.

Guarantees: `plain_text` turns HTML (a Mastodon status, a news entry, an e-mail's HTML part)
into the text a reader sees: tags dropped, `<script>`/`<style>` content dropped, block
elements and `<br>` become line breaks, entities decoded. `clean_text` removes control
characters and bidirectional overrides (keeping line breaks), collapses runs of blank lines and cuts the text
at `sources.MAX_TEXT` characters, saying so. Neither ever raises on malformed input: broken
markup is read as far as it goes. What is stored is text, never markup, so every page and
report escapes it like any other value.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

from channels.sources import MAX_TEXT

_BLOCKS = frozenset({
    "p", "div", "br", "li", "ul", "ol", "blockquote", "pre", "tr", "table", "section", "article",
    "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
})
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
CUT_MARK = " […]"


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def plain_text(html: str, limit: int = MAX_TEXT) -> str:
    """The readable text of an HTML fragment or document, cleaned by `clean_text`."""
    collector = _TextCollector()
    read_html(collector, html)
    return clean_text("".join(collector.parts), limit)


def read_html(reader: HTMLParser, document: str) -> None:
    """Feed `document` to `reader` whole; hostile markup that html.parser gives up on
    leaves what was read before it."""
    try:
        reader.feed(document)
        reader.close()
    except Exception:  # noqa: BLE001 - html.parser on hostile markup: keep what was read
        pass


def clean_text(text: str, limit: int = MAX_TEXT) -> str:
    """`text` without control characters, with tidy spacing, at most `limit` characters."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    if len(text) > limit:
        text = text[: limit - len(CUT_MARK)].rstrip() + CUT_MARK
    return text


def clean_line(text: str, limit: int = 200) -> str:
    """A one-line value (an author's name, a subject): no line breaks, at most `limit`."""
    return clean_text(" ".join(text.split()), limit)
