"""Image cards: a statement's text drawn on 1080 × 1350 JPEG images in the organisation's style.

Guarantees:
- The same text, organisation, style and font give the same bytes (no time, no metadata,
  a fixed JPEG quality): a resend writes identical files.
- The text is wrapped at word boundaries (a word wider than a line is cut between
  characters) and keeps its paragraphs. The type size is fixed, large enough to read on a
  phone: a longer text gets more cards (an Instagram carousel, at most `MAX_CARDS`),
  never a smaller size, and never loses a word. Each card also holds at most
  `ALT_TEXT_LIMIT` characters, so the part it shows is its whole alt text.
- Cards are JPEG, 4:5, sRGB: the only image format and the tallest aspect ratio the
  Instagram Graph API publishes.
- The font is a TrueType file: the `font` setting, else DejaVu Sans from Debian's
  `fonts-dejavu-core` (or the same file where other systems keep it). No font found is a
  `CardError` saying which package to install.
Pillow is imported inside the functions: loading this module costs nothing.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 1080, 1350
MARGIN = 96
TEXT_SIZE = 42
HEADER_SIZE = 38
LINE_SPACING = 1.4
HEADER_HEIGHT = 150
FOOTER_HEIGHT = 110
MAX_CARDS = 10
ALT_TEXT_LIMIT = 1000
JPEG_QUALITY = 90
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
    "/opt/homebrew/share/fonts/DejaVuSans.ttf",
)


class CardError(ValueError):
    """The cards cannot be made (no font, a text too long for a carousel, a bad colour)."""


@dataclass(frozen=True)
class Style:
    """The organisation's look: background, text and accent colours (#RRGGBB), and the font file."""

    background: str = "#FFFFFF"
    text: str = "#1A1A1A"
    accent: str = "#0B3D91"
    font: str | None = None


@dataclass(frozen=True)
class Card:
    """One rendered card: the part of the statement it shows (its alt text) and its JPEG bytes."""

    text: str
    data: bytes


def font_file(chosen: str | None = None) -> Path:
    """The TrueType file the cards are drawn with; `CardError` when there is none."""
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise CardError(f"the card font {chosen} does not exist")
        return path
    for candidate in FONT_FILES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise CardError("no font for the cards: install DejaVu Sans (Debian and Ubuntu: apt-get install "
                    "fonts-dejavu-core) or set the channel's font to a .ttf file")


def render_cards(text: str, organisation: str, style: Style = Style()) -> list[Card]:
    """The cards showing `text`, in order; `CardError` when it needs more than `MAX_CARDS`."""
    from PIL import ImageFont

    path = font_file(style.font)
    try:
        body = ImageFont.truetype(str(path), TEXT_SIZE)
        header = ImageFont.truetype(str(path), HEADER_SIZE)
    except OSError as error:
        raise CardError(f"the card font {path} cannot be read: {error}") from None
    colours = tuple(_colour(getattr(style, name), name) for name in ("background", "text", "accent"))
    pages = paginate(text, lambda line: body.getlength(line))
    if len(pages) > MAX_CARDS:
        raise CardError(f"the text needs {len(pages)} cards and an Instagram carousel takes at most {MAX_CARDS}")
    alts = [text] if len(pages) == 1 and len(text) <= ALT_TEXT_LIMIT else [_alt_text(page) for page in pages]
    return [Card(alt, _draw(lines, organisation, index, len(pages), body, header, colours))
            for index, (alt, lines) in enumerate(zip(alts, pages, strict=True), start=1)]


def lines_per_card() -> int:
    return int((HEIGHT - HEADER_HEIGHT - FOOTER_HEIGHT - 2 * MARGIN) // (TEXT_SIZE * LINE_SPACING))


Line = tuple[str, bool]
"""One line of a card and whether a paragraph ends with it."""


def paginate(text: str, width_of: Any) -> list[list[Line]]:
    """`text` wrapped into lines no wider than the card's text area, then cut into cards
    of at most `lines_per_card()` lines and `ALT_TEXT_LIMIT` characters; an empty line
    between paragraphs never starts a card."""
    usable = WIDTH - 2 * MARGIN
    lines: list[Line] = []
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        wrapped = _wrap(paragraph, usable, width_of) or [""]
        lines.extend((line, index == len(wrapped) - 1) for index, line in enumerate(wrapped))
    pages: list[list[Line]] = [[]]
    for line in lines:
        page = pages[-1]
        if page and (len(page) >= lines_per_card() or len(_alt_text(page + [line])) > ALT_TEXT_LIMIT):
            pages.append(page := [])
        if page or line[0]:
            page.append(line)
    return [page for page in pages if page]


def _wrap(paragraph: str, usable: float, width_of: Any) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in paragraph.split():
        candidate = f"{current} {word}" if current else word
        if width_of(candidate) <= usable:
            current = candidate
            continue
        if current:
            lines.append(current)
        while width_of(word) > usable:
            cut = max([1] + [n for n in range(1, len(word)) if width_of(word[:n]) <= usable])
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


def _alt_text(lines: list[Line]) -> str:
    """What a card shows, as text: wrapped lines joined by a space, paragraphs by a line break."""
    return "".join(line + ("\n" if ends else " ") for line, ends in lines).strip()


def _draw(lines: list[Line], organisation: str, index: int, total: int, body: Any, header: Any,
          colours: tuple[tuple[int, int, int], ...]) -> bytes:
    from PIL import Image, ImageDraw

    background, ink, accent = colours
    image = Image.new("RGB", (WIDTH, HEIGHT), background)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, HEADER_HEIGHT), fill=accent)
    if organisation:
        draw.text((MARGIN, HEADER_HEIGHT // 2), organisation, font=header, fill=background, anchor="lm")
    step = TEXT_SIZE * LINE_SPACING
    top = HEADER_HEIGHT + MARGIN
    for number, (line, _ends) in enumerate(lines):
        draw.text((MARGIN, top + number * step), line, font=body, fill=ink)
    draw.line((MARGIN, HEIGHT - FOOTER_HEIGHT, WIDTH - MARGIN, HEIGHT - FOOTER_HEIGHT), fill=accent, width=4)
    if total > 1:
        draw.text((WIDTH - MARGIN, HEIGHT - FOOTER_HEIGHT // 2), f"{index}/{total}", font=header, fill=accent,
                  anchor="rm")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False, subsampling=0)
    return out.getvalue()


def _colour(value: str, name: str) -> tuple[int, int, int]:
    text = value.strip().lstrip("#")
    if len(text) != 6 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise CardError(f"card_{name}: expected a colour such as #0B3D91, got {value!r}")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
